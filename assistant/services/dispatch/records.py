"""The dispatch engine's records: collections, states, errors and timer keys.

Every other ``dispatch_*`` module imports this one and nothing imports them
back, so the engine has no import cycles.

Collections:
    tasks    one task: what, when, where, for whom (``private``), its status
    offers   one offer of a task to one volunteer in one round of waves

The records that other modules build or read are typed: :class:`Task` and
:class:`Offer` (in :mod:`~assistant.services.dispatch.model`), frozen, converted
at the store edge (``from_doc`` / ``to_doc``; the documents stay JSON with the
same field names). The engine's own steps still change the documents in place
inside their transaction.

Errors (each a :class:`assistant.errors.Refusal`, ``key`` = message id)::

    DispatchError
     ├── OfferGone      the offer is gone, not this person's, or answered
     ├── AlreadyTaken   someone else accepted first, or the task was withdrawn
     ├── NotYours       the task is not assigned to this volunteer
     ├── WrongStep      the task is not in a state where this step makes sense
     ├── Busy           the volunteer holds another task at the same time
     ├── NotEligible    skill, approval, or declined it before
     └── TooEarly       "on my way" long before the task starts
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from assistant.clock import from_iso
from assistant.domain import dispatch as matching
from assistant.errors import Refusal
from assistant.services import people
from assistant.services.dispatch.model import OfferStatus, TaskStatus
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

TASKS = "tasks"
OFFERS = "offers"

OPEN = TaskStatus.OPEN
ASSIGNED = TaskStatus.ASSIGNED
ON_WAY = TaskStatus.ON_WAY
ARRIVED = TaskStatus.ARRIVED
DONE = TaskStatus.DONE
FAILED = TaskStatus.FAILED
CANCELLED = TaskStatus.CANCELLED
ACTIVE = (ASSIGNED, ON_WAY, ARRIVED)
CLOSED = (DONE, FAILED, CANCELLED)

OFFER_OPEN = OfferStatus.OPEN
OFFER_ACCEPTED = OfferStatus.ACCEPTED
OFFER_DECLINED = OfferStatus.DECLINED
OFFER_TAKEN = OfferStatus.TAKEN
OFFER_WITHDRAWN = OfferStatus.WITHDRAWN

FAIL_REASONS = ("not_home", "refused", "unwell", "other")
ESCALATION_CHOICES = 5


class DispatchError(Refusal):
    """A dispatch step that cannot be done now; ``key`` is the message to show."""

    key = "dispatch.wrong_step"


class OfferGone(DispatchError):
    """The offer does not exist, is not this person's, or was answered already."""

    key = "dispatch.offer_gone"


class AlreadyTaken(DispatchError):
    """Someone else accepted first (or the task was withdrawn)."""

    key = "dispatch.too_late"


class NotYours(DispatchError):
    """The task is not assigned to this volunteer."""

    key = "dispatch.not_yours"


class WrongStep(DispatchError):
    """The task is not in a state where this step makes sense."""

    key = "dispatch.wrong_step"


class Busy(DispatchError):
    """The volunteer holds another task at the same time."""

    key = "dispatch.busy"


class NotEligible(DispatchError):
    """The volunteer cannot take this task (skill, approval, declined it before)."""

    key = "dispatch.not_eligible"


class TooEarly(DispatchError):
    """ "On my way" (or arrived, done) long before the task starts; ``key`` needs ``when``."""

    key = "dispatch.too_early"


def setting(app: App, key: str) -> Any:
    """One ``[dispatch]`` setting."""
    return app.settings.get("dispatch", key)


def on_way_from(app: App, task: Doc) -> datetime:
    """From when "on my way" is offered: ``[dispatch] on_way_hours`` before the start."""
    hours = float(setting(app, "on_way_hours"))
    return from_iso(task["starts_at"]) - timedelta(hours=hours)


def timer_key(*parts: object) -> str:
    """The idempotency key of a dispatch timer, e.g. ``dispatch:remind:<task>:24``."""
    return ":".join(["dispatch", *(str(part) for part in parts)])


def wave_key(task_id: str, round_no: int, wave: int) -> str:
    """The idempotency key of one wave timer."""
    return timer_key("wave", task_id, round_no, wave)


def assignee(tx: Tx, task: Doc) -> Doc | None:
    """The person the task is assigned to, if any."""
    if not task.get("assignee_id"):
        return None
    return tx.get(people.PEOPLE, task["assignee_id"])


def busy_times(tx: Tx, person_id: str, but: str = "") -> list[matching.Interval]:
    """When a volunteer is already committed: the times of the active tasks they hold.

    ``but`` leaves one task out (the one being decided). One question per
    person, the same one that accepting a task asks, so the two meet.
    """
    return [
        matching.Interval(from_iso(task["starts_at"]), from_iso(task["ends_at"]))
        for task in tx.find(TASKS, assignee_id=person_id)
        if task["status"] in ACTIVE and task["id"] != but
    ]
