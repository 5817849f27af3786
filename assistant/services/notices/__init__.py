"""Notices (通知到位) and door-knock rounds (敲门行动).

A coordinator's notice goes to every reachable member of the households of some
micro-grids and to their neighbours' groups, through the outbox in a window
(:mod:`.sending`); one tap on "收到" answers for the household (:mod:`.acks`);
at the deadline the silent households become door-knock rounds by building,
dispatched as the task kind "door-knock round" (:mod:`.knock`). The records are
in :mod:`.records`, the audience in :mod:`.audience`, the cutting of long texts
in :mod:`.text`. The composition root registers ``notices.JOBS``,
``notices.TASK_KIND`` and ``notices.forget``.
"""

from __future__ import annotations

from assistant.services.notices.acks import GridRate, acknowledge, describe, rates, silent
from assistant.services.notices.audience import Audience, every_grid, gather, known_grids
from assistant.services.notices.jobs import JOBS, TASK_KIND, forget  # last: it imports the others
from assistant.services.notices.knock import (
    Recorded,
    entry_of,
    help_choices,
    progress,
    record,
)
from assistant.services.notices.records import (
    HOUSEHOLDS,
    KIND,
    NOTICES,
    ROUNDS,
    Check,
    Draft,
    NoAudience,
    NotCoordinator,
    NotForYou,
    Notice,
    NoticeError,
    NoticeGone,
    NoticeStatus,
    NotSending,
    NotYourRound,
    building_label,
)
from assistant.services.notices.sending import (
    cancel,
    create,
    deadline_words,
    may_send,
    recent,
    sendable_grids,
    summary_reply,
)

__all__ = [
    "HOUSEHOLDS",
    "KIND",
    "NOTICES",
    "ROUNDS",
    "Audience",
    "Check",
    "Draft",
    "GridRate",
    "NoAudience",
    "Notice",
    "NoticeError",
    "NoticeGone",
    "NoticeStatus",
    "NotCoordinator",
    "NotForYou",
    "NotSending",
    "NotYourRound",
    "Recorded",
    "JOBS",
    "TASK_KIND",
    "acknowledge",
    "building_label",
    "cancel",
    "create",
    "deadline_words",
    "describe",
    "entry_of",
    "every_grid",
    "forget",
    "gather",
    "help_choices",
    "known_grids",
    "may_send",
    "sendable_grids",
    "summary_reply",
    "progress",
    "rates",
    "recent",
    "record",
    "silent",
]
