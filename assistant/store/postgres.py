"""The store on PostgreSQL: the same port, with database transactions and row locks.

For a community on several machines, or a county of communities, the shared
folder of ``TinyDbStore`` becomes a database server (``[storage] url =
"postgresql://…"``). Documents are ``jsonb`` rows keyed by (collection, id),
the archive is a table of closed records, and ``find`` is a containment query
served by a GIN index (``migrations.py`` holds the schema; ``assistant db
upgrade`` applies it).

**Transactions.** A write transaction is a READ COMMITTED database transaction
that locks what it reads until it commits (strict two-phase locking), so a
decision made on what it read still holds when it commits:

- a read by id (``get``/``require``) locks the row, hot or archived, with
  ``SELECT … FOR UPDATE``; a missing id is locked with an advisory lock, so two
  transactions that would create the same document run one after the other;
- ``find``/``all`` first take an advisory lock on the question itself
  (collection and fields), so two transactions asking the same question (a
  keyed timer, a day's places, every task) run one after the other and the
  second sees what the first wrote. They do not lock the rows they return:
  a transaction that changes one of them reads it by id first, as the
  services do, and that read locks it. (Locking every row that ``all(tasks)``
  returns made each dispatch wave wait for every other in a deadlock.)

Contended decisions (first accept wins, capacity, stock) therefore wait for
each other instead of failing, exactly as under TinyDB's one lock, while
transactions on other records run side by side. A snapshot is a REPEATABLE
READ, READ ONLY transaction: unlike TinyDB's, consistent across collections.

**A lost connection.** Every step of a transaction is logged with a digest of
what it read. When the connection breaks (server restart, network cut,
failover) or the server aborts the transaction (a deadlock), the transaction
starts again on a fresh connection and replays its steps: if every read gives
what it gave before, the unit of work goes on as if nothing happened, since
its code only acted on those reads; otherwise it fails with
:class:`StoreConflict` and nothing of it is written. A commit whose answer
was lost is settled by asking the server whether its transaction id committed
(``pg_xact_status``), so a unit of work is never applied twice or half.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool, PoolTimeout

from assistant.store import migrations
from assistant.store.base import Doc, NotFound, ReadOnly, StoreError

log = logging.getLogger(__name__)

Conn = psycopg.Connection[tuple[Any, ...]]
Step = Callable[[Conn], Any]

RETRIES = 5
"""How many times one unit of work is started again after a lost connection or a deadlock."""

CONNECT_SECONDS = 30.0
"""How long a unit of work waits for a connection (the server coming back) before failing."""

OUTCOME_SECONDS = 30.0
"""How long a commit whose answer was lost waits to learn whether it committed."""


class StoreUnavailable(StoreError):
    """The database cannot be reached; nothing of the unit of work was written."""


class StoreConflict(StoreError):
    """A unit of work was interrupted and what it had read changed meanwhile; nothing was written."""


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def _json(collection: str, doc_id: str, doc: Doc) -> str:
    """The document as JSON text with its id, or :class:`StoreError`.

    ``jsonb`` cannot hold U+0000; like the lone surrogates that the channels
    clean at their edge, it becomes U+FFFD (no person means a NUL).
    """
    stored = dict(doc)
    stored["id"] = doc_id
    try:
        text = json.dumps(stored, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise StoreError(f"{collection}/{doc_id} cannot be stored as JSON: {error}") from error
    return text.replace("\\u0000", "\ufffd")


def _digest(value: Any) -> bytes:
    """A short fingerprint of what a step read, to compare it when replayed.

    Documents are read as the server's text of their ``jsonb`` (canonical: equal
    values give equal text), so the usual result, rows of strings, is hashed as
    it came, without serialising parsed documents again.
    """
    fingerprint = hashlib.blake2b(digest_size=16)
    _feed(fingerprint, value)
    return fingerprint.digest()


def _feed(fingerprint: Any, value: Any) -> None:
    if isinstance(value, str):
        fingerprint.update(b"s%d:" % len(value))
        fingerprint.update(value.encode())
    elif value is None:
        fingerprint.update(b"n")
    elif isinstance(value, list | tuple):
        fingerprint.update(b"[%d" % len(value))
        for item in value:
            _feed(fingerprint, item)
    else:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
        fingerprint.update(b"j%d:" % len(text))
        fingerprint.update(text.encode())


def _nest(into: dict[str, Any], path: list[str], value: Any) -> None:
    """Add ``value`` at ``path`` to a containment pattern (``{"a": {"b": value}}``)."""
    for step in path[:-1]:
        into = into.setdefault(step, {})
    into[path[-1]] = value


def _doc(text: str | None) -> Doc | None:
    """A document from the server's text of its ``jsonb``."""
    return None if text is None else cast("Doc", json.loads(text))


