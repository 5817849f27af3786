"""The real PostgreSQL server of the store tests: started once per run, stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pg_server import PostgresServer, unavailable


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
def _contract_database(postgres_server: PostgresServer) -> str:
    from assistant.store.postgres import upgrade

    url = postgres_server.create_database("contract")
    upgrade(url)
    return url


@pytest.fixture
def postgres_url(_contract_database: str) -> str:
    """The URL of an up-to-date database, emptied before each test."""
    import psycopg

    with psycopg.connect(_contract_database, autocommit=True) as conn:
        conn.execute("TRUNCATE documents, archive")
    return _contract_database
