"""Durable time: jobs that are due later are records in the store.

``schedule`` writes a timer (job name, plain arguments, due time) inside the
caller's transaction, so a timer exists exactly when the change that needs it
was committed. The scheduler (``assistant scheduler``, part of ``assistant up``)
hands due timers to the workers as ``timers.fire`` jobs, marking them
``enqueued``; one that is still not done a lease later is handed out again, so
a lost queue message or a killed worker delays a timer but never loses it.
``fire`` runs the job and marks the timer done in one step; done timers leave
the hot file. Nothing due days later waits only inside Redis.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from assistant.clock import from_iso, to_iso
from assistant.store.base import Doc, Tx, new_id

if TYPE_CHECKING:
    from assistant.bootstrap import App

log = logging.getLogger(__name__)

TIMERS = "timers"
PENDING = "pending"
ENQUEUED = "enqueued"
DONE = "done"
CANCELLED = "cancelled"
LEASE = timedelta(seconds=90)


def schedule(
    tx: Tx, job: str, args: Iterable[Any], due: datetime, now: datetime, key: str = ""
) -> str:
    """Record that ``job(*args)`` must run at ``due``; return the timer id.

    A ``key`` makes scheduling idempotent: a live timer with the same key is
    kept as it is. A timer already due is marked enqueued at once; the caller
    hands it to the queue with :func:`kick` after the transaction commits.
    """
    if key:
        for timer in tx.find(TIMERS, key=key):
            if timer["status"] in (PENDING, ENQUEUED):
                return str(timer["id"])
    timer_id = new_id("tm")
    immediate = due <= now
    tx.put(
        TIMERS,
        timer_id,
        {
            "job": job,
            "args": list(args),
            "due": to_iso(due),
            "status": ENQUEUED if immediate else PENDING,
            "enqueued_at": to_iso(now) if immediate else None,
            "key": key,
            "attempts": 0,
        },
    )
    return timer_id


def cancel(tx: Tx, key: str) -> int:
    """Cancel every live timer with this key; return how many."""
    count = 0
    for timer in tx.find(TIMERS, key=key):
        if timer["status"] in (PENDING, ENQUEUED):
            timer["status"] = CANCELLED
            close(tx, timer)
            count += 1
    return count


def close(tx: Tx, timer: Doc) -> None:
    """Archive a done or cancelled timer, keeping of its arguments only what its job audits."""
    timer["args"] = audited(timer)
    tx.put(TIMERS, timer["id"], timer)
    tx.archive(TIMERS, timer["id"])


def audited(timer: Doc) -> list[Any]:
    """The arguments a finished timer keeps: what its job's ``audit`` leaves, else all."""
    from workers.registry import jobs

    spec = jobs().get(timer["job"])
    args = list(timer.get("args", []))
    return spec.audit(args) if spec is not None and spec.audit is not None else args


def kick(app: App, timer_ids: Iterable[str]) -> None:
    """Hand timers that are already due to the workers now (after commit)."""
    for timer_id in timer_ids:
        app.queue.enqueue("timers.fire", timer_id)


def claim_due(app: App, limit: int = 500) -> list[str]:
    """Mark due timers (and lapsed leases) enqueued; return their ids."""
    now = app.clock.now()
    claimed: list[str] = []
    with app.store.transaction() as tx:
        for timer in tx.all(TIMERS):
            if len(claimed) >= limit:
                break
            status = timer["status"]
            due = status == PENDING and from_iso(timer["due"]) <= now
            lapsed = (
                status == ENQUEUED
                and timer.get("enqueued_at")
                and from_iso(timer["enqueued_at"]) + LEASE <= now
            )
            if due or lapsed:
                timer["status"] = ENQUEUED
                timer["enqueued_at"] = to_iso(now)
                tx.put(TIMERS, timer["id"], timer)
                claimed.append(str(timer["id"]))
    return claimed


def tick(app: App) -> int:
    """One scheduler round: hand every due timer to the workers."""
    claimed = claim_due(app)
    kick(app, claimed)
    if claimed:
        log.debug("scheduler handed out %d timers", len(claimed))
    return len(claimed)


def fire(app: App, timer_id: str) -> None:
    """Run a timer's job once; a done or cancelled timer is skipped."""
    from workers.registry import jobs

    with app.store.snapshot() as tx:
        timer = tx.get(TIMERS, timer_id)
    if timer is None or timer["status"] in (DONE, CANCELLED):
        return
    spec = jobs().get(timer["job"])
    if spec is None:
        log.error("timer %s names an unknown job %s", timer_id, timer["job"])
        _finish(app, timer_id, "unknown job")
        return
    spec.function(app, *timer["args"])
    _finish(app, timer_id, "")


def _finish(app: App, timer_id: str, error: str) -> None:
    with app.store.transaction() as tx:
        timer = tx.get(TIMERS, timer_id)
        if timer is None or timer["status"] in (DONE, CANCELLED):
            return
        timer["status"] = DONE
        timer["done_at"] = to_iso(app.clock.now())
        if error:
            timer["error"] = error
        close(tx, timer)


def pending(tx: Tx) -> list[Doc]:
    """Timers not yet done, soonest first."""
    live = [t for t in tx.all(TIMERS) if t["status"] in (PENDING, ENQUEUED)]
    return sorted(live, key=lambda t: t["due"])
