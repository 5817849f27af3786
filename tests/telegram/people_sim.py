"""Simulated Telegram users for the tests and the benchmark: act, then await the bot's answer."""

from __future__ import annotations

from typing import Any

from fake_bot_api import FakeBotApi, Sent

Json = dict[str, Any]


class Person:
    """One simulated user of the fake Telegram, in their private chat with the bot."""

    def __init__(self, fake: FakeBotApi, uid: int, name: str = "林", language: str = "zh-hans"):
        self.fake = fake
        self.uid = uid
        self.user = fake.user(uid, name, language)

    def received(self) -> list[Sent]:
        """Every new message the bot sent this person."""
        return self.fake.sent_to(self.uid)

    async def _await(self, before: int, expect: int, timeout: float) -> list[Sent]:
        await self.fake.wait_until(lambda: len(self.received()) >= before + expect, timeout)
        return self.received()[before:]

    async def says(self, text: str, expect: int = 1, timeout: float = 10.0) -> list[Sent]:
        """Type ``text``; return the ``expect`` (or more) messages that answer it."""
        before = len(self.received())
        self.fake.send_text(self.user, text)
        return await self._await(before, expect, timeout)

    async def presses(self, label: str, expect: int = 1, timeout: float = 10.0) -> list[Sent]:
        """Press a button of the newest keyboard; return the answering messages."""
        before = len(self.received())
        self.fake.press(self.user, self.fake.last_with_buttons(self.uid), label)
        return await self._await(before, expect, timeout)

    async def shares_contact(
        self, phone: str, owner_id: int | None = None, expect: int = 1
    ) -> list[Sent]:
        """Share a contact card (their own unless ``owner_id`` says otherwise)."""
        before = len(self.received())
        self.fake.send_contact(self.user, phone, owner_id)
        return await self._await(before, expect, 10.0)

    def buttons(self) -> list[str]:
        """Labels of the newest keyboard."""
        message = self.fake.last_with_buttons(self.uid)
        return [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
