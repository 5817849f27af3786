"""The store tests' databases on the run's PostgreSQL server (``tests/conftest.py``)."""

from __future__ import annotations

import pytest
from pg_server import PostgresServer


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
