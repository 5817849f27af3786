"""The last place of a day, raced for by several real processes on the real store."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from assistant import demo
from assistant.services import care, people
from assistant.store.tinydb_store import TinyDbStore

WORKER = Path(__file__).resolve().parent / "race_worker.py"


@pytest.mark.slow
def test_four_processes_race_for_the_last_place_and_one_wins(tmp_path: Path) -> None:
    # Given a store with the demo community and home care taking one visit a day
    store = TinyDbStore(tmp_path / "store")
    demo.load(store, "2026-06-01T00:00:00+00:00")
    with store.snapshot() as tx:
        residents = [p["id"] for p in tx.all(people.PEOPLE) if "resident" in p["roles"]][:4]
    assert len(residents) == 4
    # When four processes book tomorrow 09:00 at the same moment
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                str(WORKER),
                str(tmp_path / "store"),
                pid,
                "2026-06-02T01:00:00+00:00",
            ],
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
    results = [worker.communicate(timeout=60)[0].strip() for worker in workers]
    # Then exactly one won, the others were told the day is full, and the store agrees
    assert sorted(r.split()[0] for r in results) == ["full", "full", "full", "won"], results
    with store.snapshot() as tx:
        [booking] = tx.all(care.BOOKINGS)
        assert care.taken(tx, "home_care") == {date(2026, 6, 2): 1}
    assert f"won {booking['id']}" in results
