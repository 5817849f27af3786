"""Keyed edits: where a message with a ``Reply.key`` went, so a later reply can edit it.

:class:`SentMessages` remembers ``(address, key) → (chat, message, choice set)``
in Redis for :data:`KEY_TTL`. A volunteer's offer is sent with the key
``offer:<id>``; when someone else takes the task, a reply with the same key and
``edit=True`` turns that very message into "already taken", and the offer's
choices are forgotten. Chat and message ids are kept as text, whatever the
network's own types.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import redis.asyncio as aioredis

KEY_TTL = 30 * 24 * 3600


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
