"""Durable time: jobs that are due later are records in the store.

``schedule`` writes a timer (job name, plain arguments, due time) inside the
caller's unit of work, so a timer exists exactly when the change that needs it
was committed. A timer due at once is marked ``enqueued`` and noted in
``tx.due_timers``; the unit of work hands it to the workers after the commit
(:mod:`assistant.jobs.unit`). Later timers wait for the scheduler
(:mod:`assistant.jobs.scheduler`), which finds them through a small index by
due time instead of reading every timer.

States::

    pending ──(due; scheduler)──► enqueued ──(fire: ran)──► done      (archived)
       ▲                            │  │
       └──(failed: back-off)────────┘  ├──(throws)──────────► failed  (archived)
                                       └──(limit reached)───► dead    (kept hot; ``assistant jobs retry``)
    pending | enqueued ──(cancel)──► cancelled (archived)

The index (collection ``timer_index``) says when the scheduler must look at a
live timer next: its due time while pending, the end of its lease while
enqueued (a lost queue message or a killed worker is handed out again then, and
that counts as an attempt). It is written with the store port only: one
``heads`` document listing the buckets in use and one document per ten minutes
of due times, so a scheduler round reads the buckets that are due, not the
timers of next week.

A store with an index of its own (``tx.keeps_due_index``: PostgreSQL) needs no
buckets: the timer's ``next_at`` is the note, and ``tx.due`` finds the due
ones. There the buckets would be the one document that every unit of work
touching a timer writes, and so waits for.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import islice
from typing import TYPE_CHECKING, Any

from assistant.clock import from_iso, to_iso
from assistant.jobs.audit import CORE as CORE_AUDITS
from assistant.store.base import Doc, Tx, new_id

if TYPE_CHECKING:
    from assistant.jobs.table import JobTable

log = logging.getLogger(__name__)

TIMERS = "timers"
INDEX = "timer_index"
HEADS = "heads"


class TimerStatus(StrEnum):
    """Where a timer stands (stored as its string value; see the states above)."""

    PENDING = "pending"
    ENQUEUED = "enqueued"
    DONE = "done"
    FAILED = "failed"
    DEAD = "dead"
    CANCELLED = "cancelled"


PENDING = TimerStatus.PENDING
ENQUEUED = TimerStatus.ENQUEUED
DONE = TimerStatus.DONE
FAILED = TimerStatus.FAILED
DEAD = TimerStatus.DEAD
CANCELLED = TimerStatus.CANCELLED
LIVE = (PENDING, ENQUEUED)
LEASE = timedelta(seconds=90)
"""The default lease (``[workers] lease_seconds``): how long an enqueued timer waits for its worker."""


def lease_of(settings: Any) -> timedelta:
    """The lease these settings give (``[workers] lease_seconds``; 90 s by default)."""
    return timedelta(seconds=float(settings.get("workers", "lease_seconds")))


@dataclass(frozen=True)
class Timer:
    """One timer, as stored in ``timers`` (converted at the store edge).

    What a failure or the lease adds later (``attempts`` counted, ``error``,
    ``dead_at``, ``slot`` …) is in ``extra`` when not named here, so
    ``Timer.from_doc(doc).to_doc() == doc``.
    """

    id: str
    job: str
    args: tuple[Any, ...]
    due: datetime
    status: TimerStatus = TimerStatus.PENDING
    key: str = ""
    attempts: int = 0
    enqueued_at: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Timer:
        """The timer of a stored document."""
        return cls(
            id=str(doc["id"]),
            job=str(doc["job"]),
            args=tuple(doc.get("args", ())),
            due=from_iso(doc["due"]),
            status=TimerStatus(doc["status"]),
            key=str(doc.get("key", "")),
            attempts=int(doc.get("attempts", 0)),
            enqueued_at=doc.get("enqueued_at"),
            extra={name: value for name, value in doc.items() if name not in _TIMER_FIELDS},
        )

    def to_doc(self) -> dict[str, Any]:
        """The document to store (JSON; the field names of before)."""
        return {
            "id": self.id,
            "job": self.job,
            "args": list(self.args),
            "due": to_iso(self.due),
            "status": self.status.value,
            "enqueued_at": self.enqueued_at,
            "key": self.key,
            "attempts": self.attempts,
            **self.extra,
        }


_TIMER_FIELDS = frozenset(f.name for f in fields(Timer)) - {"extra"}


class HandOut(list[str]):
    """``tx.due_timers`` of a unit of work that hands its due timers to the workers.

    A transaction without one (a bare ``store.transaction()``, or a unit in a
    process without workers) leaves timers due now ``pending``: the scheduler
    hands them out on its next round instead of after a lapsed lease. It
    carries the lease of the timers it hands out.
    """

    def __init__(self, lease: timedelta = LEASE) -> None:
        super().__init__()
        self.lease = lease


def schedule(
    tx: Tx, job: str, args: Iterable[Any], due: datetime, now: datetime, key: str = ""
) -> str:
    """Record that ``job(*args)`` must run at ``due``; return the timer id.

    A ``key`` makes scheduling idempotent: a live timer with the same key is
    kept as it is (and is not handed out again). A timer already due is marked
    enqueued and noted in ``tx.due_timers``: the unit of work hands it to the
    workers once the transaction has committed.
    """
    if key:
        for existing in tx.find(TIMERS, key=key):
            if existing["status"] in LIVE:
                return str(existing["id"])
    timer_id = new_id("tm")
    timer = Timer(timer_id, job, tuple(args), due, key=key).to_doc()
    if due > now or not mark_enqueued(tx, timer, now):
        index(tx, timer, due)
    tx.put(TIMERS, timer_id, timer)
    return timer_id


def mark_enqueued(tx: Tx, timer: Doc, now: datetime) -> bool:
    """Lease the timer to the workers from ``now`` and note it for the hand-out after commit.

    Only a unit of work that hands out (see :class:`HandOut`) leases; elsewhere
    nothing happens and ``False`` says so. The caller puts the timer. A timer
    is noted once per unit of work.
    """
    if not isinstance(tx.due_timers, HandOut):
        return False
    timer["status"] = ENQUEUED
    timer["enqueued_at"] = to_iso(now)
    index(tx, timer, now + tx.due_timers.lease)
    if timer["id"] not in tx.due_timers:
        tx.due_timers.append(str(timer["id"]))
    return True


def cancel(tx: Tx, key: str) -> int:
    """Cancel every live timer with this key; return how many."""
    count = 0
    for timer in tx.find(TIMERS, key=key):
        if timer["status"] in LIVE:
            timer["status"] = CANCELLED
            close(tx, timer)
            count += 1
    return count


def close(tx: Tx, timer: Doc, table: JobTable | None = None) -> None:
    """Archive a done, failed or cancelled timer, keeping of its arguments what its job audits."""
    unindex(tx, timer)
    timer["args"] = audited(timer, table)
    tx.archive(TIMERS, timer["id"], final=timer)


def audited(timer: Doc, table: JobTable | None = None) -> list[Any]:
    """The arguments a finished timer keeps: what its job's ``audit`` leaves, else all.

    Without a job table (a cancel outside any job) the core jobs' audit applies.
    """
    args = list(timer.get("args", []))
    if table is None:
        core = CORE_AUDITS.get(timer["job"])
        return core(args) if core is not None else args
    spec = table.get(timer["job"])
    return spec.audit(args) if spec is not None and spec.audit is not None else args


def pending(tx: Tx) -> list[Doc]:
    """Timers not yet done, soonest first."""
    live = [t for t in tx.all(TIMERS) if t["status"] in LIVE]
    return sorted(live, key=lambda t: t["due"])


def dead(tx: Tx) -> list[Doc]:
    """Timers that used up their attempts, oldest first."""
    return sorted(tx.find(TIMERS, status=DEAD), key=lambda t: t.get("dead_at") or "")


# -- the index by due time ----------------------------------------------------------------------


def bucket_of(moment: datetime) -> str:
    """The index document that holds a moment: ``b`` + its ten minutes (UTC)."""
    utc = moment.astimezone(UTC)
    floored = (
        utc
        - timedelta(minutes=utc.minute % 10, seconds=utc.second)
        - timedelta(microseconds=utc.microsecond)
    )
    return "b" + floored.strftime("%Y%m%dT%H%M")


def index(tx: Tx, timer: Doc, when: datetime) -> None:
    """Note that the scheduler must look at ``timer`` at ``when`` (replacing any earlier note)."""
    unindex(tx, timer)
    if tx.keeps_due_index:  # the store finds it by its next_at
        timer["next_at"] = to_iso(when)
        return
    key = bucket_of(when)
    bucket = tx.get(INDEX, key) or {"timers": {}}
    bucket["timers"][timer["id"]] = to_iso(when)
    tx.put(INDEX, key, bucket)
    heads = tx.get(INDEX, HEADS) or {"buckets": []}
    if key not in heads["buckets"]:
        heads["buckets"] = sorted([*heads["buckets"], key])
        tx.put(INDEX, HEADS, heads)
    timer["slot"] = key
    timer["next_at"] = to_iso(when)


def unindex(tx: Tx, timer: Doc) -> None:
    """Remove the timer's note from the index, if it has one."""
    key = timer.pop("slot", None)
    timer.pop("next_at", None)
    if not key:
        return
    bucket = tx.get(INDEX, key)
    if bucket is None or timer["id"] not in bucket["timers"]:
        return
    del bucket["timers"][timer["id"]]
    if bucket["timers"]:
        tx.put(INDEX, key, bucket)
        return
    tx.delete(INDEX, key)
    heads = tx.get(INDEX, HEADS) or {"buckets": []}
    heads["buckets"] = [name for name in heads["buckets"] if name != key]
    tx.put(INDEX, HEADS, heads)


