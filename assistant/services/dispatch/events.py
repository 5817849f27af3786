"""What the feature that opened a task hears: events and their listeners.

Each event is recorded on the task and delivered by a durable
``dispatch.event`` timer, at least once, after the change committed. The
listeners are an explicit table, imported lazily (see :func:`listeners`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from assistant.clock import to_iso
from assistant.jobs import timers
from assistant.services.dispatch.records import TASKS, timer_key
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.bootstrap import App

Listener = Callable[["App", str, str, dict[str, Any]], None]


def listeners() -> dict[str, Listener]:
    """kind → function(app, ref, event, task). Explicit table: {"care": care.on_task_event} imported lazily."""
    table: dict[str, Listener] = {}
    for kind, module_name in (("care", "assistant.services.care"),):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue
        listener = getattr(module, "on_task_event", None)
        if listener is not None:
            table[kind] = listener
    return table


def emit(tx: Tx, app: App, task: Doc, event: str, **detail: str) -> list[str]:
    """Record an event and schedule the listener call (at least once, durably)."""
    now = app.clock.now()
    task["events"] = [*task.get("events", []), {"event": event, "at": to_iso(now), **detail}]
    tx.put(TASKS, task["id"], task)
    number = len(task["events"])
    return [
        timers.schedule(
            tx,
            "dispatch.event",
            [task["id"], number],
            now,
            now,
            key=timer_key("event", task["id"], number),
        )
    ]
