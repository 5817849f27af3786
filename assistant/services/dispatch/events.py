"""What the feature that opened a task hears: events recorded on the task.

Each event is recorded on the task and delivered by a durable
``dispatch.event`` timer, at least once, after the change committed. Who hears
it is the listener of the task's kind, registered with ``app.task_kinds`` by
the composition root (see :mod:`assistant.services.dispatch.kinds`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from assistant.clock import to_iso
from assistant.jobs import timers
from assistant.services.dispatch.records import TASKS, timer_key
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)


def emit(tx: Tx, app: App, task: Doc, event: str, **detail: str) -> None:
    """Record an event and schedule the listener call (at least once, durably)."""
    now = app.clock.now()
    task["events"] = [*task.get("events", []), {"event": event, "at": to_iso(now), **detail}]
    tx.put(TASKS, task["id"], task)
    number = len(task["events"])
    timers.schedule(
        tx,
        "dispatch.event",
        [task["id"], number],
        now,
        now,
        key=timer_key("event", task["id"], number),
    )


def deliver(tx: Tx, app: App, task_id: str, number: int) -> None:
    """Give the task's ``number``-th event to the listener of its kind, in this unit of work."""
    task = tx.get(TASKS, task_id)
    if task is None or len(task.get("events", [])) < number:
        return
    kind = app.task_kinds.get(task["kind"])
    if kind is None or kind.listener is None:
        log.debug("no listener for %s tasks", task["kind"])
        return
    event = task["events"][number - 1]
    task["event"] = event
    task.setdefault("payload", {})
    kind.listener(tx, app, task["ref"], event["event"], task)
