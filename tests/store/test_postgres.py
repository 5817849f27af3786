"""What only the PostgreSQL store has: its schema, its locks across real processes, lost connections.

The contract itself runs in ``test_store_contract.py``. Here real processes
race for one task, for the first place of a day and for a counter no one has
created yet; a writer is killed with SIGKILL in the middle of its transactions;
and the server cuts a unit of work's connection in the middle, which the store
replays on a fresh one when what it read is unchanged, and refuses whole when
it changed.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
from collections.abc import Callable, Iterator
from multiprocessing.sharedctypes import Synchronized
from typing import Any

import psycopg
import pytest
from pg_server import PostgresServer

from assistant.store import migrations
from assistant.store.base import StoreError
from assistant.store.postgres import PostgresStore, StoreConflict, redact, upgrade

SPAWN = multiprocessing.get_context("spawn")
ROUND = 50


@pytest.fixture
def store(postgres_url: str) -> Iterator[PostgresStore]:
    made = PostgresStore(postgres_url)
    yield made
    made.close()


def wait_until(condition: Callable[[], bool], limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def join_all(processes: list[Any], limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        assert process.exitcode == 0, f"{process.name} ended with {process.exitcode}"


def backend_of(conn: psycopg.Connection[Any]) -> int:
    return int(conn.info.backend_pid)


def terminate(url: str, pid: int) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


# --- the schema ---------------------------------------------------------------------------------


def test_upgrade_applies_each_migration_once_and_the_store_checks_the_version(
    postgres_server: PostgresServer,
) -> None:
    # Given an empty database
    url = postgres_server.create_database("upgrades")
    # Then a store refuses it, naming the command that fixes it
    with pytest.raises(StoreError, match="assistant db upgrade"):
        PostgresStore(url)
    # When it is upgraded twice, by two threads at once and once more afterwards
    applied: list[list[int]] = []
    threads = [
        threading.Thread(target=lambda: applied.append([m.version for m in upgrade(url)]))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # Then every migration was applied exactly once, and again nothing is
    assert sorted(applied) == [[], [m.version for m in migrations.MIGRATIONS]]
    assert upgrade(url) == []
    with psycopg.connect(url) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_migrations")]
    assert versions == [m.version for m in migrations.MIGRATIONS]
    PostgresStore(url).close()


def test_a_password_never_shows_in_messages() -> None:
    assert redact("postgresql://bot:s3cret@db.example:5432/care") == (
        "postgresql://bot:***@db.example:5432/care"
    )
    assert redact("postgresql://bot@db/care") == "postgresql://bot@db/care"


def test_find_is_served_by_the_index_on_the_fields(store: PostgresStore) -> None:
    # Given many offers, few of them for one task
    with store.transaction() as tx:
        for number in range(3000):
            tx.put("offers", f"o-{number:05d}", {"task_id": f"t-{number % 500}", "status": "open"})
    with psycopg.connect(store.url, autocommit=True) as conn:
        conn.execute("ANALYZE documents")
        conn.execute("SET enable_seqscan = off")  # a table this small would be scanned anyway
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                "EXPLAIN SELECT doc FROM documents WHERE collection = 'offers'"
                """ AND doc @> '{"task_id": "t-7", "status": "open"}'::jsonb"""
            )
        )
    with store.snapshot() as tx:
        assert len(tx.find("offers", task_id="t-7", status="open")) == 6
    assert "documents_fields" in plan, plan


def test_due_is_served_by_the_index_by_time(store: PostgresStore) -> None:
    # Given many timers, a few of them due
    with store.transaction() as tx:
        for number in range(3000):
            hour = 10 if number % 1000 else 1
            doc = {"next_at": f"2026-06-01T{hour:02d}:{number % 60:02d}:00+00:00"}
            tx.put("timers", f"tm-{number:05d}", doc)
        tx.put("timers", "tm-done", {"status": "done"})
    with psycopg.connect(store.url, autocommit=True) as conn:
        conn.execute("ANALYZE documents")
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                "EXPLAIN SELECT doc FROM documents WHERE collection = 'timers'"
                " AND doc ? 'next_at' AND (doc ->> 'next_at') COLLATE \"C\" <= '2026-06-01T02'"
                " ORDER BY (doc ->> 'next_at') COLLATE \"C\", id LIMIT 500"
            )
        )
    # Then the due ones come soonest first, through the index
    with store.snapshot() as tx:
        due = tx.due("timers", "2026-06-01T05:00:00+00:00", 500)
    assert [doc["id"] for doc in due] == ["tm-00000", "tm-02000", "tm-01000"]  # :00, :20, :40
    assert "documents_next_at" in plan, plan


def test_odd_documents(store: PostgresStore) -> None:
    with store.transaction() as tx:
        with pytest.raises(StoreError, match="people/p-1"):
            tx.put("people", "p-1", {"when": object()})
        tx.put("people", "p-2", {"said": "a\x00b", "n": 10**30, "big": 1.5})
    with store.snapshot() as tx:
        assert tx.require("people", "p-2") == {
            "id": "p-2",
            "said": "a\ufffdb",
            "n": 10**30,
            "big": 1.5,
        }
    with store.transaction(), pytest.raises(StoreError, match="already open"), store.transaction():
        pass


# --- real processes -----------------------------------------------------------------------------


def claim(url: str, worker: int, start: Any, results: Any) -> None:
    """Race the others to claim task t-1, and report whether this worker won."""
    store = PostgresStore(url)
    start.wait(60)
    with store.transaction() as tx:
        task = tx.require("tasks", "t-1")
        won = task.get("claimed_by") is None
        if won:
            task["claimed_by"] = f"v{worker}"
            tx.put("tasks", "t-1", task)
    results.put((worker, won))
    store.close()


def take_places(url: str, worker: int, start: Any, results: Any) -> None:
    """Book places of one day (capacity 3, counted by find) and create a counter on first use."""
    store = PostgresStore(url)
    start.wait(60)
    got = 0
    for attempt in range(3):
        with store.transaction() as tx:
            taken = tx.find("places", day="2026-06-02")
            if len(taken) < 3:
                tx.put("places", f"w{worker}-{attempt}", {"day": "2026-06-02"})
                got += 1
            counter = tx.get("counters", "bookings") or {"value": 0}
            counter["value"] += 1
            tx.put("counters", "bookings", counter)
    results.put((worker, got))
    store.close()


@pytest.mark.slow
def test_eight_processes_racing_for_one_task_make_one_winner(store: PostgresStore) -> None:
    # Given one open task and eight volunteers' processes released at the same moment
    with store.transaction() as tx:
        tx.put("tasks", "t-1", {"status": "open", "claimed_by": None})
    start, results = SPAWN.Event(), SPAWN.Queue()
    processes = [
        SPAWN.Process(target=claim, args=(store.url, worker, start, results)) for worker in range(8)
    ]
    for process in processes:
        process.start()
    start.set()
    outcomes = dict(results.get(timeout=120) for _ in processes)
    join_all(processes)
    # Then exactly one won, and the task names that one
    winners = [worker for worker, won in outcomes.items() if won]
    assert len(winners) == 1
    with store.snapshot() as tx:
        assert tx.require("tasks", "t-1")["claimed_by"] == f"v{winners[0]}"


@pytest.mark.slow
def test_processes_never_overbook_a_day_nor_lose_a_count(store: PostgresStore) -> None:
    # Given a day with three places, no booking yet, and no counter yet
    start, results = SPAWN.Event(), SPAWN.Queue()
    processes = [
        SPAWN.Process(target=take_places, args=(store.url, worker, start, results))
        for worker in range(6)
    ]
    for process in processes:
        process.start()
    # When six processes try three bookings each at the same moment
    start.set()
    got = dict(results.get(timeout=120) for _ in processes)
    join_all(processes)
    # Then exactly three places were taken, and the counter created on first use counted all 18
    with store.snapshot() as tx:
        assert len(tx.find("places", day="2026-06-02")) == 3 == sum(got.values())
        assert tx.require("counters", "bookings")["value"] == 18


def write_rounds(url: str, committed: Synchronized[int]) -> None:
    """Commit rounds until killed: put ROUND records, archive the last round's, count the round."""
    store = PostgresStore(url)
    with store.snapshot() as tx:
        number = max((doc["number"] for doc in tx.all("rounds")), default=-1) + 1
    while True:
        with store.transaction() as tx:
            for item in range(ROUND):
                tx.put("records", f"r{number:04d}-{item:03d}", {"round": number})
                if number:
                    tx.archive("records", f"r{number - 1:04d}-{item:03d}")
            tx.put("rounds", f"n{number:04d}", {"number": number})
        committed.value = number
        number += 1


