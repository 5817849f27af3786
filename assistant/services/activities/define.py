"""Defining the centre's activities: by coordinators in chat (``/activity``) or the demo loader."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from assistant.clock import to_iso
from assistant.services.activities.records import ACTIVITIES, Kind, Who, money
from assistant.services.activities.signups import require_organiser
from assistant.store.base import Doc, Tx, new_id

if TYPE_CHECKING:
    from assistant.app import App

MAX_CAPACITY = 500


@dataclass(frozen=True)
class Plan:
    """An activity as the form (or the demo) describes it."""

    name_zh: str
    name_en: str
    kind: Kind
    place: str
    capacity: int
    at: str
    weekdays: tuple[int, ...] = ()
    day: str = ""
    who: Who = Who.ANYONE
    price: str = "0"
    duration_minutes: int = 90
    min_age: int = 0


def add(
    tx: Tx, plan: Plan, organiser_id: str, now: datetime, activity_id: str | None = None
) -> Doc:
    """Store a new activity; return it.

    Raises:
        ValueError: a capacity outside 1..500, a bad price, no day to take place on.
    """
    if not 1 <= plan.capacity <= MAX_CAPACITY:
        raise ValueError("capacity must be between 1 and 500")
    if plan.kind is Kind.ONCE and not plan.day:
        raise ValueError("a one-off activity needs its day")
    if plan.kind is not Kind.ONCE and not plan.weekdays:
        raise ValueError("a recurring activity needs its weekdays")
    doc: Doc = {
        "name_zh": plan.name_zh,
        "name_en": plan.name_en or plan.name_zh,
        "kind": plan.kind.value,
        "place": plan.place,
        "capacity": plan.capacity,
        "who": plan.who.value,
        "price": str(money(plan.price)),
        "weekdays": list(plan.weekdays),
        "at": plan.at,
        "day": plan.day,
        "duration_minutes": plan.duration_minutes,
        "min_age": plan.min_age,
        "organiser_id": organiser_id,
        "created_at": to_iso(now),
        "order": len(tx.all(ACTIVITIES)),
    }
    found_id = activity_id or new_id("ac")
    tx.put(ACTIVITIES, found_id, doc)
    doc["id"] = found_id
    return doc


def define(tx: Tx, app: App, plan: Plan, organiser: dict[str, object], now: datetime) -> Doc:
    """A coordinator's new activity, the right checked in this unit of work."""
    actor = require_organiser(app, dict(organiser))
    return add(tx, plan, str(actor["id"]), now)
