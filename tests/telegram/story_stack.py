"""The whole product on the real Telegram stack, for feature stories told over Telegram.

python-telegram-bot polls the fake Bot API (:mod:`fake_bot_api`) with every flow of the
product; the outbox's messages (offers, announcements, group lists, notes) go through a
worker's ``TelegramDelivery`` on the real Redis, as in production; time is a FakeClock the
test moves, running the scheduler and the jobs it hands out. Feature tests outside this
folder put it on the import path (``sys.path``) and use :func:`story_stack`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fake_bot_api import FakeBotApi, Sent
from tg_demo import QUICK_CHATS, telegram_settings

from assistant.bootstrap import App, build_for_tests
from assistant.channels.telegram import TelegramChannel, TelegramDelivery
from assistant.config import Settings
from assistant.jobs.firing import bound
from assistant.jobs.scheduler import tick
from assistant.store.memory import MemoryStore
from handlers import build_engine

QUICK = QUICK_CHATS
"""Flood limits high enough that a story is not about them."""


def story_settings(fake: FakeBotApi, **sections: Any) -> Settings:
    """The Telegram tests' settings pointed at the fake server (and any other sections given)."""
    settings = telegram_settings(fake)
    return settings.with_values(**sections) if sections else settings


@dataclass
class Stack:
    """The fake Telegram, the app behind the real channel, and time to move."""

    fake: FakeBotApi
    app: App

    async def run_jobs(self) -> None:
        """Hand out what is due and run every job (the outbox sends through Telegram)."""
        for _ in range(20):
            await asyncio.to_thread(tick, self.app)
            if not await asyncio.to_thread(self.app.queue.run_all, bound(self.app)):  # type: ignore[attr-defined]
                return

    async def travel(self, **units: float) -> None:
        """Let time pass (``minutes=6``) and run what fell due."""
        self.app.clock.advance(**units)  # type: ignore[attr-defined]
        await self.run_jobs()

    def answers(self) -> list[dict[str, Any]]:
        """Every ``answerCallbackQuery`` the bot made, oldest first."""
        return [params for method, params in self.fake.calls if method == "answerCallbackQuery"]


@asynccontextmanager
async def story_stack(redis_url: str, community: Callable[[App], None]) -> AsyncIterator[Stack]:
    """Start the fake server and the channel on an in-memory app filled by ``community``."""
    fake = FakeBotApi(limits=QUICK)
    await fake.start()
    app = build_for_tests(story_settings(fake), store=MemoryStore())
    community(app)
    app.delivery = TelegramDelivery(app.settings, redis_url, app.store)
    channel = TelegramChannel(app, build_engine(app), redis_url)
    await channel.start()
    try:
        yield Stack(fake, app)
    finally:
        await channel.stop()
        app.delivery.close()  # type: ignore[attr-defined]
        await fake.stop()


def texts(sent: list[Sent]) -> str:
    """The texts of some sent messages, one per line."""
    return "\n".join(s.text for s in sent)
