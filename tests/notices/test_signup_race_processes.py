"""The last places of an activity, raced for by several real processes on the real store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from assistant import demo
from assistant.services import activities, people
from assistant.store.tinydb_store import TinyDbStore

WORKER = Path(__file__).resolve().parent / "signup_race_worker.py"
SESSION = "ac-nanyin@20260606"  # the demo's culture evening, Saturday 6 June


def _race(tmp_path: Path, racers: int, capacity: int, wait: str) -> tuple[list[str], TinyDbStore]:
    store = TinyDbStore(tmp_path / "store")
    demo.load(store, "2026-06-01T00:00:00+00:00")
    with store.transaction() as tx:
        doc = tx.require(activities.ACTIVITIES, "ac-nanyin")
        doc["capacity"] = capacity
        tx.put(activities.ACTIVITIES, "ac-nanyin", doc)
        residents = [p["id"] for p in tx.all(people.PEOPLE)][:racers]
    assert len(residents) == racers
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(tmp_path / "store"), pid, SESSION, wait],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for pid in residents
    ]
    for worker in workers:  # every process is set up and waiting
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    return [w.communicate(timeout=120)[0].strip() for w in workers], store


@pytest.mark.slow
def test_six_processes_race_for_three_places_and_exactly_three_get_one(tmp_path: Path) -> None:
    # When six processes sign up for a session with three places at the same moment
    results, store = _race(tmp_path, racers=6, capacity=3, wait="no")
    # Then exactly three were booked and three were told it is full
    assert sorted(r.split()[0] for r in results) == ["booked"] * 3 + ["full"] * 3, results
    with store.snapshot() as tx:
        assert tx.require(activities.SESSIONS, SESSION)["count"] == 3
        assert len(tx.all(activities.SIGNUPS)) == 3


@pytest.mark.slow
def test_the_ones_who_lose_the_race_queue_in_order(tmp_path: Path) -> None:
    results, store = _race(tmp_path, racers=5, capacity=2, wait="wait")
    assert sorted(r.split()[0] for r in results) == ["booked"] * 2 + ["waiting"] * 3, results
    with store.snapshot() as tx:
        session = tx.require(activities.SESSIONS, SESSION)
        waiting = {s["id"] for s in tx.all(activities.SIGNUPS) if s["status"] == "waiting"}
    assert session["count"] == 2 and set(session["waiting"]) == waiting and len(waiting) == 3
