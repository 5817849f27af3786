"""Telegram's flood limits in python-telegram-bot, over the shared Redis buckets.

The buckets themselves are network-neutral (:mod:`assistant.channels.common.limits`).
Here they count Telegram's way: new messages (``sendMessage``, ``sendPhoto``,
``sendVoice`` …) against the bot, the chat and (for groups, whose ids are
negative) the group; edits against the chat only; answers to button presses
against nothing.

:class:`SharedRateLimiter` plugs this into python-telegram-bot: it wraps PTB's
own :class:`~telegram.ext.AIORateLimiter` (in-process smoothing and its pause
on 429) and takes the Redis slots right before each request goes out, so the
bot process and every worker together stay under the limits. A call whose
slot the sender already booked (:meth:`SharedLimits.reserve`, one round trip
with the reply's buttons) passes ``rate_limit_args=PREPAID`` and skips that step.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter, BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from assistant.channels.common.limits import SharedLimits

log = logging.getLogger(__name__)

NAMESPACE = "tg:rate:"
SENDS = frozenset({"sendMessage", "sendPhoto", "sendVoice", "sendLocation", "sendDocument"})
EDITS = frozenset({"editMessageText", "editMessageReplyMarkup", "editMessageCaption"})
PREPAID = 1
"""``rate_limit_args`` of a call whose shared slot was booked before it was made."""


def namespace(bot_id: str) -> str:
    """The Redis namespace of one bot's buckets (``tg:rate:<bot id>``)."""
    return NAMESPACE + bot_id


def retry_seconds(error: RetryAfter) -> float:
    """``retry_after`` in seconds, whichever type this PTB version gives."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def is_group(chat_id: int | str) -> bool:
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
        prepaid = [rate_limit_args == PREPAID]  # the booked slot is good for the first try
        group = is_group(chat_id)

        async def shared(*a: Any, **k: Any) -> bool | dict[str, Any] | list[dict[str, Any]]:
            if not prepaid[0]:
                await self.limits.acquire(chat_id, new_message, group=group)
            prepaid[0] = False
            try:
                return await callback(*a, **k)
            except RetryAfter as error:
                pause = retry_seconds(error)
                log.info("Telegram asked to wait %.0f s (429)", pause)
                await self.limits.pause(chat_id, pause, group=group)
                raise

        if not new_message:
            return await shared(*args, **kwargs)
        return await self.local.process_request(shared, args, kwargs, endpoint, data, None)
