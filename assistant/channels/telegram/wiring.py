"""Building the Telegram parts from settings: Redis client, limits, rate limiter, bot.

Shared by the bot process (:mod:`.channel`) and the workers (:mod:`.delivery`)
so both talk to the same Bot API server (``base_url``, ``base_file_url``)
under the same limits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import redis.asyncio as aioredis
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from assistant.channels.telegram.buttons import ButtonTokens, SentMessages
from assistant.channels.telegram.limits import Rates, SharedLimits, SharedRateLimiter

CONNECTIONS = 16
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


def rate_limiter(client: aioredis.Redis, section: Mapping[str, Any]) -> SharedRateLimiter:
    """The rate limiter every process of this bot shares."""
    limits = SharedLimits(client, Rates.from_settings(section), bot_id(str(section["token"])))
    return SharedRateLimiter(limits)


class GatedHTTPXRequest(HTTPXRequest):
    """PTB's httpx client with a gate in front: at most ``connections`` requests inside.

    httpcore's pool rescans every queued request on each change, so hundreds of
    concurrent sends queued inside it cost time quadratic in the queue; waiting
    at an asyncio semaphore instead costs nothing.
    """

    def __init__(self, connections: int, **options: Any) -> None:
        super().__init__(connection_pool_size=connections, **options)
        self._gate = asyncio.Semaphore(connections)

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        """Make one request once a connection is free."""
        async with self._gate:
            return await super().do_request(*args, **kwargs)


def request(connections: int = CONNECTIONS) -> HTTPXRequest:
    """An HTTP client for Bot API calls with enough connections for concurrent sends."""
    return GatedHTTPXRequest(connections, read_timeout=10.0, write_timeout=10.0)


def ext_bot(section: Mapping[str, Any], limiter: SharedRateLimiter) -> ExtBot[int]:
    """A PTB bot on the configured Bot API server, sending through ``limiter``."""
    return ExtBot(
        token=str(section["token"]),
        base_url=str(section["base_url"]),
        base_file_url=str(section["base_file_url"]),
        request=request(),
        get_updates_request=HTTPXRequest(connection_pool_size=1, read_timeout=30.0),
        rate_limiter=limiter,
    )


def stores(client: aioredis.Redis) -> tuple[ButtonTokens, SentMessages]:
    """The Redis-backed button tokens and remembered messages."""
    return ButtonTokens(client), SentMessages(client)
