"""Flood limits shared by every process of one network, through Redis scripts.

Chat networks limit how fast a bot may write: Telegram allows about 30
messages a second per bot, about one a second per chat and 20 a minute per
group. :class:`SharedLimits` keeps one GCRA bucket per bot, chat and group in
Redis, under a namespace of the network and bot (``tg:rate:<bot id>:…``), so
the bot process and every worker on every machine stay under the limits
together. The scripts read Redis's clock, so every process agrees on the time.

Two ways to take slots:

* :meth:`SharedLimits.acquire` takes one slot from every bucket a call counts
  against in one atomic step, or takes none and waits as long as Redis says;
* :meth:`SharedLimits.reserve` books slots for several messages at once and
  says, per message, how long to wait before sending it. Its command can ride
  in a pipeline with other commands (:meth:`SharedLimits.queue_reserve`), so a
  reply's limits and its buttons cost one Redis round trip together.

What counts is the network's business (Telegram: new messages against the bot,
the chat and the group; edits against the chat only). The limits come from
the network's settings section (``max_messages_per_second``,
``max_chat_messages_per_second``, ``max_group_messages_per_minute``).

Why a script of our own and not dramatiq's rate limiters: ``bench/bench_limits.py``
measures both for this job; the figures and the reasons are in ``docs/TELEGRAM.md``.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

# KEYS: one bucket per key. ARGV: interval_ms and burst for each key, in order.
# Returns 0 when a slot was taken from every bucket, else the milliseconds to
# wait before asking again (and nothing is taken).
TAKE = """
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

# KEYS: one bucket per key. ARGV[1]: how many messages; then interval_ms and
# burst for each key. Books one slot per message in every bucket (GCRA virtual
# scheduling) and returns, per message, the milliseconds until it may go.
RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local count = tonumber(ARGV[1])
local tats, intervals, tolerances = {}, {}, {}
for i, key in ipairs(KEYS) do
  intervals[i] = tonumber(ARGV[2 * i])
  tolerances[i] = intervals[i] * (tonumber(ARGV[2 * i + 1]) - 1)
  tats[i] = tonumber(redis.call('GET', key) or '0')
end
local waits = {}
for n = 1, count do
  local at = now
  for i = 1, #KEYS do
    if tats[i] - tolerances[i] > at then at = tats[i] - tolerances[i] end
  end
  for i = 1, #KEYS do
    local base = tats[i]
    if base < at then base = at end
    tats[i] = base + intervals[i]
  end
  waits[n] = math.ceil(at - now)
end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, string.format('%.3f', tats[i]), 'PX', math.ceil(tats[i] - now + tolerances[i]) + 1000)
end
return waits
"""

# KEYS[1]: a bucket; ARGV: pause_ms, interval_ms, burst. Push the bucket so the
# next slot frees only after the pause (a 429's retry_after).
PAUSE = """
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
    """The limits to keep, from a network's settings section, with burst allowances."""

    per_second: float = 30.0
    chat_per_second: float = 1.0
    group_per_minute: float = 20.0
    burst: int = 3
    chat_burst: int = 3
    group_burst: int = 3

    @staticmethod
    def from_settings(section: Mapping[str, Any]) -> Rates:
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


@dataclass(frozen=True)
class Bucket:
    """One GCRA bucket: its Redis key, the milliseconds between slots, the burst."""

    key: str
    interval_ms: float
    burst: int


class SharedLimits:
    """The buckets of one bot in Redis, taken by any process."""

    def __init__(self, client: aioredis.Redis, rates: Rates, namespace: str) -> None:
        """``namespace`` names the network and bot, e.g. ``tg:rate:<bot id>``."""
        self.client = client
        self.rates = rates
        self.namespace = namespace
        self._take = client.register_script(TAKE)
        self._reserve = client.register_script(RESERVE)
        self._pause = client.register_script(PAUSE)

    def buckets(self, chat: int | str, new_message: bool, group: bool) -> list[Bucket]:
        """Every bucket a call counts against: the chat's; for new messages the bot's and
        (in groups) the group's."""
        rates = self.rates
        base = f"{self.namespace}:"
        found = [Bucket(f"{base}chat:{chat}", 1000 / rates.chat_per_second, rates.chat_burst)]
        if new_message:
            found.append(Bucket(f"{base}bot", 1000 / rates.per_second, rates.burst))
            if group:
                interval = 60_000 / rates.group_per_minute
                found.append(Bucket(f"{base}group:{chat}", interval, rates.group_burst))
        return found

    async def acquire(
        self,
        chat: int | str,
        new_message: bool = True,
        max_wait: float | None = None,
        group: bool = False,
    ) -> float:
        """Wait for a slot in every bucket of this call; return the seconds waited.

        Raises:
            TooLongWait: the next slot is further away than ``max_wait`` seconds.
        """
        buckets = self.buckets(chat, new_message, group)
        keys = [bucket.key for bucket in buckets]
        args: list[float | int] = []
        for bucket in buckets:
            args += [bucket.interval_ms, bucket.burst]
        waited = 0.0
        while True:
            wait_ms = int(await self._take(keys=keys, args=args))
            if wait_ms <= 0:
                return waited
            if max_wait is not None and waited + wait_ms / 1000 > max_wait:
                raise TooLongWait(waited + wait_ms / 1000)
            await asyncio.sleep(wait_ms / 1000)
            waited += wait_ms / 1000

    async def reserve(self, chat: int | str, count: int, group: bool = False) -> list[float]:
        """Book slots for ``count`` new messages to ``chat``; seconds to wait before each."""
        if count <= 0:
            return []
        buckets = self.buckets(chat, True, group)
        waits = await self._reserve(keys=[b.key for b in buckets], args=_args(count, buckets))
        return reserved(waits)

    def queue_reserve(self, pipe: Pipeline, chat: int | str, count: int, group: bool) -> None:
        """Add a booking of ``count`` new messages to ``pipe``; its result goes to
        :func:`reserved`.

        Sent as ``EVAL`` (Redis caches the compiled script by its digest): a
        registered script in a pipeline would cost a ``SCRIPT EXISTS`` round trip
        of its own on every execute.
        """
        buckets = self.buckets(chat, True, group)
        pipe.eval(RESERVE, len(buckets), *[b.key for b in buckets], *_args(count, buckets))

    async def pause(self, chat: int | str, seconds: float, group: bool = False) -> None:
        """The network said "too many" (429): every process waits ``seconds`` before writing
        to this chat, and before its next new message to anyone (a 429 does not say which
        limit it was)."""
        for bucket in self.buckets(chat, True, group)[:2]:
            args = [seconds * 1000, bucket.interval_ms, bucket.burst]
            await self._pause(keys=[bucket.key], args=args)


def _args(count: int, buckets: list[Bucket]) -> list[float | int]:
    args: list[float | int] = [count]
    for bucket in buckets:
        args += [bucket.interval_ms, bucket.burst]
    return args


def reserved(waits: list[Any]) -> list[float]:
    """The result of a queued booking, as seconds to wait before each message."""
    return [max(0, int(ms)) / 1000 for ms in waits]
