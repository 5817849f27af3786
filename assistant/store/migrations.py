"""The PostgreSQL schema, as numbered migrations that ``assistant db upgrade`` applies once each.

Each migration runs in its own transaction together with the row that records
it in ``schema_migrations``, so a migration is either wholly applied and
recorded or not at all. Upgrading takes an advisory lock first, so two
machines upgrading at once apply each migration once. Applied migrations never
change: a change of schema is a new migration at the end of :data:`MIGRATIONS`.

The tables::

    documents (collection, id, doc jsonb)     the hot records; GIN index on doc for find()
    archive   (collection, id, doc jsonb,     the closed records (Tx.archive), read by id
               archived_at)                   or scanned for reports
    schema_migrations (version, name, applied_at)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

UPGRADE_LOCK = 7_402_113_541
"""The advisory lock held while upgrading (an arbitrary constant of this program)."""


@dataclass(frozen=True)
class Migration:
    """One step of the schema."""

    version: int
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "documents and archive",
        """
        CREATE TABLE documents (
            collection text NOT NULL,
            id text NOT NULL,
            doc jsonb NOT NULL,
            PRIMARY KEY (collection, id)
        );
        -- find(collection, field=value, ...) is a containment query, doc @> '{"field": value}'
        CREATE INDEX documents_fields ON documents USING gin (doc jsonb_path_ops);
        CREATE TABLE archive (
            collection text NOT NULL,
            id text NOT NULL,
            doc jsonb NOT NULL,
            archived_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (collection, id)
        );
        """,
    ),
    Migration(
        2,
        "lock on read",
        """
        -- A write transaction's read by id: lock the row where it is, hot or archived; a
        -- missing id is locked by an advisory lock, so two transactions that would create the
        -- same document run one after the other and the second sees the first's.
        -- Under READ COMMITTED each statement below sees what committed before it began.
        CREATE FUNCTION assistant_get_for_update(c text, i text) RETURNS jsonb
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            found_doc jsonb;
        BEGIN
            SELECT doc INTO found_doc FROM documents
             WHERE collection = c AND id = i FOR UPDATE;
            IF FOUND THEN RETURN found_doc; END IF;
            SELECT doc INTO found_doc FROM archive
             WHERE collection = c AND id = i FOR UPDATE;
            IF FOUND THEN RETURN found_doc; END IF;
            PERFORM pg_advisory_xact_lock(hashtextextended(c || '/' || i, 0));
            SELECT doc INTO found_doc FROM documents
             WHERE collection = c AND id = i FOR UPDATE;
            IF FOUND THEN RETURN found_doc; END IF;
            SELECT doc INTO found_doc FROM archive
             WHERE collection = c AND id = i FOR UPDATE;
            RETURN found_doc;
        END
        $$;
        """,
    ),
    Migration(
        3,
        "index by due time",
        """
        -- Tx.due(): live timers by the time the scheduler must look at them next, so that
        -- no shared index document is written by every unit of work that touches a timer.
        CREATE INDEX documents_next_at ON documents
            (collection, (doc ->> 'next_at') COLLATE "C", id) WHERE doc ? 'next_at';
        """,
    ),
)

LATEST = MIGRATIONS[-1].version


def current_version(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    """The newest applied migration (0 for an empty database)."""
    row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0  # type: ignore[call-overload]


def upgrade(conn: psycopg.Connection[tuple[object, ...]]) -> list[Migration]:
    """Apply every migration not applied yet, in order; return those applied now.

    ``conn`` must be in autocommit mode: each migration gets its own transaction.
    Running it again applies nothing.
    """
    conn.execute("SELECT pg_advisory_lock(%s)", (UPGRADE_LOCK,))
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = current_version(conn)
        applied = []
        for migration in MIGRATIONS:
            if migration.version <= done:
                continue
            with conn.transaction():
                conn.execute(migration.sql.encode())
                conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
            log.info("applied migration %d (%s)", migration.version, migration.name)
            applied.append(migration)
        return applied
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (UPGRADE_LOCK,))