_ABORTED = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)
"""The server aborted the transaction to let another go on; the connection is fine."""

_STARTS_AGAIN = (
    *_ABORTED,
    pg_errors.AdminShutdown,
    pg_errors.CrashShutdown,
    pg_errors.CannotConnectNow,
)


def _lost(error: psycopg.Error, conn: Conn | None) -> bool:
    """Whether the unit of work can start again: the connection broke, or the server aborted it."""
    if isinstance(error, _STARTS_AGAIN) or (conn is not None and conn.broken):
        return True
    return isinstance(error, psycopg.OperationalError) and error.sqlstate is None


_READ = (
    "SELECT doc::text, 0 AS cold FROM documents WHERE collection = %s AND id = %s"
    " UNION ALL SELECT doc::text, 1 FROM archive WHERE collection = %s AND id = %s"
    " ORDER BY cold LIMIT 1"
)
"""One document by id, hot first, without a lock (a snapshot's ``get``, ``Store.read``)."""


class _PgTx:
    """One unit of work on one connection, with the log of its steps for a replay."""

    def __init__(self, store: PostgresStore, *, writable: bool) -> None:
        self._store = store
        self._writable = writable
        self._conn: Conn | None = None
        self._steps: list[tuple[Step, bytes]] = []
        self._wrote = False
        self._xid: str | None = None  # this transaction's id, once a put has shown it
        self.due_timers: list[str] = []

    # -- the port ----------------------------------------------------------------------------

    def get(self, collection: str, doc_id: str) -> Doc | None:
        if self._writable:
            sql = "SELECT assistant_get_for_update(%s, %s)::text"
            row = self._one(sql, (collection, doc_id))
            return _doc(row[0] if row else None)
        row = self._one(_READ, (collection, doc_id, collection, doc_id))
        return _doc(row[0] if row else None)

    def require(self, collection: str, doc_id: str) -> Doc:
        doc = self.get(collection, doc_id)
        if doc is None:
            raise NotFound(f"{collection}/{doc_id}")
        return doc

    def put(self, collection: str, doc_id: str, doc: Doc) -> None:
        self._check_writable()
        # The transaction id comes back with the write, which saves the commit a round trip.
        sql = (
            b"INSERT INTO documents (collection, id, doc) VALUES (%s, %s, %s::jsonb)"
            b" ON CONFLICT (collection, id) DO UPDATE SET doc = EXCLUDED.doc"
            b" RETURNING pg_current_xact_id()::text"
        )
        self._write_telling_xid(sql, (collection, doc_id, _json(collection, doc_id, doc)))

    def delete(self, collection: str, doc_id: str) -> None:
        self._check_writable()
        self._write(
            "WITH cold AS (DELETE FROM archive WHERE collection = %s AND id = %s)"
            " DELETE FROM documents WHERE collection = %s AND id = %s",
            (collection, doc_id, collection, doc_id),
        )

    def all(self, collection: str) -> list[Doc]:
        return self.find(collection)

    def find(self, collection: str, **equals: Any) -> list[Doc]:
        where = ["collection = %s"]
        params: list[Any] = [collection]
        contains: dict[str, Any] = {}
        for field, value in sorted(equals.items()):
            path = field.split(".")  # a dotted field is a path into nested objects
            if value is None:  # a missing field equals None, as in the other stores
                where.append("(doc #> %s IS NULL OR doc #> %s = 'null'::jsonb)")
                params += [path, path]
            elif isinstance(value, dict | list):  # containment is not equality for these
                where.append("doc #> %s = %s::jsonb")
                params += [path, json.dumps(value, ensure_ascii=False)]
            else:
                _nest(contains, path, value)
        if contains:
            where.append("doc @> %s::jsonb")
            params.append(json.dumps(contains, ensure_ascii=False))
        sql = f"SELECT doc::text FROM documents WHERE {' AND '.join(where)} ORDER BY id"  # noqa: S608
        if not self._writable:
            return [json.loads(row[0]) for row in self._rows(sql, params)]
        question = json.dumps(equals, sort_keys=True, ensure_ascii=False, default=str)

        def step(conn: Conn) -> list[str]:
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                (f"{collection}?{question}",),
            )
            return [row[0] for row in conn.execute(sql.encode(), params)]

        return [json.loads(text) for text in self._call(step)]

    keeps_due_index = True

    def due(self, collection: str, upto: str, limit: int) -> list[Doc]:
        # served by documents_next_at (migration 3); the text of to_iso sorts as its time
        rows = self._rows(
            "SELECT doc::text FROM documents WHERE collection = %s AND doc ? 'next_at'"
            " AND (doc ->> 'next_at') COLLATE \"C\" <= %s"
            " ORDER BY (doc ->> 'next_at') COLLATE \"C\", id LIMIT %s",
            (collection, upto, limit),
        )
        return [json.loads(row[0]) for row in rows]

    def archive(self, collection: str, doc_id: str, final: Doc | None = None) -> None:
        self._check_writable()
        if final is not None:  # put and move in one statement, which tells the xid as put does
            sql = (
                b"WITH gone AS (DELETE FROM documents WHERE collection = %s AND id = %s)"
                b" INSERT INTO archive (collection, id, doc) VALUES (%s, %s, %s::jsonb)"
                b" ON CONFLICT (collection, id) DO UPDATE SET doc = EXCLUDED.doc,"
                b" archived_at = now() RETURNING pg_current_xact_id()::text"
            )
            stored = _json(collection, doc_id, final)
            self._write_telling_xid(sql, (collection, doc_id, collection, doc_id, stored))
            return
        self._write(
            "WITH moved AS (DELETE FROM documents WHERE collection = %s AND id = %s"
            " RETURNING collection, id, doc)"
            " INSERT INTO archive (collection, id, doc) SELECT collection, id, doc FROM moved"
            " ON CONFLICT (collection, id) DO UPDATE SET doc = EXCLUDED.doc, archived_at = now()",
            (collection, doc_id),
        )

    def archived(self, collection: str) -> Iterator[Doc]:
        rows = self._rows(
            "SELECT doc::text FROM archive a WHERE collection = %s AND NOT EXISTS"
            " (SELECT 1 FROM documents d WHERE d.collection = a.collection AND d.id = a.id)"
            " ORDER BY id",
            (collection,),
        )
        for row in rows:
            yield json.loads(row[0])

    def purge(self, collection: str, doc_id: str, replacement: Doc | None = None) -> None:
        self._check_writable()
        stored = None if replacement is None else _json(collection, doc_id, replacement)
        key = (collection, doc_id)
        row = self._one(
            "SELECT EXISTS (SELECT 1 FROM documents WHERE collection = %s AND id = %s),"
            " EXISTS (SELECT 1 FROM archive WHERE collection = %s AND id = %s)",
            key + key,
        )
        hot, cold = bool(row and row[0]), bool(row and row[1])
        if hot or not cold:
            if stored is None:
                self._write("DELETE FROM documents WHERE collection = %s AND id = %s", key)
            else:
                self.put(collection, doc_id, replacement or {})
            if cold:
                self._write("DELETE FROM archive WHERE collection = %s AND id = %s", key)
        elif stored is None:
            self._write("DELETE FROM archive WHERE collection = %s AND id = %s", key)
        else:
            self._write(
                "UPDATE archive SET doc = %s::jsonb WHERE collection = %s AND id = %s",
                (stored, collection, doc_id),
            )

    def collections(self) -> list[str]:
        """The names of every collection with a hot or an archived record (not in the port)."""
        rows = self._rows(
            "SELECT collection FROM documents UNION SELECT collection FROM archive ORDER BY 1", ()
        )
        return [str(row[0]) for row in rows]

    # -- running steps -----------------------------------------------------------------------

    def _one(self, sql: str, params: Any) -> tuple[Any, ...] | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _rows(self, sql: str, params: Any) -> list[tuple[Any, ...]]:
        return cast(
            "list[tuple[Any, ...]]",
            self._call(lambda conn: conn.execute(sql.encode(), params).fetchall()),
        )

    def _write_telling_xid(self, sql: bytes, params: Any) -> None:
        """A write whose statement returns ``pg_current_xact_id()``: kept for the commit."""

        def step(conn: Conn) -> None:
            row = conn.execute(sql, params).fetchone()
            self._xid = str(row[0]) if row else self._xid

        self._wrote = True
        self._call(step)

    def _write(self, sql: str, params: Any) -> None:
        self._wrote = True
        self._call(lambda conn: conn.execute(sql.encode(), params) and None)

    def _call(self, step: Step) -> Any:
        """Run one step, starting the unit of work again on a fresh connection when it is lost."""
        for attempt in range(RETRIES + 1):
            conn = self._connection()
            try:
                result = step(conn)
            except psycopg.Error as error:
                if not _lost(error, conn) or attempt == RETRIES:
                    raise self._failed(error) from error
                self._start_again(error)
                continue
            self._steps.append((step, _digest(result)))
            return result
        raise AssertionError("unreachable")

    def _start_again(self, error: psycopg.Error) -> None:
        """Roll back (or drop a broken connection) and replay every step on a connection.

        Raises :class:`StoreConflict` when a replayed read differs from the first.
        """
        log.warning(
            "store: unit of work interrupted (%s); replaying %d steps",
            type(error).__name__,
            len(self._steps),
        )
        if isinstance(error, _ABORTED) and self._conn is not None and not self._conn.broken:
            self.rollback()  # the connection is fine: only the transaction was aborted
            time.sleep(random.uniform(0, 0.05))  # so two victims do not meet the same way again
        else:
            self._release(broken=True)
        for attempt in range(RETRIES + 1):
            conn = self._connection()
            self._xid = None  # a new transaction: its puts tell its id again
            try:
                for step, digest in self._steps:
                    if _digest(step(conn)) != digest:
                        self._release(broken=False)
                        raise StoreConflict(
                            "a unit of work was interrupted and what it read changed meanwhile;"
                            " nothing of it was written"
                        )
                return
            except psycopg.Error as again:
                if not _lost(again, conn) or attempt == RETRIES:
                    raise self._failed(again) from again
                self._release(broken=True)

    def commit(self) -> None:
        """Commit; a commit whose answer was lost is looked up, and replayed if it did not commit."""
        for attempt in range(RETRIES + 1):
            if self._conn is None:
                return
            xid = self._xid
            if self._wrote and xid is None:
                row = self._call(
                    lambda conn: conn.execute(
                        b"SELECT pg_current_xact_id_if_assigned()::text"
                    ).fetchone()
                )
                self._steps.pop()  # not a read of the unit of work
                xid = row[0] if row else None
            conn = self._conn
            try:
                conn.commit()
            except psycopg.Error as error:
                if not _lost(error, conn) or attempt == RETRIES:
                    self._release(broken=True)
                    raise self._failed(error) from error
                if xid is not None and self._store.outcome(xid) == "committed":
                    self._release(broken=True)
                    return
                self._start_again(error)
                continue
            self._release(broken=False)
            return

    def rollback(self) -> None:
        """Discard everything; the connection goes back to the pool."""
        if self._conn is not None:
            try:
                self._conn.rollback()
            except psycopg.Error:
                self._release(broken=True)
                return
            self._release(broken=False)

    def _connection(self) -> Conn:
        if self._conn is None:
            self._conn = self._store.checkout(writable=self._writable)
        return self._conn

    def _release(self, *, broken: bool) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._store.checkin(conn, broken=broken)

    def _failed(self, error: psycopg.Error) -> StoreError:
        """The error to raise for a step that cannot go on; the transaction is rolled back."""
        self.rollback()
        if isinstance(error, _ABORTED):
            return StoreConflict(f"a unit of work kept meeting others in a deadlock: {error}")
        if _lost(error, None) or isinstance(error, psycopg.OperationalError):
            return StoreUnavailable(f"the database failed during a unit of work: {error}")
        return StoreError(f"the database refused a unit of work: {error}")

    def _check_writable(self) -> None:
        if not self._writable:
            raise ReadOnly("snapshot is read-only")


