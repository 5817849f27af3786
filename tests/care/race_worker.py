"""One process of the race for the last place: waits for "go" on stdin, then books.

Run as ``python race_worker.py <store dir> <person id> <start ISO>``; prints
``ready`` once set up, then ``won <booking id>`` or ``full``.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # console_world

from care_transcript import MONDAY_9, FakeDispatch  # noqa: E402

from assistant.bootstrap import build_for_tests  # noqa: E402
from assistant.clock import FakeClock  # noqa: E402
from assistant.services import care  # noqa: E402
from assistant.store.tinydb_store import TinyDbStore  # noqa: E402


def main(store_dir: str, person_id: str, start: str) -> None:
    app = build_for_tests(
        store=TinyDbStore(store_dir), clock=FakeClock(MONDAY_9), dispatch=FakeDispatch()
    )
    app.services["home_care"] = dataclasses.replace(app.services["home_care"], daily_capacity=1)
    draft = care.Draft("home_care", person_id, person_id, care.CHAT, start, None)
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        with app.unit() as tx:
            booking = care.book(tx, app, draft, app.clock.now())
    except care.SlotFull:
        print("full", flush=True)
        return
    print(f"won {booking['id']}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
