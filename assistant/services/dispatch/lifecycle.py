"""A task after it is assigned: the volunteer's steps, reminders and safety checks.

``assigned → on_way → arrived → done | failed``; ``drop`` puts the task back
to ``open`` for a fresh round of waves without the one who dropped it. Only
the assignee may move a task, and pressing the same step twice changes
nothing. The reminders and the safety check are durable timers keyed by
task, so they can be stopped when the task moves or closes.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from assistant.clock import from_iso, to_iso
from assistant.jobs import timers
from assistant.services import people
from assistant.services.dispatch.events import emit
from assistant.services.dispatch.messages import coordinator_alert
from assistant.services.dispatch.records import (
    ACTIVE,
    ARRIVED,
    ASSIGNED,
    CLOSED,
    DONE,
    FAILED,
    ON_WAY,
    OPEN,
    TASKS,
    NotYours,
    TooEarly,
    WrongStep,
    assignee,
    on_way_from,
    setting,
    timer_key,
    wave_key,
)
from assistant.services.people import volunteers
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

STEPS: dict[str, tuple[tuple[str, ...], str]] = {
    "on_way": ((ASSIGNED,), ON_WAY),
    "arrived": ((ASSIGNED, ON_WAY), ARRIVED),
    "done": ((ASSIGNED, ON_WAY, ARRIVED), DONE),
    "fail": ((ASSIGNED, ON_WAY, ARRIVED), FAILED),
    "drop": ((ASSIGNED, ON_WAY), OPEN),
}
"""step name → (the states it may start from, the state it leads to)."""

NEEDS_START = ("on_way", "arrived", "done")
"""Steps that make sense only from ``[dispatch] on_way_hours`` before the start."""


def step(tx: Tx, app: App, task_id: str, person_id: str, name: str, reason: str = "") -> Doc:
    """Move a task one step of its lifecycle for its assignee; return it.

    Pressing the same step twice is harmless: the second press changes nothing.
    """
    if name not in STEPS:
        raise WrongStep()
    task = tx.get(TASKS, task_id)
    if task is None:
        raise NotYours()
    if _pressed_before(task, person_id, name):
        return task
    before, after = STEPS[name]
    if task.get("assignee_id") != person_id:
        raise NotYours()
    if task["status"] not in before:
        raise WrongStep()
    now = app.clock.now()
    if name in NEEDS_START and now < on_way_from(app, task):
        raise TooEarly()
    if name == "drop":
        hand_back(tx, app, task, person_id, now)
    else:
        _advance(tx, app, task, after, reason, now)
    return task


def may_step(tx: Tx, task_id: str, person_id: str, name: str) -> Doc:
    """The task, if its assignee may take step ``name`` now (before asking why or "sure?")."""
    task = tx.get(TASKS, task_id)
    if task is None or task.get("assignee_id") != person_id:
        raise NotYours()
    if name not in STEPS or task["status"] not in STEPS[name][0]:
        raise WrongStep()
    return task


def _pressed_before(task: Doc, person_id: str, name: str) -> bool:
    """Whether this person already took this step (a repeated press)."""
    if name == "drop":
        return person_id in task["dropped"]
    return bool(task["status"] == STEPS[name][1] and task.get("assignee_id") == person_id)


def finish(tx: Tx, app: App, task: Doc, now: datetime) -> None:
    """Close the task as done for its feature (as if its assignee had pressed "done")."""
    _advance(tx, app, task, DONE, "", now)


def _advance(tx: Tx, app: App, task: Doc, after: str, reason: str, now: datetime) -> None:
    """Put the task in state ``after``, start or stop its timers, and tell the listener."""
    task["status"] = after
    task[f"{after}_at"] = to_iso(now)
    if after == ARRIVED:
        schedule_safety(tx, app, task, now)
    if after in CLOSED:
        task["closed_at"] = to_iso(now)
        task["reason"] = reason if after == FAILED else ""
        stop_timers(tx, app, task)
    tx.put(TASKS, task["id"], task)
    if after in (ON_WAY, ARRIVED, DONE, FAILED):
        emit(tx, app, task, "failed" if after == FAILED else after)


def hand_back(tx: Tx, app: App, task: Doc, person_id: str, now: datetime) -> None:
    """The task goes back to dispatch: a fresh round of waves, without this person."""
    stop_timers(tx, app, task)
    task["dropped"] = sorted(set(task["dropped"]) | {person_id})
    task.update(
        status=OPEN,
        assignee_id=None,
        round=int(task["round"]) + 1,
        wave=0,
        offered=[],
        escalated=False,
        assign_choices=[],
    )
    tx.put(TASKS, task["id"], task)
    round_no = int(task["round"])
    timers.schedule(
        tx,
        "dispatch.wave",
        [task["id"], round_no, 1],
        now,
        now,
        key=wave_key(task["id"], round_no, 1),
    )
    log.info("task %s handed back by its volunteer; round %d", task["id"], round_no)
    emit(tx, app, task, "dropped", volunteer_id=person_id)


def ask_help(tx: Tx, app: App, task_id: str, person_id: str) -> Doc:
    """The assignee needs help: alert the coordinators with the address."""
    task = tx.get(TASKS, task_id)
    if task is None or task.get("assignee_id") != person_id or task["status"] not in ACTIVE:
        raise NotYours()
    alert_coordinators(tx, app, task, "dispatch.help_coordinator", app.clock.now())
    return task


def alert_coordinators(tx: Tx, app: App, task: Doc, message: str, now: datetime) -> None:
    """Tell the task's coordinators about its volunteer (staff may see the address)."""
    volunteer = assignee(tx, task) or {}
    for coordinator in people.coordinators_for(tx, task.get("grid_id")):
        volunteers.tell(
            tx,
            app,
            coordinator,
            lambda tr: coordinator_alert(app, tr, task, message, volunteer),
            now,
        )


# -- timers tied to a task ------------------------------------------------------------------------


def schedule_reminders(tx: Tx, app: App, task: Doc, now: datetime) -> None:
    """One reminder per ``reminder_hours`` before the start, if still ahead."""
    starts = from_iso(task["starts_at"])
    for hours in setting(app, "reminder_hours"):
        due = starts - timedelta(hours=float(hours))
        if due > now:
            timers.schedule(
                tx,
                "dispatch.remind",
                [task["id"], task["assignee_id"], task["starts_at"], hours],
                due,
                now,
                key=timer_key("remind", task["id"], hours),
            )


def schedule_safety(tx: Tx, app: App, task: Doc, now: datetime) -> None:
    """The safety check after arriving: duration plus the safety margin."""
    margin = timedelta(minutes=int(setting(app, "safety_margin_minutes")))
    due = now + timedelta(minutes=int(task["duration_minutes"])) + margin
    timers.schedule(
        tx, "dispatch.safety", [task["id"], 1], due, now, key=timer_key("safety", task["id"], 1)
    )


def stop_reminders(tx: Tx, app: App, task: Doc) -> None:
    """Cancel the task's pending reminders (it moved, or it is no longer theirs)."""
    for hours in setting(app, "reminder_hours"):
        timers.cancel(tx, timer_key("remind", task["id"], hours))


def stop_timers(tx: Tx, app: App, task: Doc) -> None:
    """Cancel every pending timer of the task: reminders, safety checks, waves of this round."""
    stop_reminders(tx, app, task)
    for stage in (1, 2):
        timers.cancel(tx, timer_key("safety", task["id"], stage))
    for wave in range(1, int(setting(app, "waves")) + 2):
        timers.cancel(tx, wave_key(task["id"], int(task["round"]), wave))
