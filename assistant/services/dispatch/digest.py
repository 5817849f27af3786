"""The coordinators' daily digest: scheduling, wording, and tidying up.

Each coordinator gets, for their grids, the new tasks of the last day, the
open ones, the late ones (not started after their start time, or arrived and
overdue) and the failed ones, with a few lines for the late and failed —
service, time and grid only. The digest is sent once per date
(``dispatch_digests``) and then archives the tasks closed two days ago.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from assistant.clock import from_iso, to_iso
from assistant.conversation.vocabulary import Reply
from assistant.domain import slots
from assistant.i18n import Translator
from assistant.jobs import timers
from assistant.services import people
from assistant.services.dispatch.messages import public_words
from assistant.services.dispatch.records import (
    ARRIVED,
    ASSIGNED,
    CLOSED,
    FAILED,
    OFFERS,
    ON_WAY,
    OPEN,
    TASKS,
    setting,
    timer_key,
)
from assistant.services.people import volunteers
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

DIGESTS = "dispatch_digests"
KEEP_CLOSED = timedelta(days=2)
DIGEST_LINES = 8


def ensure_digest(tx: Tx, app: App) -> None:
    """Make sure the next daily digest is scheduled (idempotent, keyed by date)."""
    now = app.clock.now()
    zone = app.settings.timezone
    local = now.astimezone(zone)
    hour = int(setting(app, "digest_hour"))
    due = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if due <= local:
        due += timedelta(days=1)
    day = due.date().isoformat()
    timers.schedule(tx, "dispatch.digest", [day], due, now, key=timer_key("digest", day))


def send_digest(tx: Tx, app: App, day: str) -> int:
    """Send each coordinator the day's summary once, tidy up, and schedule tomorrow's.

    Returns how many coordinators were sent the digest (none when it went out before).
    """
    ensure_digest(tx, app)
    if tx.get(DIGESTS, day) is not None:
        return 0
    now = app.clock.now()
    tx.put(DIGESTS, day, {"sent_at": to_iso(now)})
    tasks = tx.all(TASKS)
    coordinators = people.coordinators_for(tx, None)
    for coordinator in coordinators:
        mine = coordinator_tasks(coordinator, tasks)
        volunteers.tell(
            tx, app, coordinator, partial(digest_reply, app, day=day, tasks=mine, now=now), now
        )
    tidy(tx, tasks, now)
    return len(coordinators)


def coordinator_tasks(coordinator: Doc, tasks: list[Doc]) -> list[Doc]:
    """The tasks of the coordinator's grids (all of them when no grid is set) and grid-less ones."""
    grids = set(coordinator.get("coordinator_grids", []))
    return [t for t in tasks if not grids or t.get("grid_id") in grids or not t.get("grid_id")]


def late(app: App, task: Doc, now: datetime) -> bool:
    """Whether a task is behind: unstarted after its start, or arrived and overdue."""
    starts = from_iso(task["starts_at"])
    if task["status"] in (OPEN, ASSIGNED, ON_WAY):
        return starts < now
    if task["status"] == ARRIVED and task.get("arrived_at"):
        margin = int(setting(app, "safety_margin_minutes"))
        limit = timedelta(minutes=int(task["duration_minutes"]) + margin)
        return from_iso(task["arrived_at"]) + limit < now
    return False


def digest_reply(app: App, tr: Translator, day: str, tasks: list[Doc], now: datetime) -> Reply:
    """The digest text: counts for the day, then a line per late or failed task."""
    since = now - timedelta(days=1)
    new = [t for t in tasks if from_iso(t["created_at"]) >= since]
    still_open = [t for t in tasks if t["status"] == OPEN]
    behind = [t for t in tasks if late(app, t, now)]
    failed = [
        t
        for t in tasks
        if t["status"] == FAILED and from_iso(t.get("closed_at") or t["created_at"]) >= since
    ]
    lines = [
        tr.t(
            "dispatch.digest",
            date=slots.date_words(date.fromisoformat(day), tr.is_chinese),
            new=len(new),
            open=len(still_open),
            late=len(behind),
            failed=len(failed),
        )
    ]
    for task in (behind + [t for t in failed if t not in behind])[:DIGEST_LINES]:
        lines.append(
            tr.t(
                "dispatch.digest_line",
                status=tr.t(f"dispatch.state_{task['status']}"),
                **public_words(app, tr, task),
            )
        )
    return Reply("\n".join(lines))


def tidy(tx: Tx, tasks: list[Doc], now: datetime) -> None:
    """Move tasks closed two days ago, and their offers, out of the hot files."""
    for task in tasks:
        closed = task.get("closed_at")
        if task["status"] in CLOSED and closed and from_iso(closed) + KEEP_CLOSED < now:
            for offer in tx.find(OFFERS, task_id=task["id"]):
                tx.archive(OFFERS, offer["id"])
            tx.archive(TASKS, task["id"])
