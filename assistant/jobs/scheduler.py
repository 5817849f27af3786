"""The scheduler: hands the workers what fell due and what lost its lease.

One round (:func:`tick`) reads the index by due time in a read-only snapshot
(no lock, no commit when nothing is due), then, only if something is, takes
one unit of work that marks those timers enqueued — re-checking each, since
another round or a worker may have moved it meanwhile — and counts a lapsed
lease as an attempt (:func:`assistant.jobs.firing.lapsed`). The unit of work
hands them to the queue after the commit. :func:`run` repeats rounds until
told to stop; ``assistant scheduler`` (part of ``assistant up``) runs it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from assistant.clock import from_iso
from assistant.jobs import firing, timers

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

ROUND_LIMIT = 500


def tick(app: App, limit: int = ROUND_LIMIT) -> int:
    """One round: hand every due timer (and every lapsed lease) to the workers; how many."""
    now = app.clock.now()
    with app.store.snapshot() as view:
        noted = list(timers.noted(view, now, limit))
    if not noted:
        return 0
    handed = 0
    with app.unit() as tx:
        for bucket, timer_id in noted:
            timer = tx.get(timers.TIMERS, timer_id)
            if timer is None or timer["status"] not in timers.LIVE:
                if timer is not None and tx.keeps_due_index and "next_at" in timer:
                    timers.unindex(tx, timer)  # a stale note on the timer itself
                    tx.put(timers.TIMERS, timer_id, timer)
                else:
                    timers.unindex(tx, {"id": timer_id, "slot": bucket})  # a stale note
                continue
            if from_iso(timer.get("next_at") or timer["due"]) > now:
                continue  # moved meanwhile
            if timer["status"] == timers.PENDING:
                if timers.mark_enqueued(tx, timer, now):
                    tx.put(timers.TIMERS, timer_id, timer)
                    handed += 1
            elif firing.lapsed(tx, app, timer, now):
                handed += 1
    if handed:
        log.debug("scheduler handed out %d timers", handed)
    return handed


def run(app: App, stopping: threading.Event, interval: float, gone: Callable[[], bool]) -> None:
    """Rounds every ``interval`` seconds until ``stopping`` is set or ``gone()`` says so."""
    with app.unit() as tx:
        rebuilt = timers.rebuild_index(tx, timers.lease_of(app.settings))
    if rebuilt:
        log.info("scheduler indexed %d timers written before the index", rebuilt)
    log.info("scheduler started")
    while not stopping.is_set():
        try:
            tick(app)
        except Exception:
            log.exception("scheduler round failed; trying again")
        if stopping.wait(interval) or gone():
            break
    log.info("scheduler stopped")