@pytest.mark.slow
def test_a_writer_killed_mid_transaction_leaves_every_committed_round_whole(
    store: PostgresStore,
) -> None:
    committed = SPAWN.Value("i", -1, lock=False)
    chance = random.Random()
    for _ in range(4):
        # Given a writer committing rounds of a hundred changes
        writer = SPAWN.Process(target=write_rounds, args=(store.url, committed))
        writer.start()
        target = committed.value + chance.randint(1, 3)
        wait_until(lambda: committed.value >= target)  # noqa: B023
        # When it is killed with SIGKILL in the middle of a later round
        time.sleep(chance.uniform(0, 0.02))  # chooses the kill moment; nothing is awaited
        writer.kill()
        writer.join(10)
        # Then the last committed round is whole, and nothing of the killed one is there
        with store.transaction() as tx:  # waits for the server to drop the dead one's locks
            numbers = sorted(doc["number"] for doc in tx.all("rounds"))
            last = numbers[-1]
            assert numbers == list(range(last + 1)) and last >= committed.value
            hot = tx.all("records")
            assert [doc["id"] for doc in hot] == [f"r{last:04d}-{i:03d}" for i in range(ROUND)]
            assert sum(1 for _ in tx.archived("records")) == ROUND * last


# --- a connection lost in the middle ---------------------------------------------------------------


