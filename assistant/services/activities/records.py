"""The centre's own activities and their sign-ups: vocabulary, collections, refusals.

Collections:
    activities           one activity: names in both languages, kind, place, capacity,
                         who may come, price (a decimal string), when (weekdays and a
                         time, or one date), organiser
    activity_sessions    one occurrence (``<activity>@<YYYYMMDD>``): its start, the
                         places taken, and the waiting list in order
    signups              one person's place (or turn on the waiting list) at a session

Kinds: ``recurring`` (午托 on school days, an interest class every Tuesday),
``once`` (a culture evening) and ``meal`` (the elders' canteen: tomorrow's meal,
booked until ``[activities] canteen_cutoff_hour`` today).

Sign-up statuses::

    booked ─► attended | absent
      │  ▲
      │  └── waiting (a freed place goes to the first in line)
      └──► cancelled ◄── waiting
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from assistant.domain.numbers import is_digits
from assistant.errors import Refusal
from assistant.store.base import Doc, Tx

ACTIVITIES = "activities"
SESSIONS = "activity_sessions"
SIGNUPS = "signups"


class Kind(StrEnum):
    """How an activity recurs."""

    RECURRING = "recurring"
    ONCE = "once"
    MEAL = "meal"


class Who(StrEnum):
    """Who may sign up (shown on the activity; the organiser checks at the door)."""

    ANYONE = "anyone"
    CHILDREN = "children"
    ELDERS = "elders"


class SignupStatus(StrEnum):
    """Where a sign-up stands (stored as its string value)."""

    BOOKED = "booked"
    WAITING = "waiting"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    ABSENT = "absent"


LIVE = (SignupStatus.BOOKED, SignupStatus.WAITING)


class ActivityError(Refusal):
    """A sign-up change that cannot be made; ``key`` is the message to reply with."""

    key = "activity.refused"


class Closed(ActivityError):
    """The session is past, or past its sign-up cut-off."""

    key = "activity.closed"


class Full(ActivityError):
    """No place left (and the person did not ask to wait)."""

    key = "activity.full"


class AlreadySigned(ActivityError):
    """This person already has a place (or a turn) at this session."""

    key = "activity.already"


class TooLateToCancel(ActivityError):
    """Too close to the start to cancel in chat."""

    key = "activity.too_late"


class NotYours(ActivityError):
    """The presser may not change this sign-up."""

    key = "activity.not_yours"


class NotOrganiser(ActivityError):
    """Only coordinators (and admins) define activities and mark attendance."""

    key = "activity.not_organiser"


class UnknownSession(ActivityError):
    """No such activity or session (a stale button)."""

    key = "activity.unknown"


class AgeUnknown(ActivityError):
    """An activity for elders over an age, and the person's birth year is not on record."""

    key = "activity.age_unknown"


class TooYoung(ActivityError):
    """An activity for elders over an age the person has not reached this year."""

    key = "activity.too_young"


@dataclass(frozen=True)
class Activity:
    """One activity, as stored in ``activities``."""

    id: str
    name_zh: str
    name_en: str
    kind: Kind
    place: str
    capacity: int
    who: Who = Who.ANYONE
    price: Decimal = Decimal("0")
    weekdays: tuple[int, ...] = ()
    at: str = "09:00"
    day: str = ""
    duration_minutes: int = 90
    min_age: int = 0
    """Elders over this age (by birth year) only; 0: no age is checked."""
    code: str = ""
    """The stable code of an activity defined in ``settings.toml`` (``[[activities.programme]]``)."""

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Activity:
        """The activity of a stored document."""
        return cls(
            id=str(doc["id"]),
            name_zh=str(doc["name_zh"]),
            name_en=str(doc.get("name_en") or doc["name_zh"]),
            kind=Kind(doc["kind"]),
            place=str(doc.get("place", "")),
            capacity=int(doc["capacity"]),
            who=Who(doc.get("who", Who.ANYONE)),
            price=money(doc.get("price", "0")),
            weekdays=tuple(int(d) for d in doc.get("weekdays", ())),
            at=str(doc.get("at", "09:00")),
            day=str(doc.get("day", "")),
            duration_minutes=int(doc.get("duration_minutes", 90)),
            min_age=int(doc.get("min_age") or 0),
            code=str(doc.get("code") or ""),
        )

    def name(self, language: str) -> str:
        """The name in a reader's language."""
        return self.name_en if language == "en" else self.name_zh

    def start_on(self, day: date, zone: ZoneInfo) -> datetime:
        """When the activity starts on a local day."""
        hour, _, minute = self.at.partition(":")
        return datetime.combine(day, time(int(hour), int(minute or 0)), tzinfo=zone)

    def days(self, today: date, ahead: int) -> list[date]:
        """The local days it takes place on, from today for ``ahead`` days."""
        if self.kind is Kind.ONCE:
            day = date.fromisoformat(self.day)
            return [day] if today <= day < today + timedelta(days=ahead) else []
        return [
            today + timedelta(days=n)
            for n in range(ahead)
            if (today + timedelta(days=n)).weekday() in self.weekdays
        ]


def money(value: object) -> Decimal:
    """A price as a :class:`Decimal` (stored as a string; never a float)."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not an amount of money: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"not an amount of money: {value!r}")
    return amount.quantize(Decimal("0.01"))


def session_id(activity_id: str, day: date) -> str:
    """The id of an activity's session on a day (no ``:``, so it fits in a button)."""
    return f"{activity_id}@{day.strftime('%Y%m%d')}"


def parse_session(value: str) -> tuple[str, date] | None:
    """The activity id and day of a session id, or ``None``."""
    activity_id, sep, stamp = value.rpartition("@")
    if not sep or not activity_id or len(stamp) != 8 or not is_digits(stamp):
        return None
    try:
        return activity_id, date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:]))
    except ValueError:
        return None


def require_activity(tx: Tx, activity_id: str) -> Doc:
    """The activity, or :class:`UnknownSession`."""
    doc = tx.get(ACTIVITIES, activity_id)
    if doc is None or doc.get("retired"):
        raise UnknownSession()
    return doc
