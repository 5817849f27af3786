"""The centre's own activities (午托, interest classes, the elders' canteen, culture evenings).

Definitions in :mod:`.define` (``/activity`` in chat, the demo in :mod:`.demo`),
records in :mod:`.records`, sign-ups within capacity, the waiting list,
reminders, attendance and the CSV export in :mod:`.signups`. The composition
root registers ``activities.JOBS`` and ``activities.forget``.
"""

from __future__ import annotations

from assistant.services.activities.define import Plan, add, define
from assistant.services.activities.jobs import JOBS, forget  # last: it imports the others
from assistant.services.activities.records import (
    ACTIVITIES,
    SESSIONS,
    SIGNUPS,
    Activity,
    ActivityError,
    AlreadySigned,
    Closed,
    Full,
    Kind,
    NotOrganiser,
    NotYours,
    SignupStatus,
    TooLateToCancel,
    UnknownSession,
    Who,
    money,
    parse_session,
)
from assistant.services.activities.signups import (
    Session,
    cancel,
    export_csv,
    listed,
    mark,
    may_change,
    meal_counts,
    mine,
    require_organiser,
    roster,
    sessions,
    sessions_on,
    sign_up,
    words,
)

__all__ = [
    "ACTIVITIES",
    "SESSIONS",
    "SIGNUPS",
    "Activity",
    "ActivityError",
    "AlreadySigned",
    "Closed",
    "Full",
    "JOBS",
    "Kind",
    "NotOrganiser",
    "NotYours",
    "Plan",
    "Session",
    "SignupStatus",
    "TooLateToCancel",
    "UnknownSession",
    "Who",
    "add",
    "cancel",
    "define",
    "export_csv",
    "forget",
    "listed",
    "mark",
    "may_change",
    "meal_counts",
    "mine",
    "money",
    "parse_session",
    "require_organiser",
    "roster",
    "sessions",
    "sessions_on",
    "sign_up",
    "words",
]
