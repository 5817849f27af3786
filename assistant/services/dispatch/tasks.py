"""What a feature does to its task: open it, cancel it, move it.

A feature opens a task of a registered kind (``app.task_kinds``) with
:func:`open_task` inside its own unit of work; the first wave is a timer due
at once, handed to the workers by the unit of work after the commit.
Cancelling edits the open offers to "cancelled" and tells the assignee;
moving edits the open offers in place and re-schedules the reminders.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from assistant.clock import to_iso
from assistant.jobs import timers
from assistant.services.dispatch.digest import ensure_digest
from assistant.services.dispatch.lifecycle import (
    finish,
    schedule_reminders,
    stop_reminders,
    stop_timers,
)
from assistant.services.dispatch.messages import post_offer, task_notice
from assistant.services.dispatch.model import Task
from assistant.services.dispatch.offers import close_offers
from assistant.services.dispatch.records import (
    CANCELLED,
    CLOSED,
    OFFER_OPEN,
    OFFER_WITHDRAWN,
    OFFERS,
    TASKS,
    assignee,
    wave_key,
)
from assistant.services.people import volunteers
from assistant.store.base import Doc, Tx, new_id

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)


def open_task(
    tx: Tx,
    app: App,
    *,
    kind: str,
    ref: str,
    skill: str,
    grid_id: str | None,
    starts_at: datetime,
    duration_minutes: int,
    summary: dict[str, str],
    private: dict[str, str],
    requester_id: str,
    wave_minutes: float | None = None,
    payload: dict[str, Any] | None = None,
) -> str:
    """Create a task of a registered kind and schedule its first wave now; return its id.

    Every kind's task carries the same fields — skill, grid, time window, the
    coarse ``summary`` any volunteer offered it may see, the ``private``
    details revealed on accept — and ``payload``, the kind's own data.

    Raises:
        UnknownKind: no context registered ``kind``.
    """
    if starts_at.tzinfo is None:
        raise ValueError("starts_at must be timezone-aware")
    app.task_kinds.require(kind)
    now = app.clock.now()
    task_id = new_id("tk")
    task = Task(
        id=task_id,
        kind=kind,
        ref=ref,
        skill=skill,
        grid_id=grid_id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=duration_minutes),
        duration_minutes=int(duration_minutes),
        summary=dict(summary),
        private=dict(private),
        payload=dict(payload or {}),
        requester_id=requester_id,
        wave_minutes=wave_minutes,
        created_at=to_iso(now),
    ).to_doc()
    tx.put(TASKS, task_id, task)
    timers.schedule(tx, "dispatch.wave", [task_id, 1, 1], now, now, key=wave_key(task_id, 1, 1))
    ensure_digest(tx, app)
    log.info("task %s opened (%s, skill %s)", task_id, kind, skill)
    return task_id


def cancel_task(tx: Tx, app: App, task_id: str, reason: str) -> None:
    """Withdraw a task: open offers edited to "cancelled", the assignee told."""
    task = tx.get(TASKS, task_id)
    if task is None or task["status"] in CLOSED:
        return
    now = app.clock.now()
    close_offers(tx, app, task, OFFER_WITHDRAWN, "dispatch.offer_withdrawn", now)
    person = assignee(tx, task)
    if person is not None:
        volunteers.tell(
            tx, app, person, lambda tr: task_notice(app, tr, task, "dispatch.cancelled"), now
        )
    stop_timers(tx, app, task)
    task["status"] = CANCELLED
    task["reason"] = reason
    task["closed_at"] = to_iso(now)
    tx.put(TASKS, task_id, task)
    log.info("task %s cancelled", task_id)


def complete_task(tx: Tx, app: App, task_id: str) -> None:
    """The feature says the work is done (every household of a delivery run marked): the task
    is done as if its assignee had pressed "done", offers still open are withdrawn, and its
    listener hears "done". Nothing happens to a task that is closed already."""
    task = tx.get(TASKS, task_id)
    if task is None or task["status"] in CLOSED:
        return
    now = app.clock.now()
    close_offers(tx, app, task, OFFER_WITHDRAWN, "dispatch.offer_withdrawn", now)
    finish(tx, app, task, now)
    log.info("task %s completed by its feature", task_id)


def revise_private(tx: Tx, app: App, task_id: str, private: dict[str, str]) -> None:
    """Replace what only the assignee sees (a forgotten household taken off a run sheet);
    the earlier version is purged, so it stays in no file."""
    task = tx.get(TASKS, task_id)
    if task is None:
        return
    task["private"] = dict(private)
    tx.purge(TASKS, task_id, task)


def revise_summary(tx: Tx, app: App, task_id: str, summary: dict[str, str]) -> None:
    """Replace what every volunteer offered the task reads (a report count that grew);
    offers still open are edited in place. Nothing for a closed task."""
    task = tx.get(TASKS, task_id)
    if task is None or task["status"] in CLOSED:
        return
    task["summary"] = dict(summary)
    tx.put(TASKS, task_id, task)
    _edit_open_offers(tx, app, task, app.clock.now())


def _edit_open_offers(tx: Tx, app: App, task: Doc, now: datetime) -> None:
    """Send the task's open offers again in place (its time or its words changed)."""
    for offer in tx.find(OFFERS, task_id=task["id"], status=OFFER_OPEN):
        post_offer(tx, app, task, offer, now, edit=True)


def reschedule_task(tx: Tx, app: App, task_id: str, starts_at: datetime) -> None:
    """Move a task; open offers are edited and the assignee is told the new time."""
    task = tx.require(TASKS, task_id)
    if task["status"] in CLOSED:
        return
    now = app.clock.now()
    stop_reminders(tx, app, task)
    task["starts_at"] = to_iso(starts_at)
    task["ends_at"] = to_iso(starts_at + timedelta(minutes=int(task["duration_minutes"])))
    tx.put(TASKS, task_id, task)
    _edit_open_offers(tx, app, task, now)
    person = assignee(tx, task)
    if person is not None:
        volunteers.tell(
            tx, app, person, lambda tr: task_notice(app, tr, task, "dispatch.rescheduled"), now
        )
        schedule_reminders(tx, app, task, now)
