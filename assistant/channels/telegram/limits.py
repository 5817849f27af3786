"""Telegram's flood limits, shared by every process through one Redis script.

Telegram allows about 30 messages a second per bot, about one a second per
chat and 20 a minute per group, tolerates short bursts, and answers 429 with
``retry_after`` beyond that. :class:`SharedLimits` keeps one GCRA bucket per
bot, chat and group in Redis; a Lua script takes a slot from every bucket a
call counts against in one atomic step (or takes none and says how long to
wait), using Redis's clock so every process agrees on the time.

:class:`SharedRateLimiter` plugs this into python-telegram-bot: it wraps PTB's
own :class:`~telegram.ext.AIORateLimiter` (in-process smoothing and its pause
on 429) and asks Redis for a slot right before each request goes out, so the
bot process and every worker together stay under the limits.

What counts: new messages (``sendMessage``, ``sendPhoto``, ``sendVoice``)
against the bot, the chat and (for groups) the group; edits against the chat
only; answers to button presses against nothing.
"""

from __future__ import annotations

import asyncio
import logging
import math
import warnings
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import redis.asyncio as aioredis
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter, BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger(__name__)

PREFIX = "tg:rate:"
SENDS = frozenset({"sendMessage", "sendPhoto", "sendVoice", "sendLocation", "sendDocument"})
EDITS = frozenset({"editMessageText", "editMessageReplyMarkup", "editMessageCaption"})

# KEYS: one bucket per key. ARGV: interval_ms and burst for each key, in order.
# Returns 0 when a slot was taken from every bucket, else the milliseconds to
# wait before asking again (and nothing is taken).
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local wait = 0
local tats = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local tolerance = interval * (tonumber(ARGV[2 * i]) - 1)
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  tats[i] = tat
  local w = tat - tolerance - now
  if w > wait then wait = w end
end
if wait > 0 then return math.ceil(wait) end
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local tolerance = interval * (tonumber(ARGV[2 * i]) - 1)
  local tat = tats[i] + interval
  redis.call('SET', key, string.format('%.3f', tat), 'PX', math.ceil(tat - now + tolerance) + 1000)
end
return 0
"""

# KEYS[1]: a bucket; ARGV: pause_ms, interval_ms, burst. Push the bucket so the
# next slot frees only after the pause (Telegram's retry_after).
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tolerance = tonumber(ARGV[2]) * (tonumber(ARGV[3]) - 1)
local tat = now + tonumber(ARGV[1]) + tolerance
local old = tonumber(redis.call('GET', KEYS[1]) or '0')
if old > tat then tat = old end
redis.call('SET', KEYS[1], string.format('%.3f', tat), 'PX', math.ceil(tat - now + tolerance) + 1000)
return 1
"""


class TooLongWait(Exception):
    """The limits would make this call wait longer than the caller accepts."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"would wait {seconds:.1f} s")
        self.seconds = seconds


@dataclass(frozen=True)
class Rates:
    """The limits to keep, from ``[telegram]`` settings, with burst allowances."""

    per_second: float = 30.0
    chat_per_second: float = 1.0
    group_per_minute: float = 20.0
    burst: int = 3
    chat_burst: int = 3
    group_burst: int = 3

    @staticmethod
    def from_settings(section: Any) -> Rates:
        """Read the three ``max_*`` keys; bursts are a tenth of a second's worth, at least 3."""
        per_second = float(section["max_messages_per_second"])
        chat = float(section["max_chat_messages_per_second"])
        group = float(section["max_group_messages_per_minute"])
        return Rates(
            per_second=per_second,
            chat_per_second=chat,
            group_per_minute=group,
            burst=max(3, math.ceil(per_second / 10)),
            chat_burst=max(3, math.ceil(chat / 10)),
            group_burst=max(3, math.ceil(group / 600)),
        )