def noted(tx: Tx, now: datetime, limit: int) -> Iterator[tuple[str, str]]:
    """(bucket, timer id) of the first ``limit`` notes due at ``now``, soonest first.

    Only due buckets are read; in a store with its own index the bucket is ``""``.
    """
    if tx.keeps_due_index:
        for timer in tx.due(TIMERS, to_iso(now), limit):
            yield "", str(timer["id"])
        return
    yield from islice(_noted_in_buckets(tx, now), limit)


def _noted_in_buckets(tx: Tx, now: datetime) -> Iterator[tuple[str, str]]:
    heads = tx.get(INDEX, HEADS) or {"buckets": []}
    last = bucket_of(now)
    for key in heads["buckets"]:
        if key > last:
            return
        bucket = tx.get(INDEX, key) or {"timers": {}}
        for timer_id, at in sorted(bucket["timers"].items(), key=lambda item: item[1]):
            if from_iso(at) <= now:
                yield key, timer_id


def rebuild_index(tx: Tx, lease: timedelta = LEASE) -> int:
    """Index every live timer again (timers written before the index existed); return how many."""
    count = 0
    for timer in tx.all(TIMERS):
        noted = timer.get("next_at") if tx.keeps_due_index else timer.get("slot")
        if timer["status"] == PENDING and not noted:
            index(tx, timer, from_iso(timer["due"]))
        elif timer["status"] == ENQUEUED and not noted:
            since = timer.get("enqueued_at") or timer["due"]
            index(tx, timer, from_iso(since) + lease)
        else:
            continue
        tx.put(TIMERS, timer["id"], timer)
        count += 1
    return count
