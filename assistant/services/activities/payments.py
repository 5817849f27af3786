"""Paying for a priced activity: cash at the centre, marked by the organiser (no payment provider).

A priced activity shows its price before the resident confirms (``activity.summary``);
the organiser takes the money at the door and marks the sign-up paid in ``/attendance``
(which also marks the person present: who pays at the door came). The amount kept is
the activity's price at that moment, as a decimal string, never a float; the
attendance CSV has the price and the amount paid.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from assistant.clock import to_iso
from assistant.services.activities.records import (
    SIGNUPS,
    Activity,
    SignupStatus,
    UnknownSession,
    money,
    require_activity,
)
from assistant.services.activities.signups import require_organiser
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

HELD = (SignupStatus.BOOKED, SignupStatus.ATTENDED, SignupStatus.ABSENT)


def paid(signup: Doc) -> Decimal | None:
    """What was paid for a sign-up, or ``None``."""
    amount = signup.get("paid")
    return money(amount) if amount not in (None, "") else None


def mark_paid(tx: Tx, app: App, signup_id: str, actor: Doc, now: datetime) -> tuple[Doc, Decimal]:
    """The organiser took the price in cash: the sign-up is paid (and present); once.

    Raises:
        NotOrganiser: the actor is not a coordinator.
        UnknownSession: no such sign-up holding a place, or the activity is free.
    """
    require_organiser(app, actor)
    signup = tx.get(SIGNUPS, signup_id)
    if signup is None or signup["status"] not in HELD:
        raise UnknownSession()
    activity = Activity.from_doc(require_activity(tx, signup["activity_id"]))
    if activity.price <= 0:
        raise UnknownSession()
    already = paid(signup)
    if already is not None:
        return signup, already
    signup.update(
        paid=str(activity.price),
        paid_at=to_iso(now),
        paid_by=actor["id"],
        status=SignupStatus.ATTENDED.value,
        marked_by=actor["id"],
        marked_at=to_iso(now),
    )
    tx.put(SIGNUPS, signup_id, signup)
    return signup, activity.price
