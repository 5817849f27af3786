"""A resident (or volunteer) on Matrix, played by a real encrypting matrix-nio client.

It opens an encrypted direct room with the bot (as Element does), writes,
reacts, and collects what the bot sends, decrypted. Waiting is polling with
generous bounds, never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nio import AsyncClient, AsyncClientConfig, MatrixRoom, RoomMessage, RoomPreset
from synapse_server import Account

ENCRYPTED = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}
WAIT = 60.0


@dataclass(frozen=True)
class Said:
    """One message the bot sent: its event id and content."""

    event_id: str
    content: dict[str, Any]
    encrypted: bool

    @property
    def body(self) -> str:
        return str(self.content.get("body", ""))


class Resident:
    """One person's client."""

    def __init__(self, homeserver: str, account: Account, store: Path) -> None:
        store.mkdir(parents=True, exist_ok=True)
        config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True)
        self.account = account
        self.client = AsyncClient(homeserver, account.user_id, store_path=str(store), config=config)
        self.room_id = ""
        self.heard: list[Said] = []
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    @property
    def address(self) -> str:
        return f"matrix:{self.account.user_id}"

    async def start(self) -> None:
        self.client.restore_login(
            self.account.user_id, self.account.device_id, self.account.access_token
        )
        self.client.add_event_callback(self._on_message, RoomMessage)
        await self.client.sync(timeout=0, full_state=True)
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        self._task = asyncio.ensure_future(
            self.client.sync_forever(timeout=5000, full_state=True, loop_sleep_time=0)
        )

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        await self.client.close()

    async def _on_message(self, room: MatrixRoom, event: RoomMessage) -> None:
        if event.sender == self.client.user_id:
            return
        content = dict(event.source.get("content", {}))
        self.heard.append(Said(event.event_id, content, bool(getattr(event, "decrypted", False))))
        self._changed.set()

    async def until(self, check: Any, what: str, timeout: float = WAIT) -> None:
        """Wait until ``check()`` is true (re-checked after every sync)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not check():
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(
                    f"timed out waiting for {what}; heard {[s.body for s in self.heard]}"
                )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wait_a_sync(), min(left, 2.0))

    async def _wait_a_sync(self) -> None:
        waiter = asyncio.ensure_future(self.client.synced.wait())
        changed = asyncio.ensure_future(self._changed.wait())
        try:
            await asyncio.wait({waiter, changed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            changed.cancel()

    async def open_direct_room(
        self, bot_id: str, encrypted: bool = True, timeout: float = WAIT
    ) -> str:
        """Invite the bot to a direct room (encrypted, as Element makes them); wait for it."""
        answer = await self.client.room_create(
            is_direct=True,
            invite=[bot_id],
            preset=RoomPreset.trusted_private_chat,
            initial_state=[ENCRYPTED] if encrypted else [],
        )
        self.room_id = answer.room_id

        def joined() -> bool:
            room = self.client.rooms.get(self.room_id)
            return room is not None and bot_id in room.users and bot_id not in room.invited_users

        await self.until(joined, "the bot to join", timeout)
        return self.room_id

    async def open_group_room(self, bot_id: str, others: list[str]) -> str:
        """Make a (plain) group room, invite the bot and neighbours; wait for the bot."""
        answer = await self.client.room_create(name="锦绣家园一网格", invite=[bot_id, *others])
        self.room_id = answer.room_id

        def joined() -> bool:
            room = self.client.rooms.get(self.room_id)
            return room is not None and bot_id in room.users and bot_id not in room.invited_users

        await self.until(joined, "the bot to join the group")
        return self.room_id

    async def says(self, text: str, expect: int = 1, timeout: float = WAIT) -> list[Said]:
        """Write ``text``; return the next ``expect`` messages of the bot."""
        content = {"msgtype": "m.text", "body": text}
        return await self._send("m.room.message", content, expect, timeout)

    async def sends(self, content: dict[str, Any], expect: int = 1) -> list[Said]:
        """Send any message content; return the bot's next ``expect`` messages."""
        return await self._send("m.room.message", content, expect, WAIT)

    async def reacts(self, event_id: str, key: str, expect: int = 1) -> list[Said]:
        """React to one of the bot's messages with ``key``."""
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        return await self._send("m.reaction", content, expect, WAIT)

    async def _send(
        self, kind: str, content: dict[str, Any], expect: int, timeout: float
    ) -> list[Said]:
        before = len(self.heard)
        answer = await self.client.room_send(
            self.room_id, kind, content, ignore_unverified_devices=True
        )
        assert hasattr(answer, "event_id"), answer
        if expect == 0:
            return []
        await self.until(lambda: len(self.heard) >= before + expect, f"{expect} answers", timeout)
        return self.heard[before : before + expect]

    def last(self) -> Said:
        return self.heard[-1]
