"""Building the Telegram parts from settings: Redis client, limits, rate limiter, bot.

Shared by the bot process (:mod:`.channel`) and the workers (:mod:`.delivery`)
so both talk to the same Bot API server (``base_url``, ``base_file_url``)
under the same limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import redis.asyncio as aioredis
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from assistant.channels.telegram.buttons import ButtonTokens, SentMessages
from assistant.channels.telegram.limits import Rates, SharedLimits, SharedRateLimiter

CONNECTIONS = 64


def bot_id(token: str) -> str:
    """The bot's numeric id, the public part of its token."""
    return token.partition(":")[0] or "bot"


def redis_client(redis_url: str) -> aioredis.Redis:
    """An asyncio Redis client for the current event loop."""
    return aioredis.Redis.from_url(redis_url)


def rate_limiter(client: aioredis.Redis, section: Mapping[str, Any]) -> SharedRateLimiter:
    """The rate limiter every process of this bot shares."""
    limits = SharedLimits(client, Rates.from_settings(section), bot_id(str(section["token"])))
    return SharedRateLimiter(limits)


def request(connections: int = CONNECTIONS) -> HTTPXRequest:
    """An HTTP client for Bot API calls with enough connections for concurrent sends."""
    return HTTPXRequest(connection_pool_size=connections, read_timeout=10.0, write_timeout=10.0)


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
