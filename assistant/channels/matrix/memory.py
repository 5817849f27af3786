"""What the Matrix parts keep in Redis, shared by the bot process and every worker.

On top of the channel core's memories (choices, keyed edits, send-once marks,
shared limits; all under ``mx:``), Matrix needs:

* the latest message each person was sent (``mx:latest:<address>``): its event
  and the labels of its numbered choices, so a typed "2" or label is read
  against what the person last saw, as on the console;
* the direct room of each person (``mx:dm`` hash), found again after a restart
  from the bot's ``m.direct`` account data on the homeserver when Redis lost it;
* the events already handled (``mx:seen:<event id>``), so a sync that returns
  an event again (a restart between the sync and its handling) does not
  answer it twice;
* the queue of messages that workers hand to the bot process (``mx:outq``):
  only the bot process holds the device's encryption keys.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from assistant.channels.common.choices import ChoiceMemory
from assistant.channels.common.edits import SentMessages
from assistant.channels.common.limits import Rates, SharedLimits
from assistant.channels.common.once import SendOnce

NAMESPACE = "mx:"
OUTQ = NAMESPACE + "outq"
SEEN_TTL = 7 * 24 * 3600
LATEST_TTL = 30 * 24 * 3600
REDIS_CONNECTIONS = 32


@dataclass(frozen=True)
class Latest:
    """The latest message sent to a person: its event and its choices' labels."""

    event: str
    labels: tuple[str, ...] = ()


def redis_client(redis_url: str, connections: int = REDIS_CONNECTIONS) -> aioredis.Redis:
    """An asyncio Redis client whose callers wait for a free connection under bursts."""
    pool = aioredis.BlockingConnectionPool.from_url(
        redis_url, max_connections=connections, timeout=30
    )
    return aioredis.Redis(connection_pool=pool)


class Memory:
    """The Redis-backed memories of one Matrix bot account."""

    def __init__(self, client: aioredis.Redis, section: Mapping[str, Any]) -> None:
        self.client = client
        bot = str(section["user_id"]) or "bot"
        self.limits = SharedLimits(client, Rates.from_settings(section), f"mx:rate:{bot}")
        self.choices = ChoiceMemory(client, NAMESPACE)
        self.sent = SentMessages(client, NAMESPACE)
        self.once = SendOnce(client, NAMESPACE)

    async def set_latest(self, address: str, latest: Latest) -> None:
        """Note the latest message sent to ``address``."""
        body = json.dumps({"event": latest.event, "labels": list(latest.labels)})
        await self.client.set(f"{NAMESPACE}latest:{address}", body, ex=LATEST_TTL)

    async def latest(self, address: str) -> Latest | None:
        """The latest message sent to ``address``, if known."""
        raw = await self.client.get(f"{NAMESPACE}latest:{address}")
        if raw is None:
            return None
        data = json.loads(raw)
        return Latest(str(data["event"]), tuple(str(label) for label in data.get("labels", [])))

    async def first_time(self, event_id: str) -> bool:
        """Whether this event is seen for the first time (and mark it seen)."""
        return bool(await self.client.set(f"{NAMESPACE}seen:{event_id}", 1, nx=True, ex=SEEN_TTL))

    async def direct_room(self, user_id: str) -> str | None:
        """The direct room with ``user_id`` kept here, if any."""
        raw = await self.client.hget(f"{NAMESPACE}dm", user_id)
        return raw.decode() if isinstance(raw, bytes) else raw

    async def set_direct_room(self, user_id: str, room_id: str) -> None:
        """Keep the direct room with ``user_id``."""
        await self.client.hset(f"{NAMESPACE}dm", user_id, room_id)

    async def forget_direct_room(self, user_id: str, room_id: str) -> None:
        """Forget the direct room with ``user_id`` if it is still ``room_id``."""
        if await self.direct_room(user_id) == room_id:
            await self.client.hdel(f"{NAMESPACE}dm", user_id)

    async def direct_user(self, room_id: str) -> str | None:
        """The person whose direct room ``room_id`` is (a scan; rooms are few per bot)."""
        found = await self.client.hgetall(f"{NAMESPACE}dm")
        for user, room in found.items():
            if _text(room) == room_id:
                return _text(user)
        return None


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