class PostgresStore:
    """Collections in a PostgreSQL database, shared by every process and machine.

    Args:
        url: A libpq connection URL, ``postgresql://user:password@host:5432/dbname``.
        max_connections: The most connections this process holds at once.

    Raises:
        StoreUnavailable: The server cannot be reached.
        StoreError: The database's schema is not the one this program knows
            (``assistant db upgrade`` makes it so).
    """

    def __init__(self, url: str, *, max_connections: int = 10) -> None:
        self.url = url
        self.concurrent_writers = max(1, max_connections // 2)
        """Transactions of one process that may run side by side (half the pool: reads need some)."""
        self.where = redact(url)
        self._local = threading.local()
        self._pool: ConnectionPool[Conn] = ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            timeout=CONNECT_SECONDS,
            open=False,
            name="assistant-store",
        )
        try:
            self._pool.open(wait=True, timeout=CONNECT_SECONDS)
        except PoolTimeout as error:
            self._pool.close(timeout=1)
            raise StoreUnavailable(f"cannot reach PostgreSQL at {self.where}") from error
        try:
            with self._pool.connection() as conn:
                version = migrations.current_version(conn)
        except psycopg.Error as error:
            self._pool.close(timeout=1)
            raise StoreUnavailable(f"cannot read PostgreSQL at {self.where}: {error}") from error
        if version != migrations.LATEST:
            self._pool.close(timeout=1)
            problem = "is newer than this program" if version > migrations.LATEST else "is behind"
            raise StoreError(
                f"the schema of {self.where} {problem} (version {version}, this program needs "
                f"{migrations.LATEST}): run assistant db upgrade"
            )
        self._closed = False

    @contextmanager
    def transaction(self) -> Iterator[_PgTx]:
        """A write transaction that locks what it reads and commits on success."""
        with self._held():
            tx = _PgTx(self, writable=True)
            try:
                yield tx
            except BaseException:
                tx.rollback()
                raise
            tx.commit()

    @contextmanager
    def snapshot(self) -> Iterator[_PgTx]:
        """A consistent read-only view (REPEATABLE READ, READ ONLY)."""
        self._check_open()
        tx = _PgTx(self, writable=False)
        try:
            yield tx
        finally:
            tx.rollback()

    def read(self, collection: str, doc_id: str) -> Doc | None:
        """One document as committed now: a single statement, outside any transaction."""
        for attempt in range(RETRIES + 1):
            conn = self.checkout(writable=False)
            try:
                conn.autocommit = True
                row = conn.execute(_READ.encode(), (collection, doc_id, collection, doc_id))
                found = row.fetchone()
            except psycopg.Error as error:
                lost = _lost(error, conn)
                self.checkin(conn, broken=True)
                if not lost:
                    raise StoreError(f"the database refused a read: {error}") from error
                if attempt == RETRIES:
                    raise StoreUnavailable(f"the database failed a read: {error}") from error
                continue
            conn.autocommit = False
            self.checkin(conn, broken=False)
            return _doc(found[0] if found else None)
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close every connection; the store cannot be used afterwards."""
        if getattr(self._local, "held", False):
            raise StoreError("cannot close the store inside one of its transactions")
        self._closed = True
        self._pool.close(timeout=5)

    def collections(self) -> list[str]:
        """The names of every collection with a hot or an archived record."""
        with self.snapshot() as tx:
            return tx.collections()

    def is_empty(self) -> bool:
        """Whether the database holds no record at all."""
        return not self.collections()

    # -- connections (for the transactions) ----------------------------------------------------

    def checkout(self, *, writable: bool) -> Conn:
        """A connection set for one unit of work (its transaction begins at the first step)."""
        self._check_open()
        try:
            conn = self._pool.getconn()
        except PoolTimeout as error:
            raise StoreUnavailable(f"no connection to PostgreSQL at {self.where}") from error
        conn.isolation_level = (
            psycopg.IsolationLevel.READ_COMMITTED
            if writable
            else psycopg.IsolationLevel.REPEATABLE_READ
        )
        conn.read_only = not writable
        return conn

    def checkin(self, conn: Conn, *, broken: bool) -> None:
        """Give a connection back; a broken one is closed and replaced by the pool."""
        if broken and not conn.closed:
            conn.close()
        self._pool.putconn(conn)

    def outcome(self, xid: str) -> str:
        """Whether the transaction ``xid`` committed: ``committed`` or ``aborted``."""
        deadline = time.monotonic() + OUTCOME_SECONDS
        while True:
            try:
                with self._pool.connection(timeout=OUTCOME_SECONDS) as conn:
                    row = conn.execute("SELECT pg_xact_status(%s::xid8)", (xid,)).fetchone()
                status = str(row[0]) if row else "aborted"
            except (psycopg.Error, PoolTimeout):
                status = "unknown"
            if status in ("committed", "aborted"):
                return status
            if time.monotonic() > deadline:
                raise StoreUnavailable(
                    f"lost the answer to a commit and could not learn its outcome ({status})"
                )
            time.sleep(0.1)

    @contextmanager
    def _held(self) -> Iterator[None]:
        self._check_open()
        if getattr(self._local, "held", False):
            raise StoreError("a transaction is already open in this thread; pass its Tx instead")
        self._local.held = True
        try:
            yield
        finally:
            self._local.held = False

    def _check_open(self) -> None:
        if getattr(self, "_closed", True):
            raise StoreError(f"store {self.where} is closed")


def upgrade(url: str) -> list[migrations.Migration]:
    """Bring the schema of the database at ``url`` up to date; the migrations applied now."""
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=int(CONNECT_SECONDS)) as conn:
            return migrations.upgrade(conn)
    except psycopg.OperationalError as error:
        raise StoreUnavailable(f"cannot reach PostgreSQL at {redact(url)}: {error}") from error
