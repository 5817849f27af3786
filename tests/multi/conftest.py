"""Fixtures of the multi-machine profile: the fake Bot API.

Redis, PostgreSQL and RabbitMQ are the run's shared ones (``tests/conftest.py``).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for folder in (HERE.parent / "store", HERE.parent / "telegram", HERE.parent / "queue"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from fake_bot_api import FakeBotApi, FloodLimits  # noqa: E402

# The burst sends hundreds of messages: the fake answers quickly, the bot keeps its own limits.
FAST = FloodLimits(
    bot_per_second=1000.0,
    bot_burst=200,
    chat_per_second=500.0,
    chat_burst=50,
    group_per_minute=6000.0,
    group_burst=50,
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    """The fake Bot API server, listening on loopback."""
    server = FakeBotApi(limits=FAST)
    await server.start()
    yield server
    await server.stop()
