"""Several real processes report the same place at the same moment: one case, every reporter a follower."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from assistant import demo
from assistant.services import reports
from assistant.store.tinydb_store import TinyDbStore

WORKER = Path(__file__).resolve().parent / "report_worker.py"
NOW = "2026-06-01T01:00:00+00:00"
HOWS = ("place", "25.06412,118.18903", "place", "25.06430,118.18920", "place", "25.06400,118.18880")


@pytest.mark.slow
def test_six_processes_reporting_one_place_make_one_case(tmp_path: Path) -> None:
    # Given the demo community on the real TinyDB store
    store_dir = tmp_path / "store"
    store = TinyDbStore(store_dir)
    demo.load(store, NOW)
    # When six processes report "no mask" at the east gate (a place, or pins within 30 m) at once
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(store_dir), f"p-race-{n}", NOW, how],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n, how in enumerate(HOWS)
    ]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    results = [worker.communicate(timeout=120)[0].split() for worker in workers]
    # Then exactly one made the case and five joined it
    assert sorted(r[0] for r in results) == ["merged"] * 5 + ["new"], results
    assert len({r[1] for r in results}) == 1
    with store.snapshot() as tx:
        [case] = [c for c in tx.all(reports.CASES) if not c.get("demo")]
        tasks = [t for t in tx.all("tasks") if t["kind"] == reports.KIND]
    assert sorted(case["followers"]) == sorted(f"p-race-{n}" for n in range(6))
    assert len(case["reports"]) == 6 and len(tasks) == 1
