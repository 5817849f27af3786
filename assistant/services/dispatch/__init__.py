"""The dispatch engine: tasks offered to volunteers in waves, first accept wins.

Used by care bookings now and by produce delivery and report patrols later.
A feature opens a task with :func:`open_task` inside its own transaction; the
first wave is a timer due at once. Each wave offers the task to the next
``wave_size`` best-matched volunteers (see :mod:`assistant.domain.dispatch`),
showing only the service, time, micro-grid and residential complex. The first
volunteer to accept wins inside one store transaction; the other offers are
edited to "already taken". With no acceptance after the last wave, the grid's
group is asked for help (no personal data) and the coordinators get one-tap
"assign to …" choices.

Dispatch knows nothing of the features that use it. Each registers a **task
kind** (:class:`TaskKind`: care registers "care visit", ``kind="care"``) with
``app.task_kinds`` from the composition root, and hears what happens to its
tasks through the kind's listener, called by a durable ``dispatch.event``
timer, at least once. Other contexts call dispatch through ``app.dispatch``,
typed by :class:`DispatchPort`, which mypy checks against this package in
``assistant/bootstrap.py``.

This module is the engine's public face: callers use ``dispatch.<name>``. The
work is done in one module per concept, each importing only those above it::

    port       DispatchPort: what other contexts may ask of dispatch
    kinds      TaskKind and the registry of kinds (on the app)
    records    collections, states, errors, settings, timer keys
    messages   wording: offers, "already taken", private details
    events     events recorded on a task and given to its kind's listener
    lifecycle  the assignee's steps, reminders, safety checks
    digest     the coordinators' daily digest
    offers     waves and escalation
    answers    accept / decline / assign / take, eligibility checked again
    tasks      open, cancel and move a task
    standdown  a volunteer who may no longer help: offers withdrawn, tasks handed back
    jobs       the durable jobs (waves, reminders, safety, events, digest): ``JOBS``

Collections:
    tasks    one task: what, when, where, for whom (``private``), its status
    offers   one offer of a task to one volunteer in one round of waves
"""

from __future__ import annotations

from assistant.services.dispatch.answers import accept, assign, check_eligible, decline, take
from assistant.services.dispatch.digest import ensure_digest
from assistant.services.dispatch.events import emit
from assistant.services.dispatch.jobs import JOBS
from assistant.services.dispatch.kinds import Listener, TaskKind, TaskKinds, UnknownKind
from assistant.services.dispatch.lifecycle import (
    STEPS,
    alert_coordinators,
    ask_help,
    may_step,
    schedule_reminders,
    schedule_safety,
    step,
)
from assistant.services.dispatch.messages import (
    address_words,
    details_reply,
    offer_key,
    on_way_hint,
    public_words,
    step_buttons,
    when,
)
from assistant.services.dispatch.offers import need, run_wave, wave_minutes
from assistant.services.dispatch.port import DispatchPort
from assistant.services.dispatch.records import (
    ACTIVE,
    ARRIVED,
    ASSIGNED,
    CANCELLED,
    CLOSED,
    DONE,
    ESCALATION_CHOICES,
    FAIL_REASONS,
    FAILED,
    OFFER_ACCEPTED,
    OFFER_DECLINED,
    OFFER_OPEN,
    OFFER_TAKEN,
    OFFER_WITHDRAWN,
    OFFERS,
    ON_WAY,
    OPEN,
    TASKS,
    AlreadyTaken,
    Busy,
    DispatchError,
    NotEligible,
    NotYours,
    OfferGone,
    TooEarly,
    WrongStep,
    on_way_from,
    setting,
    timer_key,
    wave_key,
)
from assistant.services.dispatch.standdown import (
    StoodDown,
    decide_volunteer,
    stand_down,
    withdraw_volunteer,
)
from assistant.services.dispatch.tasks import (
    cancel_task,
    complete_task,
    open_task,
    reschedule_task,
    revise_private,
    revise_summary,
)

__all__ = [
    # records
    "ACTIVE",
    "ARRIVED",
    "ASSIGNED",
    "CANCELLED",
    "CLOSED",
    "DONE",
    "ESCALATION_CHOICES",
    "FAILED",
    "FAIL_REASONS",
    "OFFERS",
    "OFFER_ACCEPTED",
    "OFFER_DECLINED",
    "OFFER_OPEN",
    "OFFER_TAKEN",
    "OFFER_WITHDRAWN",
    "ON_WAY",
    "OPEN",
    "TASKS",
    "AlreadyTaken",
    "Busy",
    "DispatchError",
    "NotEligible",
    "NotYours",
    "OfferGone",
    "TooEarly",
    "WrongStep",
    "on_way_from",
    "setting",
    "timer_key",
    "wave_key",
    # tasks
    "cancel_task",
    "complete_task",
    "open_task",
    "reschedule_task",
    "revise_private",
    "revise_summary",
    # offers
    "accept",
    "assign",
    "check_eligible",
    "decline",
    "need",
    "run_wave",
    "take",
    "wave_minutes",
    # lifecycle
    "STEPS",
    "alert_coordinators",
    "ask_help",
    "may_step",
    "schedule_reminders",
    "schedule_safety",
    "step",
    # standing a volunteer down
    "StoodDown",
    "decide_volunteer",
    "stand_down",
    "withdraw_volunteer",
    # the port, kinds and events
    "DispatchPort",
    "Listener",
    "TaskKind",
    "TaskKinds",
    "UnknownKind",
    "emit",
    # jobs
    "JOBS",
    # digest
    "ensure_digest",
    # words
    "address_words",
    "details_reply",
    "offer_key",
    "on_way_hint",
    "public_words",
    "step_buttons",
    "when",
]
