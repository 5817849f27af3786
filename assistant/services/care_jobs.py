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
from functools import partial
from typing import TYPE_CHECKING

from assistant.clock import from_iso, to_iso
from assistant.conversation.vocabulary import Choice, Reply
from assistant.i18n import Translator
from assistant.services import dispatch, people, timers, volunteers
from assistant.store.base import Doc, NotFound, Tx
from workers.registry import JobSpec

if TYPE_CHECKING:
    from assistant.bootstrap import App

log = logging.getLogger(__name__)

DIGESTS = "dispatch_digests"
KEEP_CLOSED = timedelta(days=2)
DIGEST_LINES = 8


def _in_transaction(app: App, work: Callable[[Tx], list[str]]) -> None:
    """Run ``work`` atomically, then hand its due timers to the workers."""
    with app.store.transaction() as tx:
        kicks = work(tx)
    timers.kick(app, kicks)


def wave_job(app: App, task_id: str, round_no: int, wave: int) -> None:
    """Offer a task to its next wave (once per round and wave)."""
    _in_transaction(app, lambda tx: dispatch.run_wave(tx, app, task_id, int(round_no), int(wave)))


def remind_job(app: App, task_id: str, assignee_id: str, starts_at: str, hours: float) -> None:
    """Remind the assignee of a task, if it is still theirs at that time."""

    def work(tx: Tx) -> list[str]:
        task = tx.get(dispatch.TASKS, task_id)
        if (
            task is None
            or task["status"] not in (dispatch.ASSIGNED, dispatch.ON_WAY)
            or task.get("assignee_id") != assignee_id
            or task["starts_at"] != starts_at
        ):
            return []
        now = app.clock.now()
        mark = f"{starts_at}|{hours}"
        if mark in task.get("reminded", []):
            return []
        task["reminded"] = [*task.get("reminded", []), mark]
        tx.put(dispatch.TASKS, task_id, task)
        person = tx.require(people.PEOPLE, assignee_id)

        def build(tr: Translator) -> Reply:
            text = tr.t(
                "dispatch.reminder",
                address=dispatch.address_words(tr, task),
                **dispatch.public_words(app, tr, task),
            )
            return Reply(text, choices=dispatch.step_buttons(tr, task))

        return volunteers.tell(tx, app, person, build, now)

    _in_transaction(app, work)


def safety_job(app: App, task_id: str, stage: int) -> None:
    """Arrived but not done in time: ask the volunteer (1), then the coordinators (2)."""

    def work(tx: Tx) -> list[str]:
        task = tx.get(dispatch.TASKS, task_id)
        if task is None or task["status"] != dispatch.ARRIVED:
            return []
        if int(task.get("safety_stage", 0)) >= int(stage):
            return []
        now = app.clock.now()
        task["safety_stage"] = int(stage)
        tx.put(dispatch.TASKS, task_id, task)
        if int(stage) >= 2:
            log.warning("task %s: volunteer silent after the safety check", task_id)
            return dispatch.alert_coordinators(tx, app, task, "dispatch.safety_coordinator", now)
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

        def build(tr: Translator) -> Reply:
            return Reply(
                tr.t("dispatch.safety_volunteer", name=person.get("name", "")),
                choices=(
                    (
                        Choice(tr.t("dispatch.done"), f"a:task:done:{task_id}"),
                        Choice(tr.t("dispatch.need_help"), f"a:task:help:{task_id}"),
                    ),
                ),
            )

        return volunteers.tell(tx, app, person, build, now)

    _in_transaction(app, work)


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


# -- the daily digest ---------------------------------------------------------------------------


def digest_job(app: App, day: str) -> None:
    """Send each coordinator the day's summary once, tidy up, and schedule tomorrow's."""

    def work(tx: Tx) -> list[str]:
        dispatch.ensure_digest(tx, app)
        if tx.get(DIGESTS, day) is not None:
            return []
        now = app.clock.now()
        tx.put(DIGESTS, day, {"sent_at": to_iso(now)})
        tasks = tx.all(dispatch.TASKS)
        kicks: list[str] = []
        for coordinator in people.coordinators_for(tx, None):
            grids = set(coordinator.get("coordinator_grids", []))
            mine = [
                t for t in tasks if not grids or t.get("grid_id") in grids or not t.get("grid_id")
            ]
            kicks += volunteers.tell(
                tx, app, coordinator, partial(_digest, app, day=day, tasks=mine, now=now), now
            )
        _tidy(tx, tasks, now)
        return kicks

    _in_transaction(app, work)


def late(app: App, task: Doc, now: datetime) -> bool:
    """Whether a task is behind: unstarted after its start, or arrived and overdue."""
    starts = from_iso(task["starts_at"])
    if task["status"] in (dispatch.OPEN, dispatch.ASSIGNED, dispatch.ON_WAY):
        return starts < now
    if task["status"] == dispatch.ARRIVED and task.get("arrived_at"):
        margin = int(dispatch.setting(app, "safety_margin_minutes"))
        limit = timedelta(minutes=int(task["duration_minutes"]) + margin)
        return from_iso(task["arrived_at"]) + limit < now
    return False


def _digest(app: App, tr: Translator, day: str, tasks: list[Doc], now: datetime) -> Reply:
    since = now - timedelta(days=1)
    new = [t for t in tasks if from_iso(t["created_at"]) >= since]
    still_open = [t for t in tasks if t["status"] == dispatch.OPEN]
    behind = [t for t in tasks if late(app, t, now)]
    failed = [
        t
        for t in tasks
        if t["status"] == dispatch.FAILED
        and from_iso(t.get("closed_at") or t["created_at"]) >= since
    ]
    lines = [
        tr.t(
            "dispatch.digest",
            date=day,
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
                **dispatch.public_words(app, tr, task),
            )
        )
    return Reply("\n".join(lines))


def _tidy(tx: Tx, tasks: list[Doc], now: datetime) -> None:
    """Move tasks closed two days ago, and their offers, out of the hot files."""
    for task in tasks:
        closed = task.get("closed_at")
        if task["status"] in dispatch.CLOSED and closed and from_iso(closed) + KEEP_CLOSED < now:
            for offer in tx.find(dispatch.OFFERS, task_id=task["id"]):
                tx.archive(dispatch.OFFERS, offer["id"])
            tx.archive(dispatch.TASKS, task["id"])


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
