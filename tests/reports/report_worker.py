"""One process that reports at the east gate when told "go" (for test_race_processes.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from assistant.bootstrap import build
from assistant.clock import FakeClock, from_iso
from assistant.config import defaults
from assistant.queue import MemoryQueue
from assistant.services import reports
from assistant.store.tinydb_store import TinyDbStore


def main(store_dir: str, reporter: str, now: str, how: str) -> None:
    settings = defaults().with_values(storage={"dir": str(Path(store_dir).parent)})
    app = build(
        settings,
        store=TinyDbStore(Path(store_dir)),
        clock=FakeClock(from_iso(now)),
        queue=MemoryQueue(),
    )
    if how == "place":
        draft = reports.Draft(reporter_id=reporter, category="no_mask", place_id="jx-gate-east")
    else:
        lat, lon = (float(x) for x in how.split(","))
        draft = reports.Draft(reporter_id=reporter, category="no_mask", lat=lat, lon=lon)
    print("ready", flush=True)
    sys.stdin.readline()
    with app.unit() as tx:
        filed = reports.submit(tx, app, draft, app.clock.now())
    print(("merged" if filed.merged else "new"), filed.case["id"], flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])