def test_a_unit_of_work_whose_connection_is_cut_is_replayed_and_commits_once(
    store: PostgresStore,
) -> None:
    # Given a task, and a unit of work that has read it and written once
    with store.transaction() as tx:
        tx.put("tasks", "t-1", {"status": "open"})
        tx.put("counters", "c", {"value": 0})
    with store.transaction() as tx:
        task = tx.require("tasks", "t-1")
        counter = tx.require("counters", "c")
        tx.put("counters", "c", {"value": counter["value"] + 1})
        # When the server cuts its connection in the middle
        terminate(store.url, backend_of(tx._conn))  # type: ignore[arg-type]
        # Then its next step runs on a fresh connection, after replaying the first ones
        task["status"] = "taken"
        tx.put("tasks", "t-1", task)
    # And the whole unit of work committed, once
    with store.snapshot() as tx:
        assert tx.require("tasks", "t-1")["status"] == "taken"
        assert tx.require("counters", "c")["value"] == 1


def test_a_cut_unit_of_work_whose_reads_changed_meanwhile_writes_nothing(
    store: PostgresStore,
) -> None:
    # Given a unit of work that read a task and wrote a note
    with store.transaction() as tx:
        tx.put("tasks", "t-1", {"status": "open"})
    with pytest.raises(StoreConflict), store.transaction() as tx:
        assert tx.require("tasks", "t-1")["status"] == "open"
        tx.put("notes", "n-1", {"text": "I take it"})
        # When its connection is cut and someone else takes the task before it reconnects
        terminate(store.url, backend_of(tx._conn))  # type: ignore[arg-type]
        with store_in_other_thread(store) as other:
            other.put("tasks", "t-1", {"status": "taken by someone else"})
        tx.put("tasks", "t-1", {"status": "taken by me"})
    # Then nothing of it was written
    with store.snapshot() as tx:
        assert tx.require("tasks", "t-1")["status"] == "taken by someone else"
        assert tx.get("notes", "n-1") is None


class store_in_other_thread:  # noqa: N801
    """A transaction run by another thread (this one has a transaction open)."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store
        self.writes: list[tuple[str, str, dict[str, Any]]] = []

    def __enter__(self) -> store_in_other_thread:
        return self

    def put(self, collection: str, doc_id: str, doc: dict[str, Any]) -> None:
        self.writes.append((collection, doc_id, doc))

    def __exit__(self, *exc: object) -> None:
        def run() -> None:
            with self.store.transaction() as tx:
                for collection, doc_id, doc in self.writes:
                    tx.put(collection, doc_id, doc)

        thread = threading.Thread(target=run)
        thread.start()
        thread.join(30)


def test_the_outcome_of_a_commit_is_known_from_its_transaction_id(store: PostgresStore) -> None:
    with psycopg.connect(store.url) as conn:
        conn.execute("CREATE TEMP TABLE t (x int)")
        conn.execute("INSERT INTO t VALUES (1)")
        xid = conn.execute("SELECT pg_current_xact_id()::text").fetchone()[0]  # type: ignore[index]
        conn.commit()
        conn.execute("INSERT INTO t VALUES (2)")
        aborted = conn.execute("SELECT pg_current_xact_id()::text").fetchone()[0]  # type: ignore[index]
        conn.rollback()
    assert store.outcome(xid) == "committed"
    assert store.outcome(aborted) == "aborted"
