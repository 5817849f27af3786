"""Running a timer's job once, and what a failure leaves behind.

``timers.fire`` is the one message that crosses the queue. It runs the job of
an ``enqueued`` timer and marks it done — in the same unit of work when the
job changes the store (``in_unit``), after it otherwise (a message sent over
the network must not hold the store's lock). The scheduler owns the retries,
never dramatiq (see ``docs/JOBS.md``):

* a failure counts an attempt and puts the timer back to ``pending`` after an
  exponential back-off capped at the job's ``max_backoff_ms``;
* an error the job ``throws`` ends the timer ``failed`` at once;
* after ``max_retries`` retries the timer is ``dead``: kept in the hot file,
  listed by ``assistant jobs dead``, re-run by ``assistant jobs retry ID``, and
  reported once to the admins (job name, timer id, error class — nothing
  personal) through the outbox.

A lease that lapses (a worker killed mid-job, a lost queue message) is an
attempt too (:func:`lapsed`), so a job that kills its worker ends dead instead
of being handed out every 90 seconds for ever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from assistant.clock import to_iso
from assistant.errors import TryLater
from assistant.jobs import deadletters, timers
from assistant.jobs.table import JobSpec
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

MIN_WAIT = 0.5
"""The shortest wait a :class:`~assistant.errors.TryLater` gets, so a job never spins."""

FIRE = "timers.fire"
LAPSED = "LeaseLapsed"
UNKNOWN = "UnknownJob"


def fire(app: App, timer_id: str, reraise: bool = False) -> None:
    """Run an enqueued timer's job once and mark it done, or record the failed attempt.

    A timer that is not ``enqueued`` (done, cancelled, dead, or put back to
    wait after a failure) is skipped, so a repeated queue message does nothing.
    A failure is logged by its class only (an error's text may quote personal
    data; the traceback goes to DEBUG) and not raised to dramatiq, which must
    not retry; ``reraise`` raises it too (tests that must see their bugs).
    """
    timer = app.store.read(timers.TIMERS, timer_id)
    if timer is None or timer["status"] != timers.ENQUEUED:
        return
    spec = app.jobs.get(timer["job"])
    if spec is None:
        log.error("timer %s names an unknown job %s", timer_id, timer["job"])
        with app.unit() as tx:
            _failed(tx, app, timer_id, UNKNOWN, final=True)
        return
    try:
        if spec.in_unit:
            with app.unit() as tx:
                if _still_enqueued(tx, timer_id):
                    spec.function(tx, app, *timer["args"])
                    _done(tx, app, timer_id)
        else:
            spec.function(app, *timer["args"])
            with app.unit() as tx:
                _done(tx, app, timer_id)
    except spec.throws as error:
        log.warning("timer %s (%s) refused: %s", timer_id, timer["job"], type(error).__name__)
        with app.unit() as tx:
            _failed(tx, app, timer_id, type(error).__name__, final=True)
    except Exception as error:
        log.debug("timer %s (%s) raised", timer_id, timer["job"], exc_info=True)
        wait = error.seconds if isinstance(error, TryLater) else None
        with app.unit() as tx:
            _failed(tx, app, timer_id, type(error).__name__, wait=wait)
        if reraise:
            raise


def _still_enqueued(tx: Tx, timer_id: str) -> bool:
    timer = tx.get(timers.TIMERS, timer_id)
    return timer is not None and timer["status"] == timers.ENQUEUED


def _done(tx: Tx, app: App, timer_id: str) -> None:
    """Mark a timer done and move it to the archive."""
    timer = tx.get(timers.TIMERS, timer_id)
    if timer is None or timer["status"] not in timers.LIVE:
        return
    timer["status"] = timers.DONE
    timer["done_at"] = to_iso(app.clock.now())
    timers.close(tx, timer, app.jobs)


def _failed(
    tx: Tx, app: App, timer_id: str, error: str, final: bool = False, wait: float | None = None
) -> None:
    """Count a failed attempt: back off, or end ``failed`` (``final``) or ``dead``."""
    timer = tx.get(timers.TIMERS, timer_id)
    if timer is None or timer["status"] not in timers.LIVE:
        return
    failed_attempt(tx, app, timer, error, app.clock.now(), final=final, wait=wait)


def failed_attempt(
    tx: Tx,
    app: App,
    timer: Doc,
    error: str,
    now: datetime,
    final: bool = False,
    wait: float | None = None,
) -> None:
    """Record one failed attempt of a live timer and decide what comes next; puts the timer.

    ``final`` (an error the job throws) ends it ``failed``; past ``max_retries``
    it is dead; else it waits as ``pending``: ``wait`` seconds when the job said
    how long (:class:`~assistant.errors.TryLater`), else ``backoff_ms(attempts)``.
    """
    spec = app.jobs.get(timer["job"]) or JobSpec(function=_missing, max_retries=0)
    timer["attempts"] = int(timer.get("attempts", 0)) + 1
    timer["error"] = error
    timer["failed_at"] = to_iso(now)
    if final:
        timer["status"] = timers.FAILED
        timers.close(tx, timer, app.jobs)
        log.warning("timer %s (%s) failed for good: %s", timer["id"], timer["job"], error)
    elif timer["attempts"] > spec.max_retries and spec.private_args:
        timer["status"] = timers.FAILED  # no dead timer keeps someone's forgotten data
        timers.close(tx, timer, app.jobs)
        log.error(
            "timer %s (%s) gave up after %d attempts (%s); its arguments are not kept",
            timer["id"],
            timer["job"],
            timer["attempts"],
            error,
        )
    elif timer["attempts"] > spec.max_retries:
        _die(tx, app, timer, now)
    else:
        pause = (
            timedelta(seconds=max(MIN_WAIT, wait))
            if wait is not None
            else timedelta(milliseconds=spec.backoff_ms(timer["attempts"]))
        )
        timer["status"] = timers.PENDING
        timer["enqueued_at"] = None
        timer["due"] = to_iso(now + pause)
        timers.index(tx, timer, now + pause)
        tx.put(timers.TIMERS, timer["id"], timer)
        log.warning(
            "timer %s (%s) attempt %d failed (%s); again in %.1f s",
            timer["id"],
            timer["job"],
            timer["attempts"],
            error,
            pause.total_seconds(),
        )


def lapsed(tx: Tx, app: App, timer: Doc, now: datetime) -> bool:
    """An enqueued timer whose lease ran out: count the attempt; whether it is handed out again.

    The lease was the wait, so a timer still under its limit goes out at once.
    """
    spec = app.jobs.get(timer["job"])
    if spec is None or int(timer.get("attempts", 0)) + 1 > spec.max_retries:
        failed_attempt(tx, app, timer, LAPSED, now)
        return False
    timer["attempts"] = int(timer.get("attempts", 0)) + 1
    timer["error"] = LAPSED
    timer["failed_at"] = to_iso(now)
    if not timers.mark_enqueued(tx, timer, now):  # a scheduler without workers: wait, pending
        timer["status"] = timers.PENDING
        timer["enqueued_at"] = None
        timers.index(tx, timer, now)
    tx.put(timers.TIMERS, timer["id"], timer)
    log.warning(
        "timer %s (%s) lost its lease (attempt %d); handed out again",
        timer["id"],
        timer["job"],
        timer["attempts"],
    )
    return True


def _missing(*args: object) -> None:
    raise LookupError("no such job")


def _die(tx: Tx, app: App, timer: Doc, now: datetime) -> None:
    """The timer used up its attempts: keep it hot and dead, and tell the admins once."""
    timers.unindex(tx, timer)
    timer["status"] = timers.DEAD
    timer["dead_at"] = to_iso(now)
    timer["enqueued_at"] = None
    log.error(
        "timer %s (%s) is dead after %d attempts (%s)",
        timer["id"],
        timer["job"],
        timer["attempts"],
        timer["error"],
    )
    if not str(timer.get("key", "")).startswith(deadletters.REPORT_KEY) and not timer.get(
        "reported"
    ):
        deadletters.report(tx, app, timers.Timer.from_doc(timer), now)
        timer["reported"] = True
    tx.put(timers.TIMERS, timer["id"], timer)


class NotDead(LookupError):
    """``assistant jobs retry`` named a timer that is not dead (or does not exist)."""


def retry(tx: Tx, app: App, timer_id: str) -> Doc:
    """Run a dead timer again now, with a fresh count of attempts.

    Raises:
        NotDead: no dead timer has this id.
    """
    timer = tx.get(timers.TIMERS, timer_id)
    if timer is None or timer["status"] != timers.DEAD:
        raise NotDead(timer_id)
    now = app.clock.now()
    timer["attempts"] = 0
    timer["reported"] = False
    timer["retried_at"] = to_iso(now)
    timer["due"] = to_iso(now)
    timer["status"] = timers.PENDING
    if not timers.mark_enqueued(tx, timer, now):  # a command: the scheduler hands it out
        timers.index(tx, timer, now)
    tx.put(timers.TIMERS, timer_id, timer)
    log.info("dead timer %s (%s) retried", timer_id, timer["job"])
    return timer


def bound(app: App, reraise: bool = True) -> dict[str, Callable[..., Any]]:
    """What the queue may be asked to run, with the app filled in (for ``MemoryQueue.run_all``).

    Only ``timers.fire`` crosses the queue: every job runs from its timer. A
    failure is recorded on the timer and, with ``reraise`` (tests), raised too.
    """
    return {FIRE: lambda timer_id: fire(app, str(timer_id), reraise=reraise)}
