"""Choice memory: what a pressed button (or a typed choice number) means, kept in Redis.

Nothing a person sends back carries trust. Each choice of a message gets a
token; Redis maps it to the recipient's address and the choice's value for
:data:`TOKEN_TTL`. A press is turned back into the value only when the presser
is that recipient, and consuming one token forgets every token of the same
message, so a set of choices can be used once. A stale, foreign or forged
token yields nothing.

Two kinds of token, one memory:

* a network with bot buttons (Telegram) puts random tokens in the buttons'
  callback data (:meth:`ChoiceMemory.issue`);
* a network without them (Matrix, later) shows numbered lines and remembers
  "choice 3 on message X means V" (``issue(..., message=X)``, then
  ``consume(numbered(X, 3), presser)``).

The console keeps the same promise in memory, per person, for one process
(:mod:`assistant.channels.common.numbered`), since it may run without Redis.
"""

from __future__ import annotations

import enum
import json
import secrets
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

TOKEN_TTL = 30 * 24 * 3600
MAX_TOKEN = 200

# KEYS[1]: the token. ARGV: presser, token prefix, set prefix.
# Returns {0} unknown, {1} someone else's, {2, value, language} consumed (with its set),
# {3, value, language} a group message's button, which stays for the next neighbour.
_CONSUME = """
local raw = redis.call('GET', KEYS[1])
if not raw then return {0} end
local record = cjson.decode(raw)
if record['shared'] then return {3, record['value'], record['lang'] or ''} end
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
    """The outcome of a press: its kind and, when valid, the choice's value."""

    kind: Press
    value: str = ""
    language: str = ""
    shared: bool = False
    """A button of a message to a group: anyone there may press it, and it stays."""


def numbered(message: str, number: int) -> str:
    """The token of choice ``number`` (from 1) on the message ``message``."""
    return f"{message}#{number}"


class ChoiceMemory:
    """Issues and consumes choice tokens for one network (``namespace``, e.g. ``tg:``)."""

    def __init__(self, client: aioredis.Redis, namespace: str, ttl: int = TOKEN_TTL) -> None:
        self.client = client
        self.ttl = ttl
        self.token_prefix = f"{namespace}btn:"
        self.set_prefix = f"{namespace}btnset:"
        self._consume = client.register_script(_CONSUME)

    async def issue(
        self,
        recipient: str,
        values: list[str],
        language: str = "",
        message: str = "",
        shared: bool = False,
    ) -> tuple[str, list[str]]:
        """One token per value, all in one set; return (set id, tokens)."""
        async with self.client.pipeline(transaction=False) as pipe:
            issued = self.queue_issue(pipe, recipient, values, language, message, shared)
            await pipe.execute()
        return issued

    def queue_issue(
        self,
        pipe: Pipeline,
        recipient: str,
        values: list[str],
        language: str = "",
        message: str = "",
        shared: bool = False,
    ) -> tuple[str, list[str]]:
        """Add the commands that issue tokens to ``pipe`` (one round trip with the rest).

        With ``message``, the tokens are the choice numbers on that message
        (:func:`numbered`); without, random ones. ``shared`` tokens (a group
        message's "I want some") may be pressed by anyone, any number of times;
        what they lead to is checked for the presser by the engine.
        """
        set_id = secrets.token_urlsafe(9)
        if message:
            tokens = [numbered(message, n) for n in range(1, len(values) + 1)]
        else:
            tokens = [secrets.token_urlsafe(12) for _ in values]
        for token, value in zip(tokens, values, strict=True):
            fields = {"to": recipient, "value": value, "set": set_id, "lang": language}
            record = json.dumps({**fields, "shared": True} if shared else fields)
            pipe.set(self.token_prefix + token, record, ex=self.ttl)
        if tokens:
            pipe.sadd(self.set_prefix + set_id, *tokens)
            pipe.expire(self.set_prefix + set_id, self.ttl)
        return set_id, tokens

    async def consume(self, token: str, presser: str) -> Pressed:
        """Turn a pressed token back into its value, once, for its recipient only."""
        if not token or len(token) > MAX_TOKEN:
            return Pressed(Press.UNKNOWN)
        result = await self._consume(
            keys=[self.token_prefix + token], args=[presser, self.token_prefix, self.set_prefix]
        )
        code = int(result[0])
        if code in (2, 3):
            value, language = (text(part) for part in result[1:3])
            return Pressed(Press.VALID, value, language, shared=code == 3)
        return Pressed(Press.FOREIGN if code == 1 else Press.UNKNOWN)

    async def forget(self, set_id: str) -> None:
        """Drop every token of one set (its message was edited)."""
        if not set_id:
            return
        tokens = await self.client.smembers(self.set_prefix + set_id)
        keys = [self.token_prefix + text(token) for token in tokens]
        await self.client.delete(self.set_prefix + set_id, *keys)


def text(value: object) -> str:
    """A Redis reply as text."""
    return value.decode() if isinstance(value, bytes) else str(value)