class SharedLimits:
    """The buckets in Redis, taken by any process."""

    def __init__(self, client: aioredis.Redis, rates: Rates, bot_id: str) -> None:
        self.client = client
        self.rates = rates
        self.bot_id = bot_id
        self._take = client.register_script(_TAKE)
        self._pause = client.register_script(_PAUSE)

    def _buckets(self, chat_id: int | str, new_message: bool) -> list[tuple[str, float, int]]:
        """(key, interval in ms, burst) of every bucket a call counts against."""
        rates = self.rates
        base = f"{PREFIX}{self.bot_id}:"
        buckets = [(f"{base}chat:{chat_id}", 1000 / rates.chat_per_second, rates.chat_burst)]
        if new_message:
            buckets.append((f"{base}bot", 1000 / rates.per_second, rates.burst))
            if _is_group(chat_id):
                interval = 60_000 / rates.group_per_minute
                buckets.append((f"{base}group:{chat_id}", interval, rates.group_burst))
        return buckets

    async def acquire(
        self, chat_id: int | str, new_message: bool = True, max_wait: float | None = None
    ) -> float:
        """Wait for a slot in every bucket of this call; return the seconds waited.

        Raises:
            TooLongWait: the next slot is further away than ``max_wait`` seconds.
        """
        buckets = self._buckets(chat_id, new_message)
        keys = [key for key, _, _ in buckets]
        args: list[float | int] = []
        for _, interval, burst in buckets:
            args += [interval, burst]
        waited = 0.0
        while True:
            wait_ms = int(await self._take(keys=keys, args=args))
            if wait_ms <= 0:
                return waited
            if max_wait is not None and waited + wait_ms / 1000 > max_wait:
                raise TooLongWait(waited + wait_ms / 1000)
            await asyncio.sleep(wait_ms / 1000)
            waited += wait_ms / 1000

    async def pause(self, chat_id: int | str, seconds: float) -> None:
        """Telegram said 429: every process waits ``seconds`` before writing to this chat,
        and before its next new message to anyone (a 429 does not say which limit it was;
        PTB's own limiter pauses everything too).
        """
        for key, interval, burst in self._buckets(chat_id, new_message=True)[:2]:
            await self._pause(keys=[key], args=[seconds * 1000, interval, burst])


def retry_seconds(error: RetryAfter) -> float:
    """``retry_after`` in seconds, whichever type this PTB version gives."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _is_group(chat_id: int | str) -> bool:
    """Group and channel ids are negative (or ``@username`` strings)."""
    if isinstance(chat_id, str):
        return not chat_id.lstrip("-").isdigit() or chat_id.startswith("-")
    return chat_id < 0


Callback = Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]]


class SharedRateLimiter(BaseRateLimiter[int]):
    """PTB's AIORateLimiter in front, the Redis buckets right before each request."""

    def __init__(self, limits: SharedLimits, max_retries: int = 2) -> None:
        rates = limits.rates
        self.limits = limits
        self.local = AIORateLimiter(
            overall_max_rate=rates.per_second,
            overall_time_period=1,
            group_max_rate=rates.group_per_minute,
            group_time_period=60,
            max_retries=max_retries,
        )

    async def initialize(self) -> None:
        """Start the in-process limiter."""
        await self.local.initialize()

    async def shutdown(self) -> None:
        """Stop the in-process limiter."""
        await self.local.shutdown()

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Run one Bot API request once the local and the shared limits allow it."""
        chat_id = data.get("chat_id")
        if chat_id is None or (endpoint not in SENDS and endpoint not in EDITS):
            return await callback(*args, **kwargs)
        new_message = endpoint in SENDS

        async def shared(*a: Any, **k: Any) -> bool | dict[str, Any] | list[dict[str, Any]]:
            await self.limits.acquire(chat_id, new_message)
            try:
                return await callback(*a, **k)
            except RetryAfter as error:
                pause = retry_seconds(error)
                log.info("Telegram asked to wait %.0f s (429)", pause)
                await self.limits.pause(chat_id, pause)
                raise

        if not new_message:
            return await shared(*args, **kwargs)
        return await self.local.process_request(
            shared, args, kwargs, endpoint, data, rate_limit_args
        )
