"""Care bookings: book a service, approve, cancel, and reschedule.

A booking is written in one transaction with everything that follows from it:
the day's place taken, the dispatch task opened (or the coordinators asked to
approve an escort), and the messages to the people concerned put in the
outbox. Each function returns the booking; the unit of work hands out the
timers it made due after the commit.

This module is the care side's front door. The record, its statuses and its
errors are defined in :mod:`~assistant.services.care.records`, the day's places
in :mod:`~assistant.services.care.capacity`, the messages in
:mod:`~assistant.services.care.notify`, and the reactions to the task's
progress in :mod:`~assistant.services.care.events`. The vocabulary, the slot
queries and the task listener are re-exported, so callers keep saying
``care.SlotFull`` or ``care.taken``. The composition root registers
``care.JOBS`` and ``care.TASK_KIND`` (the "care visit" task kind).

Health notes and addresses are personal data: they go into the task's private
part only, and are never logged.
"""

from __future__ import annotations

from assistant.services.care.booking import (
    KIND,
    book,
    cancel,
    change_deadline,
    decide,
    may_change,
    reschedule,
)
from assistant.services.care.capacity import (
    offer,
    rules_of,
    starts_on,
    taken,
)
from assistant.services.care.events import (
    heard,
    on_task_event,
)
from assistant.services.care.jobs import JOBS, TASK_KIND  # last: its modules import this one
from assistant.services.care.records import (
    ARRIVED,
    ASAP,
    ASSIGNED,
    AWAITING,
    BOOKER,
    BOOKINGS,
    CANCELLED,
    CHANGEABLE,
    CHAT,
    COORDINATOR,
    DAYS,
    DONE,
    FAILED,
    LIVE,
    ON_WAY,
    OPEN,
    PHONE,
    PROXY,
    SELF,
    CareError,
    Draft,
    NotChangeable,
    NotYours,
    SlotFull,
    TooLate,
    TooSoon,
    relation,
)

__all__ = [
    "ARRIVED",
    "ASAP",
    "ASSIGNED",
    "AWAITING",
    "BOOKER",
    "BOOKINGS",
    "CANCELLED",
    "CHANGEABLE",
    "CHAT",
    "COORDINATOR",
    "DAYS",
    "DONE",
    "FAILED",
    "LIVE",
    "ON_WAY",
    "OPEN",
    "PHONE",
    "PROXY",
    "SELF",
    "CareError",
    "Draft",
    "NotChangeable",
    "NotYours",
    "SlotFull",
    "TooLate",
    "TooSoon",
    "rules_of",
    "taken",
    "offer",
    "starts_on",
    "on_task_event",
    "heard",
    "KIND",
    "JOBS",
    "TASK_KIND",
    "book",
    "decide",
    "relation",
    "change_deadline",
    "may_change",
    "cancel",
    "reschedule",
]
