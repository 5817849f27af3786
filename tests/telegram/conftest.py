"""Fixtures of the Telegram tests: the fake Bot API and the running channel (see :mod:`tg_demo`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fake_bot_api import FakeBotApi
from tg_demo import COORDINATOR_ID, QUICK_CHATS, Running, demo_app, engine_for, telegram_settings

from assistant.channels.telegram import TelegramChannel


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    """The fake Bot API server, listening."""
    server = FakeBotApi(limits=QUICK_CHATS)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def running(fake: FakeBotApi, redis_url: str) -> AsyncIterator[Running]:
    """The real channel, polling the fake server."""
    app = demo_app(telegram_settings(fake))
    fake.user(COORDINATOR_ID, "小周", "zh-hans")  # the coordinator has opened the bot
    channel = TelegramChannel(app, engine_for(app), redis_url)
    await channel.start()
    yield Running(fake, app, channel)
    await channel.stop()
