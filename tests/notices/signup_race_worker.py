"""One process of the race for an activity's last places: waits for "go", then signs up.

Run as ``python race_worker.py <store dir> <person id> <session id>``; prints ``ready``
once set up, then ``booked <id>``, ``waiting <id>`` or ``full``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # console_world

from notices_world import MONDAY_9  # noqa: E402

from assistant.bootstrap import build_for_tests  # noqa: E402
from assistant.clock import FakeClock  # noqa: E402
from assistant.services import activities  # noqa: E402
from assistant.store.tinydb_store import TinyDbStore  # noqa: E402


def main(store_dir: str, person_id: str, session: str, wait: str) -> None:
    app = build_for_tests(store=TinyDbStore(store_dir), clock=FakeClock(MONDAY_9))
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        with app.unit() as tx:
            signup = activities.sign_up(
                tx, app, session, person_id, person_id, app.clock.now(), wait=wait == "wait"
            )
    except activities.Full:
        print("full", flush=True)
        return
    print(f"{signup['status']} {signup['id']}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])
