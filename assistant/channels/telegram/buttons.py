"""Button tokens and remembered messages, kept server-side in Redis.

Callback data never carries trust. Each button of a message gets a short
random token; Redis maps it to the recipient's address and the button's
value for :data:`TOKEN_TTL`. A press is turned back into the value only when
the presser is that recipient, and consuming one token forgets every token of
the same keyboard, so a keyboard can be used once. A stale, foreign or forged
token yields nothing.

:class:`SentMessages` remembers ``(address, Reply.key) → message id`` so a
later reply with the same key can edit that message instead of sending one.
"""

from __future__ import annotations

import enum
import json
import secrets
from dataclasses import dataclass

import redis.asyncio as aioredis

TOKEN_TTL = 30 * 24 * 3600
KEY_TTL = 30 * 24 * 3600
TOKEN_PREFIX = "tg:btn:"
SET_PREFIX = "tg:btnset:"
SENT_PREFIX = "tg:msg:"

# KEYS[1]: the token. ARGV: presser, token prefix, set prefix.
# Returns {0} unknown, {1} someone else's, {2, value} consumed (with its keyboard).
_CONSUME = """
local raw = redis.call('GET', KEYS[1])
if not raw then return {0} end
local record = cjson.decode(raw)
if record['to'] ~= ARGV[1] then return {1} end
local set_key = ARGV[3] .. record['set']
for _, token in ipairs(redis.call('SMEMBERS', set_key)) do
  redis.call('DEL', ARGV[2] .. token)
end
redis.call('DEL', set_key, KEYS[1])
return {2, record['value'], record['lang'] or ''}
"""


class Press(enum.Enum):
    """What a pressed token turned out to be."""

    UNKNOWN = "unknown"  # expired, already used, or never issued
    FOREIGN = "foreign"  # issued to someone else
    VALID = "valid"


@dataclass(frozen=True)
class Pressed:
    """The outcome of a press: its kind and, when valid, the button's value."""

    kind: Press
    value: str = ""
    language: str = ""


class ButtonTokens:
    """Issues and consumes button tokens."""

    def __init__(self, client: aioredis.Redis, ttl: int = TOKEN_TTL) -> None:
        self.client = client
        self.ttl = ttl
        self._consume = client.register_script(_CONSUME)

    async def issue(
        self, recipient: str, values: list[str], language: str = ""
    ) -> tuple[str, list[str]]:
        """One token per value, all in one keyboard set; return (set id, tokens)."""
        set_id = secrets.token_urlsafe(9)
        tokens = [secrets.token_urlsafe(12) for _ in values]
        async with self.client.pipeline(transaction=False) as pipe:
            for token, value in zip(tokens, values, strict=True):
                record = json.dumps(
                    {"to": recipient, "value": value, "set": set_id, "lang": language}
                )
                pipe.set(TOKEN_PREFIX + token, record, ex=self.ttl)
            pipe.sadd(SET_PREFIX + set_id, *tokens)
            pipe.expire(SET_PREFIX + set_id, self.ttl)
            await pipe.execute()
        return set_id, tokens

    async def consume(self, token: str, presser: str) -> Pressed:
        """Turn a pressed token back into its value, once, for its recipient only."""
        if not token or len(token) > 64:
            return Pressed(Press.UNKNOWN)
        result = await self._consume(
            keys=[TOKEN_PREFIX + token], args=[presser, TOKEN_PREFIX, SET_PREFIX]
        )
        code = int(result[0])
        if code == 2:
            value, language = (_text(part) for part in result[1:3])
            return Pressed(Press.VALID, value, language)
        return Pressed(Press.FOREIGN if code == 1 else Press.UNKNOWN)

    async def forget(self, set_id: str) -> None:
        """Drop every token of one keyboard (the message was edited)."""
        if not set_id:
            return
        tokens = await self.client.smembers(SET_PREFIX + set_id)
        keys = [TOKEN_PREFIX + _text(token) for token in tokens]
        await self.client.delete(SET_PREFIX + set_id, *keys)


@dataclass(frozen=True)
class Remembered:
    """Where a keyed message went, and its keyboard's token set."""

    chat_id: int
    message_id: int
    set_id: str = ""


class SentMessages:
    """Remembers keyed messages so they can be edited later."""

    def __init__(self, client: aioredis.Redis, ttl: int = KEY_TTL) -> None:
        self.client = client
        self.ttl = ttl

    async def remember(self, address: str, key: str, where: Remembered) -> None:
        """Keep where the message with this key went."""
        body = json.dumps({"chat": where.chat_id, "msg": where.message_id, "set": where.set_id})
        await self.client.set(f"{SENT_PREFIX}{address}|{key}", body, ex=self.ttl)

    async def find(self, address: str, key: str) -> Remembered | None:
        """Where the message with this key went, if still known."""
        raw = await self.client.get(f"{SENT_PREFIX}{address}|{key}")
        if raw is None:
            return None
        data = json.loads(raw)
        return Remembered(int(data["chat"]), int(data["msg"]), str(data.get("set", "")))


def _text(value: object) -> str:
    """A Redis reply as text."""
    return value.decode() if isinstance(value, bytes) else str(value)
