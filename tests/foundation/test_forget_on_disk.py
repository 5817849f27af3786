"""After /forget, no file under the data folder holds the person; every file there is private.

The real thing: ``assistant console --jsonl`` with its embedded Redis, worker
processes and the scheduler on a TinyDB store, a booking with a health note
that a volunteer accepts (so the details travel through the outbox), a
rating with a comment, then /forget — and a search of every file under the
data folder: the store's hot files and archives, the Redis append-only file
and logs.
"""

from __future__ import annotations

import stat
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from test_running_processes import Console, load_demo

from assistant.bootstrap import App
from assistant.clock import SystemClock, to_iso
from assistant.config import defaults
from assistant.runtime import production_app
from assistant.services import care, dispatch, people
from assistant.services.care import records as care_records

pytestmark = pytest.mark.slow

NAME = "甄秘珍"
PHONE = "13912345678"
ROOM = "QZ9431"
NOTES = "对芒果过敏XYZ"
USER = "zhenmizhen"
SECRETS = (NAME, PHONE, ROOM, NOTES, f"console:{USER}")


def onboard(console: Console) -> None:
    for line in (
        {"text": "/start"},
        {"press": "✓ 中文"},
        {"text": NAME},
        {"press": "锦绣家园"},
        {"press": "1栋"},
        {"press": "2单元"},
        {"text": ROOM},
        {"text": PHONE},
        {"press": "同意"},
    ):
        console.send(**{"as": USER, **line})
    console.wait_for(f"登记好了，{NAME}")


def book(app: App, days: int) -> dict[str, Any]:
    """A home care visit ``days`` from now at 10:00 local time, with a health note."""
    now = SystemClock().now()
    local = (now + timedelta(days=days)).astimezone(app.settings.timezone)
    start = local.replace(hour=10, minute=0, second=0, microsecond=0)
    with app.store.snapshot() as tx:
        person = people.person_at(tx, f"console:{USER}")
    assert person is not None
    draft = care_records.Draft(
        service="home_care",
        person_id=person["id"],
        booked_by=person["id"],
        via=care_records.CHAT,
        start=to_iso(start),
        household=person["household"],
        notes=NOTES,
    )
    with app.unit() as tx:
        booking = care.book(tx, app, draft, now)
    return booking


def wait_until(check: Any, limit: float = 60) -> Any:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("the condition never came true")


def files_holding(folder: Path, secrets: tuple[str, ...]) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            found += [f"{path.relative_to(folder)}: {s}" for s in secrets if s.encode() in blob]
    return found


def test_forget_leaves_nothing_on_disk_and_every_file_is_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    load_demo(data)
    console = Console(data)
    url_file = data / "redis" / "redis.url"
    wait_until(url_file.exists)
    app = production_app(defaults().with_values(storage={"dir": str(data)}), url_file.read_text())
    try:
        # Given a newcomer with a distinctive name, door and phone, and a booking with a
        # health note that a volunteer accepts, so the details go out to them
        onboard(console)
        booking = book(app, days=3)

        def offered() -> list[dict[str, Any]]:
            with app.store.snapshot() as tx:
                return tx.find(dispatch.OFFERS, task_id=booking["task_id"])

        offer = wait_until(offered)[0]
        with app.store.snapshot() as tx:
            volunteer = tx.require(people.PEOPLE, offer["person_id"])
        user = volunteer["addresses"][0].partition(":")[2]
        wait_until(  # this volunteer's own offer is on the screen, with its buttons
            lambda: any(
                m.get("to") == user and "新任务" in m.get("text", "") and m.get("buttons")
                for m in list(console.lines)
            )
        )
        console.send(**{"as": user, "press": "1"})
        console.wait_for(NOTES)  # the accepting volunteer got the details
        assert files_holding(data, (NOTES,)), "the note was never stored: the test proves nothing"
        # When the person asks to be forgotten
        console.send(**{"as": USER, "text": "/forget"})
        console.send(**{"as": USER, "press": "确定删除"})
        console.wait_for("您的个人信息已经删除了")
        console.wait_for("删除了个人信息")  # the coordinator hears of the cancelled visit

        def cancelled() -> bool:
            with app.store.snapshot() as tx:
                task = tx.require(dispatch.TASKS, booking["task_id"])
                return bool(task["status"] == dispatch.CANCELLED)

        wait_until(cancelled)
    finally:
        app.store.close()
        assert console.close() == 0
    # Then no file under the data folder holds any of the person's strings
    assert files_holding(data, SECRETS) == []
    # And every file there is readable by the service's user only, every folder too
    for path in [data, *data.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        want = 0o700 if path.is_dir() else 0o600
        assert mode == want, f"{path.relative_to(data)} is {oct(mode)}"
