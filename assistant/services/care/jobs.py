"""Background jobs of the dispatch engine, run from durable timers.

Each job takes ids, loads fresh state in one transaction, re-checks the task's
status, records that it ran (so a redelivered job does nothing twice), posts
its messages through the outbox, and kicks the timers it created after commit.

    dispatch.wave     offer a task to the next wave, or escalate after the last
    dispatch.remind   remind the assignee ``reminder_hours`` before the start
    dispatch.safety   no "done" after arriving: ask the volunteer, then the coordinators
    dispatch.event    tell the feature that opened the task what happened
    dispatch.digest   the coordinators' morning summary; schedules the next one
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from assistant.conversation.vocabulary import Choice, Reply
from assistant.i18n import Translator
from assistant.jobs import timers
from assistant.services import dispatch, people
from assistant.services.dispatch import digest as dispatch_digest
from assistant.services.people import volunteers
from assistant.store.base import Doc, NotFound, Tx
from workers.registry import JobSpec

if TYPE_CHECKING:
    from assistant.bootstrap import App

log = logging.getLogger(__name__)


def _in_transaction(app: App, work: Callable[[Tx], list[str]]) -> None:
    """Run ``work`` atomically, then hand its due timers to the workers."""
    with app.store.transaction() as tx:
        kicks = work(tx)
    timers.kick(app, kicks)


def wave_job(app: App, task_id: str, round_no: int, wave: int) -> None:
    """Offer a task to its next wave (once per round and wave)."""
    _in_transaction(app, lambda tx: dispatch.run_wave(tx, app, task_id, int(round_no), int(wave)))


# -- reminders ---------------------------------------------------------------------------------


def remind_job(app: App, task_id: str, assignee_id: str, starts_at: str, hours: float) -> None:
    """Remind the assignee of a task, if it is still theirs at that time."""
    _in_transaction(app, lambda tx: _remind(tx, app, task_id, assignee_id, starts_at, hours))


def _remind(
    tx: Tx, app: App, task_id: str, assignee_id: str, starts_at: str, hours: float
) -> list[str]:
    """Send the reminder once per start time and lead time; return kicks."""
    task = tx.get(dispatch.TASKS, task_id)
    if task is None or not _still_theirs(task, assignee_id, starts_at):
        return []
    now = app.clock.now()
    mark = f"{starts_at}|{hours}"
    if mark in task.get("reminded", []):
        return []
    task["reminded"] = [*task.get("reminded", []), mark]
    tx.put(dispatch.TASKS, task_id, task)
    person = tx.require(people.PEOPLE, assignee_id)
    return volunteers.tell(tx, app, person, lambda tr: _reminder(app, tr, task), now)


def _still_theirs(task: Doc, assignee_id: str, starts_at: str) -> bool:
    """Whether the task is still before arrival, with the same assignee and start time."""
    return (
        task["status"] in (dispatch.ASSIGNED, dispatch.ON_WAY)
        and task.get("assignee_id") == assignee_id
        and task["starts_at"] == starts_at
    )


def _reminder(app: App, tr: Translator, task: Doc) -> Reply:
    """The reminder: service, time and address, with the next-step buttons."""
    text = tr.t(
        "dispatch.reminder",
        address=dispatch.address_words(tr, task),
        **dispatch.public_words(app, tr, task),
    )
    hint = dispatch.on_way_hint(app, tr, task)
    return Reply(text + "\n" + hint, choices=dispatch.step_buttons(app, tr, task))


# -- safety checks -----------------------------------------------------------------------------


def safety_job(app: App, task_id: str, stage: int) -> None:
    """Arrived but not done in time: ask the volunteer (1), then the coordinators (2)."""
    _in_transaction(app, lambda tx: _safety_check(tx, app, task_id, int(stage)))


def _safety_check(tx: Tx, app: App, task_id: str, stage: int) -> list[str]:
    """Run safety stage ``stage`` once while the task is still ``arrived``; return kicks."""
    task = tx.get(dispatch.TASKS, task_id)
    if task is None or task["status"] != dispatch.ARRIVED:
        return []
    if int(task.get("safety_stage", 0)) >= stage:
        return []
    now = app.clock.now()
    task["safety_stage"] = stage
    tx.put(dispatch.TASKS, task_id, task)
    if stage >= 2:
        log.warning("task %s: volunteer silent after the safety check", task_id)
        return dispatch.alert_coordinators(tx, app, task, "dispatch.safety_coordinator", now)
    return _ask_volunteer(tx, app, task, now)


def _ask_volunteer(tx: Tx, app: App, task: Doc, now: datetime) -> list[str]:
    """Stage 1: schedule stage 2 one margin later, and ask the volunteer if all is well."""
    task_id = task["id"]
    margin = timedelta(minutes=int(dispatch.setting(app, "safety_margin_minutes")))
    timers.schedule(
        tx,
        "dispatch.safety",
        [task_id, 2],
        now + margin,
        now,
        key=dispatch.timer_key("safety", task_id, 2),
    )
    person = tx.require(people.PEOPLE, task["assignee_id"])
    return volunteers.tell(tx, app, person, lambda tr: _safety_question(tr, person, task_id), now)


def _safety_question(tr: Translator, person: Doc, task_id: str) -> Reply:
    """Ask the volunteer whether all is well, with done / need help buttons."""
    return Reply(
        tr.t("dispatch.safety_volunteer", name=person.get("name", "")),
        choices=(
            (
                Choice(tr.t("dispatch.done"), f"a:task:done:{task_id}"),
                Choice(tr.t("dispatch.need_help"), f"a:task:help:{task_id}"),
            ),
        ),
    )


# -- events and the digest ---------------------------------------------------------------------


def event_job(app: App, task_id: str, number: int) -> None:
    """Call the listener of the task's kind with its ``number``-th event."""
    with app.store.snapshot() as tx:
        task = tx.get(dispatch.TASKS, task_id)
    if task is None or len(task.get("events", [])) < int(number):
        return
    event = task["events"][int(number) - 1]
    listener = dispatch.listeners().get(task["kind"])
    if listener is None:
        log.debug("no listener for %s tasks", task["kind"])
        return
    task["event"] = event
    listener(app, task["ref"], event["event"], task)


def digest_job(app: App, day: str) -> None:
    """Send each coordinator the day's summary once, tidy up, and schedule tomorrow's."""
    _in_transaction(app, lambda tx: dispatch_digest.send_digest(tx, app, day))


JOBS: dict[str, JobSpec] = {
    "dispatch.wave": JobSpec(wave_job, max_retries=10, max_backoff_ms=30_000, throws=(NotFound,)),
    "dispatch.remind": JobSpec(remind_job, max_retries=5, throws=(NotFound,)),
    "dispatch.safety": JobSpec(
        safety_job, max_retries=10, max_backoff_ms=30_000, throws=(NotFound,)
    ),
    "dispatch.event": JobSpec(event_job, max_retries=8),
    "dispatch.digest": JobSpec(digest_job, max_retries=5),
}
"""The dispatch jobs, merged into the job table by ``workers/registry.py``."""
