"""The real RabbitMQ node of the queue tests: started once per run, stopped at the end."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for folder in (HERE, HERE.parent / "dispatch"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from rabbitmq_server import RabbitServer, unavailable  # noqa: E402


@pytest.fixture(scope="session")
def rabbit_server() -> Iterator[RabbitServer]:
    """A real RabbitMQ node on free loopback ports (skips here, fails in CI, without one)."""
    server = RabbitServer()
    try:
        server.start()
    except (RuntimeError, OSError) as error:
        server.stop()
        unavailable(str(error))
    yield server
    server.stop()


@pytest.fixture
def rabbit_url(rabbit_server: RabbitServer) -> str:
    """The node's AMQP URL, with the assistant's queues deleted before each test."""
    from workers.broker import QUEUE

    rabbit_server.purge(QUEUE)
    return rabbit_server.url
