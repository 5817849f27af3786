"""Fixtures of the multi-machine profile: a real PostgreSQL and RabbitMQ, the fake Bot API.

Redis is the run's shared one (``tests/conftest.py``).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for folder in (HERE.parent / "store", HERE.parent / "telegram", HERE.parent / "queue"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from fake_bot_api import FakeBotApi, FloodLimits  # noqa: E402
from pg_server import PostgresServer, unavailable  # noqa: E402
from rabbitmq_server import RabbitServer  # noqa: E402
from rabbitmq_server import unavailable as rabbit_unavailable  # noqa: E402

# The burst sends hundreds of messages: the fake answers quickly, the bot keeps its own limits.
FAST = FloodLimits(
    bot_per_second=1000.0,
    bot_burst=200,
    chat_per_second=500.0,
    chat_burst=50,
    group_per_minute=6000.0,
    group_burst=50,
)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server on a free loopback port (skips here, fails in CI, without one)."""
    server = PostgresServer()
    try:
        server.start()
    except (RuntimeError, OSError) as error:
        server.stop()
        unavailable(str(error))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def rabbit_server() -> Iterator[RabbitServer]:
    """A real RabbitMQ node on free loopback ports (skips here, fails in CI, without one)."""
    server = RabbitServer()
    try:
        server.start()
    except (RuntimeError, OSError) as error:
        server.stop()
        rabbit_unavailable(str(error))
    yield server
    server.stop()


@pytest.fixture
def rabbit_url(rabbit_server: RabbitServer) -> str:
    """The node's AMQP URL, with the assistant's queues deleted first."""
    from workers.broker import QUEUE

    rabbit_server.purge(QUEUE)
    return rabbit_server.url


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    """The fake Bot API server, listening on loopback."""
    server = FakeBotApi(limits=FAST)
    await server.start()
    yield server
    await server.stop()
