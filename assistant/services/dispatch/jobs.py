"""Background jobs of the dispatch engine, run from durable timers.

Each job takes ids and runs inside the unit of work of its timer (``in_unit``):
it loads fresh state, re-checks the task's status, records that it ran (so a
redelivered job does nothing twice) and posts its messages through the outbox;
the timer is marked done in the same commit, and the unit of work hands out
the timers it made due.

    dispatch.wave     offer a task to the next wave, or escalate after the last
    dispatch.remind   remind the assignee ``reminder_hours`` before the start
    dispatch.safety   no "done" after arriving: ask the volunteer, then the coordinators
    dispatch.event    tell the listener of the task's kind what happened
    dispatch.digest   the coordinators' morning summary; schedules the next one
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from assistant.conversation.buttons import StepVerb, TaskStep
from assistant.conversation.vocabulary import Choice, Reply
from assistant.i18n import Translator
from assistant.jobs import timers
from assistant.jobs.table import JobSpec
from assistant.services import people
from assistant.services.dispatch import digest as dispatch_digest
from assistant.services.dispatch import events, lifecycle, messages, offers, records
from assistant.services.people import volunteers
from assistant.store.base import Doc, NotFound, Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)


def wave_job(tx: Tx, app: App, task_id: str, round_no: int, wave: int) -> None:
    """Offer a task to its next wave (once per round and wave)."""
    offers.run_wave(tx, app, task_id, int(round_no), int(wave))


# -- reminders ---------------------------------------------------------------------------------


def remind_job(
    tx: Tx, app: App, task_id: str, assignee_id: str, starts_at: str, hours: float
) -> None:
    """Remind the assignee of a task once per start time and lead time, if still theirs."""
    task = tx.get(records.TASKS, task_id)
    if task is None or not _still_theirs(task, assignee_id, starts_at):
        return
    now = app.clock.now()
    mark = f"{starts_at}|{hours}"
    if mark in task.get("reminded", []):
        return
    task["reminded"] = [*task.get("reminded", []), mark]
    tx.put(records.TASKS, task_id, task)
    person = tx.require(people.PEOPLE, assignee_id)
    volunteers.tell(tx, app, person, lambda tr: _reminder(app, tr, task), now)


def _still_theirs(task: Doc, assignee_id: str, starts_at: str) -> bool:
    """Whether the task is still before arrival, with the same assignee and start time."""
    return (
        task["status"] in (records.ASSIGNED, records.ON_WAY)
        and task.get("assignee_id") == assignee_id
        and task["starts_at"] == starts_at
    )


def _reminder(app: App, tr: Translator, task: Doc) -> Reply:
    """The reminder: service, time and address, with the next-step buttons."""
    text = tr.t(
        "dispatch.reminder",
        address=messages.address_words(tr, task),
        **messages.public_words(app, tr, task),
    )
    hint = messages.on_way_hint(app, tr, task)
    return Reply(text + "\n" + hint, choices=messages.step_buttons(app, tr, task))


# -- safety checks -----------------------------------------------------------------------------


def safety_job(tx: Tx, app: App, task_id: str, stage: int) -> None:
    """Arrived but not done in time: ask the volunteer (1), then the coordinators (2); once."""
    stage = int(stage)
    task = tx.get(records.TASKS, task_id)
    if task is None or task["status"] != records.ARRIVED:
        return
    if int(task.get("safety_stage", 0)) >= stage:
        return
    now = app.clock.now()
    task["safety_stage"] = stage
    tx.put(records.TASKS, task_id, task)
    if stage >= 2:
        log.warning("task %s: volunteer silent after the safety check", task_id)
        lifecycle.alert_coordinators(tx, app, task, "dispatch.safety_coordinator", now)
        return
    _ask_volunteer(tx, app, task, now)


def _ask_volunteer(tx: Tx, app: App, task: Doc, now: datetime) -> None:
    """Stage 1: schedule stage 2 one margin later, and ask the volunteer if all is well."""
    task_id = task["id"]
    margin = timedelta(minutes=int(records.setting(app, "safety_margin_minutes")))
    timers.schedule(
        tx,
        "dispatch.safety",
        [task_id, 2],
        now + margin,
        now,
        key=records.timer_key("safety", task_id, 2),
    )
    person = tx.require(people.PEOPLE, task["assignee_id"])
    volunteers.tell(tx, app, person, lambda tr: _safety_question(tr, person, task_id), now)


def _safety_question(tr: Translator, person: Doc, task_id: str) -> Reply:
    """Ask the volunteer whether all is well, with done / need help buttons."""
    return Reply(
        tr.t("dispatch.safety_volunteer", name=person.get("name", "")),
        choices=(
            (
                Choice(tr.t("dispatch.done"), TaskStep(StepVerb.DONE, task_id).encode()),
                Choice(tr.t("dispatch.need_help"), TaskStep(StepVerb.HELP, task_id).encode()),
            ),
        ),
    )


# -- events and the digest ---------------------------------------------------------------------


def event_job(tx: Tx, app: App, task_id: str, number: int) -> None:
    """Give the listener of the task's kind its ``number``-th event."""
    events.deliver(tx, app, task_id, int(number))


def digest_job(tx: Tx, app: App, day: str) -> None:
    """Send each coordinator the day's summary once, tidy up, and schedule tomorrow's."""
    dispatch_digest.send_digest(tx, app, day)


JOBS: dict[str, JobSpec] = {
    "dispatch.wave": JobSpec(
        wave_job, max_retries=10, max_backoff_ms=30_000, throws=(NotFound,), in_unit=True
    ),
    "dispatch.remind": JobSpec(remind_job, max_retries=5, throws=(NotFound,), in_unit=True),
    "dispatch.safety": JobSpec(
        safety_job, max_retries=10, max_backoff_ms=30_000, throws=(NotFound,), in_unit=True
    ),
    "dispatch.event": JobSpec(event_job, max_retries=8, in_unit=True),
    "dispatch.digest": JobSpec(digest_job, max_retries=5, in_unit=True),
}
"""The dispatch jobs, registered by the composition root (``assistant.bootstrap``)."""
