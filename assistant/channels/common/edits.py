"""Keyed edits: where a message with a ``Reply.key`` went, so a later reply can edit it.

:class:`SentMessages` remembers ``(address, key) → (chat, message, choice set)``
in Redis for :data:`KEY_TTL`. A volunteer's offer is sent with the key
``offer:<id>``; when someone else takes the task, a reply with the same key and
``edit=True`` turns that very message into "already taken", and the offer's
choices are forgotten. Chat and message ids are kept as text, whatever the
network's own types.

Versioned keys (``Reply.version``, e.g. a notice's progress count) are ordered:
:meth:`SentMessages.admit` compares and sets the key's last version in one
Redis script, so an edit that a slow worker delivers after a newer one is
skipped. The same version again (a retried delivery) is admitted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import redis.asyncio as aioredis

KEY_TTL = 30 * 24 * 3600

_ADMIT = """
local last = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) < last then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""


@dataclass(frozen=True)
class Remembered:
    """Where a keyed message went, and the token set of its choices."""

    chat: str
    message: str
    set_id: str = ""


class SentMessages:
    """Remembers keyed messages of one network (``namespace``, e.g. ``tg:``)."""

    def __init__(self, client: aioredis.Redis, namespace: str, ttl: int = KEY_TTL) -> None:
        self.client = client
        self.ttl = ttl
        self.prefix = f"{namespace}msg:"

    async def remember(self, address: str, key: str, where: Remembered) -> None:
        """Keep where the message with this key went."""
        body = json.dumps({"chat": where.chat, "msg": where.message, "set": where.set_id})
        await self.client.set(f"{self.prefix}{address}|{key}", body, ex=self.ttl)

    async def find(self, address: str, key: str) -> Remembered | None:
        """Where the message with this key went, if still known."""
        raw = await self.client.get(f"{self.prefix}{address}|{key}")
        if raw is None:
            return None
        data = json.loads(raw)
        return Remembered(str(data["chat"]), str(data["msg"]), str(data.get("set", "")))

    async def admit(self, address: str, key: str, version: int) -> bool:
        """Whether a message of this key and version is not older than the last one admitted."""
        name = f"{self.prefix}v:{address}|{key}"
        admitted = await self.client.eval(_ADMIT, 1, name, version, self.ttl)  # type: ignore[misc]
        return bool(admitted)
