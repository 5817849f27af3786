"""One direct room per person, found again after restarts.

The room a person talks in is kept in Redis (``mx:dm``) and, durably, in the
bot account's ``m.direct`` account data on the homeserver, which survives a
lost Redis and a new machine. A person who invites the bot to a direct room
gets that room; a person the bot must write to first (a volunteer who never
wrote) gets a new encrypted direct room with an invitation. A room the bot
is no longer in is never used.
"""

from __future__ import annotations

import asyncio
import json
import logging

from nio import AsyncClient, DirectRoomsResponse, RoomCreateError, RoomPreset
from nio.api import Api

from assistant.channels.matrix.memory import Memory

log = logging.getLogger(__name__)

ENCRYPTED = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}
JOIN_WAIT = 15.0  # seconds for a new room to reach the sync before sending into it


class NoRoom(RuntimeError):
    """The homeserver would not make a direct room with that person."""


class DirectRooms:
    """Finds or makes the direct room of each person, for the bot process."""

    def __init__(self, client: AsyncClient, memory: Memory) -> None:
        self.client = client
        self.memory = memory
        self._locks: dict[str, asyncio.Lock] = {}

    async def room_for(self, user_id: str) -> str:
        """The direct room with ``user_id``: kept, from ``m.direct``, or made now.

        Raises:
            NoRoom: none is kept and the homeserver refused to make one.
        """
        lock = self._locks.setdefault(user_id, asyncio.Lock())
        async with lock:
            kept = await self.memory.direct_room(user_id)
            if kept and self._usable(kept):
                return kept
            for room_id in await self._marked(user_id):
                if self._usable(room_id):
                    await self.memory.set_direct_room(user_id, room_id)
                    return room_id
            return await self._make(user_id)

    async def adopt(self, user_id: str, room_id: str) -> None:
        """``user_id`` invited the bot to a direct room: it is their room from now on."""
        await self.memory.set_direct_room(user_id, room_id)
        await self._mark(user_id, room_id)

    async def adopt_if_unknown(self, user_id: str, room_id: str) -> None:
        """A person wrote in a two-person room: keep it as theirs when none is kept."""
        if await self.memory.direct_room(user_id) is None:
            await self.adopt(user_id, room_id)

    def _usable(self, room_id: str) -> bool:
        return room_id in self.client.rooms

    async def _marked(self, user_id: str) -> list[str]:
        answer = await self.client.list_direct_rooms()
        if isinstance(answer, DirectRoomsResponse):
            return list(answer.rooms.get(user_id, []))
        return []

    async def _make(self, user_id: str) -> str:
        answer = await self.client.room_create(
            is_direct=True,
            invite=[user_id],
            preset=RoomPreset.trusted_private_chat,
            initial_state=[ENCRYPTED],
        )
        if isinstance(answer, RoomCreateError):
            raise NoRoom(str(answer.status_code))
        room_id = str(answer.room_id)
        await self.adopt(user_id, room_id)
        await self._until_synced(room_id)
        log.info("made a direct room for a person who had none")
        return room_id

    async def _until_synced(self, room_id: str) -> None:
        """Wait for the sync loop to bring a new room in (its members and encryption)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + JOIN_WAIT
        while room_id not in self.client.rooms and loop.time() < deadline:
            try:
                await asyncio.wait_for(self.client.synced.wait(), deadline - loop.time())
            except TimeoutError:
                break

    async def _mark(self, user_id: str, room_id: str) -> None:
        """Add the room to the bot's ``m.direct`` account data (read, change, write)."""
        answer = await self.client.list_direct_rooms()
        rooms: dict[str, list[str]] = {}
        if isinstance(answer, DirectRoomsResponse):
            rooms = {user: list(ids) for user, ids in answer.rooms.items()}
        if room_id in rooms.get(user_id, []):
            return
        rooms[user_id] = [room_id, *rooms.get(user_id, [])]
        path = Api._build_path(["user", self.client.user_id, "account_data", "m.direct"])
        try:
            response = await self.client.send(
                "PUT",
                path,
                json.dumps(rooms),
                headers={
                    "Authorization": f"Bearer {self.client.access_token}",
                    "Content-Type": "application/json",
                },
            )
            response.release()
        except Exception:
            log.warning("could not mark a direct room in the bot's account data", exc_info=True)
