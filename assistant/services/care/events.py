"""Following a care task: dispatch's events recorded on the booking, and the resident told.

Dispatch calls :func:`heard` — the listener of the "care visit" task kind,
registered from the composition root (``care.TASK_KIND``) — inside the unit of
work of its ``dispatch.event`` job. Events only move a booking forward, so
repeated or late events change nothing and at-least-once delivery is safe.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.clock import to_iso
from assistant.services import people
from assistant.services.care.notify import tell
from assistant.services.care.records import (
    ARRIVED,
    ASSIGNED,
    AWAITING,
    BOOKINGS,
    CANCELLED,
    DONE,
    FAILED,
    ON_WAY,
    OPEN,
    save,
    set_status,
)
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

RANK = {AWAITING: 0, OPEN: 1, ASSIGNED: 2, ON_WAY: 3, ARRIVED: 4, DONE: 5, FAILED: 5}
EVENT_STATUS = {
    "assigned": ASSIGNED,
    "on_way": ON_WAY,
    "arrived": ARRIVED,
    "done": DONE,
    "failed": FAILED,
}
SETBACKS = ("escalated", "dropped")


def on_task_event(app: App, booking_id: str, event: str, task: dict[str, Any]) -> None:
    """Follow a task's progress in a unit of work of its own (see :func:`heard`)."""
    with app.unit() as tx:
        heard(tx, app, booking_id, event, task)


def heard(tx: Tx, app: App, booking_id: str, event: str, task: dict[str, Any]) -> None:
    """The care visit's listener: record the task's progress on the booking, tell the resident.

    Repeated or late events change nothing, so at-least-once delivery is safe.
    """
    apply_event(tx, app, booking_id, event, task, app.clock.now())


def apply_event(
    tx: Tx, app: App, booking_id: str, event: str, task: dict[str, Any], now: datetime
) -> bool:
    """Record an event on the booking; whether it changed anything."""
    booking = tx.get(BOOKINGS, booking_id)
    if booking is None or booking["status"] in (CANCELLED, AWAITING):
        return False
    if event not in SETBACKS and event not in EVENT_STATUS:
        log.warning("booking %s got an unknown task event %s", booking_id, event)
        return False
    if not _react(tx, app, booking, event, task, now):
        return False
    save(tx, booking)
    log.info("booking %s: task event %s", booking_id, event)
    return True


def _react(tx: Tx, app: App, booking: Doc, event: str, task: dict[str, Any], now: datetime) -> bool:
    """Change the booking for a known event; ``False`` when the event is stale."""
    if event == "escalated":
        return _escalated(tx, app, booking, now)
    if event == "dropped":
        return _dropped(tx, app, booking, now)
    return _progressed(tx, app, booking, event, task, now)


def _escalated(tx: Tx, app: App, booking: Doc, now: datetime) -> bool:
    """Nobody took the task in time: tell the resident once, while it is still open."""
    if booking.get("escalated_at") or booking["status"] != OPEN:
        return False
    booking["escalated_at"] = to_iso(now)
    tell(tx, app, booking, "care.note_escalated", now)
    return True


def _dropped(tx: Tx, app: App, booking: Doc, now: datetime) -> bool:
    """The volunteer gave the task back: the booking is open again."""
    if booking["status"] not in (ASSIGNED, ON_WAY, ARRIVED):
        return False
    set_status(booking, OPEN, now)
    tell(tx, app, booking, "care.note_dropped", now)
    return True


def _progressed(
    tx: Tx, app: App, booking: Doc, event: str, task: dict[str, Any], now: datetime
) -> bool:
    """The task moved forward: record the new status unless it is already past it."""
    status = EVENT_STATUS[event]
    if RANK[status] <= RANK[booking["status"]]:
        return False
    set_status(booking, status, now)
    _told_of(tx, app, booking, event, task, now)
    return True


def _told_of(
    tx: Tx, app: App, booking: Doc, event: str, task: dict[str, Any], now: datetime
) -> None:
    """Tell the resident of the progress; start the follow-ups of a finished visit."""
    from assistant.services.care import followups as care_followups  # it imports this module

    if event == "done":
        booking["done_at"] = to_iso(now)
        care_followups.after_done(tx, app, booking, now)
    elif event == "failed":
        tell(tx, app, booking, "care.note_failed", now)
        care_followups.after_failed(tx, app, booking, now)
    else:
        assignee = tx.get(people.PEOPLE, str(task.get("assignee_id") or "")) if task else None
        volunteer = str((assignee or {}).get("name") or "")
        if event == "assigned" and volunteer:
            tell(tx, app, booking, "care.note_assigned_named", now, volunteer=volunteer)
        else:
            tell(tx, app, booking, f"care.note_{event}", now)
