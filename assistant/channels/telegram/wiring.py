"""Building the Telegram parts from settings: Redis client, limits, rate limiter, bot.

Shared by the bot process (:mod:`.channel`) and the workers (:mod:`.delivery`)
so both talk to the same Bot API server (``base_url``, ``base_file_url``)
under the same limits, and keep choices, keyed edits and send-once marks in
the same Redis namespace (``tg:``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from telegram.ext import ExtBot

from assistant.channels.common.choices import ChoiceMemory
from assistant.channels.common.edits import SentMessages
from assistant.channels.common.limits import Rates, SharedLimits
from assistant.channels.common.once import SendOnce
from assistant.channels.telegram.http import CONNECTIONS, AiohttpRequest
from assistant.channels.telegram.limits import SharedRateLimiter, namespace

NAMESPACE = "tg:"
REDIS_CONNECTIONS = 32


def bot_id(token: str) -> str:
    """The bot's numeric id, the public part of its token."""
    return token.partition(":")[0] or "bot"


def redis_client(redis_url: str, connections: int = REDIS_CONNECTIONS) -> aioredis.Redis:
    """An asyncio Redis client for the current event loop.

    A blocking pool: under a burst of updates, callers wait for a free connection
    instead of failing with "too many connections".
    """
    pool = aioredis.BlockingConnectionPool.from_url(
        redis_url, max_connections=connections, timeout=30
    )
    return aioredis.Redis(connection_pool=pool)


def shared_limits(client: aioredis.Redis, section: Mapping[str, Any]) -> SharedLimits:
    """The Redis buckets of this bot, at the ``[telegram]`` limits."""
    rates = Rates.from_settings(section)
    return SharedLimits(client, rates, namespace(bot_id(str(section["token"]))))


def rate_limiter(client: aioredis.Redis, section: Mapping[str, Any]) -> SharedRateLimiter:
    """The rate limiter every process of this bot shares."""
    return SharedRateLimiter(shared_limits(client, section))


def request(connections: int = CONNECTIONS) -> AiohttpRequest:
    """An HTTP client for Bot API calls with enough connections for concurrent sends."""
    return AiohttpRequest(connections, read_timeout=10.0, write_timeout=10.0)


def ext_bot(section: Mapping[str, Any], limiter: SharedRateLimiter) -> ExtBot[int]:
    """A PTB bot on the configured Bot API server, sending through ``limiter``."""
    return ExtBot(
        token=str(section["token"]),
        base_url=str(section["base_url"]),
        base_file_url=str(section["base_file_url"]),
        request=request(),
        get_updates_request=AiohttpRequest(1, read_timeout=30.0),
        rate_limiter=limiter,
    )


@dataclass(frozen=True)
class Memory:
    """What the Telegram parts keep in Redis: choices, keyed edits, send-once marks."""

    client: aioredis.Redis
    limits: SharedLimits
    choices: ChoiceMemory
    sent: SentMessages
    once: SendOnce


def memory(client: aioredis.Redis, limiter: SharedRateLimiter) -> Memory:
    """The Redis-backed memories of this bot, on one client."""
    return Memory(
        client,
        limiter.limits,
        ChoiceMemory(client, NAMESPACE),
        SentMessages(client, NAMESPACE),
        SendOnce(client, NAMESPACE),
    )
