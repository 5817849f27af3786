"""Real processes share one store folder: no lost write, no torn file, one winner per claim."""

from __future__ import annotations

import json
import multiprocessing
import random
import time
from collections.abc import Callable
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

import pytest

from assistant.store.tinydb_store import TinyDbStore

pytestmark = pytest.mark.slow

SPAWN = multiprocessing.get_context("spawn")
ROUND = 100
PAYLOAD = "照料" * 400


def wait_until(condition: Callable[[], bool], limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def join_all(processes: list[Any], limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        assert process.exitcode == 0, f"{process.name} ended with {process.exitcode}"


# --- code run by the child processes ------------------------------------------------------------


def insert_many(directory: str, worker: int, count: int) -> None:
    """Insert ``count`` requests, one unit of work each."""
    store = TinyDbStore(directory)
    for number in range(count):
        with store.transaction() as tx:
            tx.put("requests", f"w{worker}-{number:03d}", {"worker": worker, "number": number})
    store.close()


def claim(directory: str, worker: int, start: Any, results: Any) -> None:
    """Race the others to claim task t-1, and report whether this worker won."""
    store = TinyDbStore(directory)
    start.wait(30)
    with store.transaction() as tx:
        task = tx.require("tasks", "t-1")
        won = task.get("claimed_by") is None
        if won:
            task["claimed_by"] = f"v{worker}"
            tx.put("tasks", "t-1", task)
    results.put((worker, won))
    store.close()


def write_rounds(directory: str, committed: Synchronized[int], shards: dict[str, int]) -> None:
    """Commit rounds until killed.

    Round n puts ROUND big records, archives those of round n - 1, deletes the
    first (archived) record of round n - 2 and records itself in a second
    collection: every commit rewrites two hot files (or, with ``shards``, every
    shard of the records), archives and deletes.
    """
    store = TinyDbStore(directory, shards=shards)
    with store.snapshot() as tx:
        number = max((doc["number"] for doc in tx.all("rounds")), default=-1) + 1
    while True:
        with store.transaction() as tx:
            for item in range(ROUND):
                tx.put("records", record_id(number, item), {"round": number, "payload": PAYLOAD})
                if number:
                    tx.archive("records", record_id(number - 1, item))
            if number >= 2:
                tx.delete("records", record_id(number - 2, 0))
            tx.put("rounds", f"n{number:04d}", {"number": number})
        committed.value = number
        number += 1


def record_id(number: int, item: int) -> str:
    return f"r{number:04d}-{item:03d}"


# --- the tests ----------------------------------------------------------------------------------


def test_four_processes_inserting_200_each_leave_exactly_800(tmp_path: Path) -> None:
    # Given four processes inserting 200 requests each into the same collection
    processes = [
        SPAWN.Process(target=insert_many, args=(str(tmp_path), worker, 200)) for worker in range(4)
    ]
    for process in processes:
        process.start()
    join_all(processes)
    # Then the file is valid JSON holding every request, and the store agrees
    raw = json.loads((tmp_path / "requests.json").read_bytes())
    assert len(raw["requests"]) == 800
    with TinyDbStore(tmp_path).snapshot() as tx:
        requests = tx.all("requests")
    assert {(doc["worker"], doc["number"]) for doc in requests} == {
        (worker, number) for worker in range(4) for number in range(200)
    }


def test_eight_processes_racing_for_one_task_make_one_winner(tmp_path: Path) -> None:
    # Given one open task and eight volunteers' processes released at the same moment
    store = TinyDbStore(tmp_path)
    with store.transaction() as tx:
        tx.put("tasks", "t-1", {"status": "open", "claimed_by": None})
    start = SPAWN.Event()
    results = SPAWN.Queue()
    processes = [
        SPAWN.Process(target=claim, args=(str(tmp_path), worker, start, results))
        for worker in range(8)
    ]
    for process in processes:
        process.start()
    start.set()
    outcomes = dict(results.get(timeout=60) for _ in processes)
    join_all(processes)
    # Then exactly one won, and the task names that one
    winners = [worker for worker, won in outcomes.items() if won]
    assert len(winners) == 1
    with store.snapshot() as tx:
        assert tx.require("tasks", "t-1")["claimed_by"] == f"v{winners[0]}"


@pytest.mark.parametrize("shards", [{}, {"records": 8}], ids=["one-file", "sharded"])
def test_a_writer_killed_mid_commit_leaves_every_committed_round_intact(
    tmp_path: Path, shards: dict[str, int]
) -> None:
    committed = SPAWN.Value("i", -1, lock=False)
    chance = random.Random()
    for _ in range(5):
        # Given a writer committing big rounds in a loop (records in one file, or in shards)
        writer = SPAWN.Process(target=write_rounds, args=(str(tmp_path), committed, shards))
        writer.start()
        target = committed.value + chance.randint(1, 3)
        wait_until(lambda: committed.value >= target)  # noqa: B023
        # When it is killed with SIGKILL at a random moment of a later round
        time.sleep(chance.uniform(0, 0.03))  # chooses the kill moment; nothing is awaited
        writer.kill()
        writer.join(10)
        # Then the last committed state is whole
        assert_rounds_intact(tmp_path, committed.value)


def assert_rounds_intact(directory: Path, reported: int) -> None:
    # The hot files are whole JSON even before any store repairs anything
    hot = [directory / "rounds.json", *directory.glob("records*.json")]
    for path in hot:
        json.loads(path.read_bytes())
    store = TinyDbStore(directory)  # a store built without the layout finds it in the folder
    with store.transaction() as tx:
        numbers = sorted(doc["number"] for doc in tx.all("rounds"))
        # Every round reported as committed is there, with no gap and nothing half done
        assert numbers == list(range(len(numbers)))
        last = numbers[-1]
        assert last >= reported
        assert [doc["id"] for doc in tx.all("records")] == [
            record_id(last, item) for item in range(ROUND)
        ]
        for number in numbers:
            for item in range(ROUND):
                doc = tx.get("records", record_id(number, item))
                if item == 0 and number < last - 1:
                    assert doc is None, f"{record_id(number, item)} was deleted"
                else:
                    assert doc is not None and doc["round"] == number
                    assert doc["payload"] == PAYLOAD
        assert sum(1 for _ in tx.archived("records")) == ROUND * last - max(0, last - 1)
    store.close()
    assert not list(directory.glob(".*.tmp"))
