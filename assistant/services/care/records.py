"""The care booking record: its vocabulary, how it is stored, and how it is found.

Everything else on the care side builds on this module and nothing here calls
back: the use cases are in :mod:`assistant.services.care.booking` (which re-exports
the vocabulary, so callers say ``care.SlotFull``), the messages in
:mod:`assistant.services.care.notify`, the task reactions in
:mod:`assistant.services.care.events`.

Collections:
    bookings    one booking: service, person_id (for whom), booked_by, via
                (chat|phone), start (ISO UTC), status, household copy, notes,
                price, task_id, rating, comment, timestamps
    care_days   visits of one service booked on one local day (``code|date``)

The booking is typed (:class:`Booking`, frozen) where it is made and where
other modules read it, converted at the store edge (``from_doc`` /
``to_doc``; the document stays JSON with the same field names). The care
steps still change the document in place inside their transaction.

Statuses::

    awaiting_approval ─► open ─► assigned ─► on_way ─► arrived ─► done
          │               ▲  └──────┴── dropped ◄─┘                 └► failed
          └───────────────┴──────────────► cancelled
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from assistant.clock import from_iso, to_iso
from assistant.errors import Refusal
from assistant.services import people
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

BOOKINGS = "bookings"
DAYS = "care_days"
ASAP = "asap"
CHAT = "chat"
PHONE = "phone"


class BookingStatus(StrEnum):
    """Where a booking stands (stored as its string value)."""

    AWAITING = "awaiting_approval"
    OPEN = "open"
    ASSIGNED = "assigned"
    ON_WAY = "on_way"
    ARRIVED = "arrived"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


AWAITING = BookingStatus.AWAITING
OPEN = BookingStatus.OPEN
ASSIGNED = BookingStatus.ASSIGNED
ON_WAY = BookingStatus.ON_WAY
ARRIVED = BookingStatus.ARRIVED
DONE = BookingStatus.DONE
FAILED = BookingStatus.FAILED
CANCELLED = BookingStatus.CANCELLED
LIVE = (AWAITING, OPEN, ASSIGNED, ON_WAY, ARRIVED)
CHANGEABLE = (AWAITING, OPEN, ASSIGNED)

SELF = "self"
BOOKER = "booker"
PROXY = "proxy"
COORDINATOR = "coordinator"


class CareError(Refusal):
    """A booking change that cannot be made; ``key`` is the message to reply with."""

    key = "care.refused"


class SlotFull(CareError):
    """The chosen time has no place left (someone else took the last one)."""

    key = "care.slot_full"


class TooSoon(CareError):
    """The chosen time no longer leaves the notice the service needs."""

    key = "care.too_soon"


class TooLate(CareError):
    """Too close to the visit to cancel or move it in chat."""

    key = "care.too_late"


class NotYours(CareError):
    """The person may not change this booking."""

    key = "care.not_yours"


class NotChangeable(CareError):
    """The booking is past the point where this change makes sense."""

    key = "care.not_changeable"


@dataclass(frozen=True)
class Draft:
    """A booking as the form collected it, before it is confirmed."""

    service: str
    person_id: str
    booked_by: str
    via: str
    start: str
    household: dict[str, str] | None
    notes: str = ""


@dataclass(frozen=True)
class Booking:
    """One booking, as stored in ``bookings``.

    Fields added later in its life (``decided_by``, ``cancelled_by``,
    ``done_at``, ``follow_up_sent_at`` …) are kept in ``extra``, so
    ``Booking.from_doc(doc).to_doc() == doc``.
    """

    id: str
    service: str
    person_id: str
    booked_by: str
    via: str
    start: datetime
    status: BookingStatus
    household: Mapping[str, str] | None
    grid_id: str | None
    notes: str
    price: float
    created_at: str
    updated_at: str
    asap: bool = False
    task_id: str | None = None
    rating: int | None = None
    comment: str = ""
    history: tuple[Mapping[str, str], ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Booking:
        """The booking of a stored document."""
        household = doc.get("household")
        return cls(
            id=str(doc["id"]),
            service=str(doc["service"]),
            person_id=str(doc["person_id"]),
            booked_by=str(doc["booked_by"]),
            via=str(doc["via"]),
            start=from_iso(doc["start"]),
            status=BookingStatus(doc["status"]),
            household=dict(household) if household else None,
            grid_id=doc.get("grid_id"),
            notes=str(doc.get("notes", "")),
            price=doc.get("price", 0),
            created_at=str(doc.get("created_at", "")),
            updated_at=str(doc.get("updated_at", "")),
            asap=bool(doc.get("asap", False)),
            task_id=doc.get("task_id"),
            rating=doc.get("rating"),
            comment=str(doc.get("comment", "")),
            history=tuple(doc.get("history", ())),
            extra={name: value for name, value in doc.items() if name not in _BOOKING_FIELDS},
        )

    def to_doc(self) -> dict[str, Any]:
        """The document to store (JSON; the field names of before)."""
        return {
            "id": self.id,
            "service": self.service,
            "person_id": self.person_id,
            "booked_by": self.booked_by,
            "via": self.via,
            "start": to_iso(self.start),
            "asap": self.asap,
            "status": self.status.value,
            "household": dict(self.household) if self.household else None,
            "grid_id": self.grid_id,
            "notes": self.notes,
            "price": self.price,
            "task_id": self.task_id,
            "rating": self.rating,
            "comment": self.comment,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "history": [dict(step) for step in self.history],
            **self.extra,
        }


_BOOKING_FIELDS = frozenset(f.name for f in fields(Booking)) - {"extra"}


# -- storing -----------------------------------------------------------------------------


def require(tx: Tx, booking_id: str) -> Doc:
    """The booking to change.

    Raises:
        NotChangeable: there is no such booking (any more).
    """
    booking = tx.get(BOOKINGS, booking_id)
    if booking is None:
        raise NotChangeable()
    return booking


def set_status(booking: Doc, status: str, now: datetime) -> None:
    """Move a booking to ``status`` and note it in its history."""
    booking["status"] = status
    booking["updated_at"] = to_iso(now)
    booking.setdefault("history", []).append({"status": status, "at": to_iso(now)})


def closed(booking: Doc) -> bool:
    """Whether a booking is finished and may leave the hot file."""
    return (
        booking["status"] == CANCELLED
        or booking.get("rating") is not None
        or bool(booking.get("expired"))
    )


def save(tx: Tx, booking: Doc) -> None:
    """Store a booking; a closed one goes to the archive."""
    tx.put(BOOKINGS, booking["id"], booking)
    if closed(booking):
        tx.archive(BOOKINGS, booking["id"])


# -- who may do what -----------------------------------------------------------------


def relation(tx: Tx, app: App, booking: Doc, person: Doc | None) -> str | None:
    """How a person stands to a booking: self, booker, proxy, coordinator, or not at all."""
    if person is None:
        return None
    if person["id"] == booking["person_id"]:
        return SELF
    if person["id"] == booking["booked_by"] and booking.get("via") == CHAT:
        return BOOKER
    if any(r["id"] == booking["person_id"] for r in people.relatives_of(tx, person["id"])):
        return PROXY
    if people.has_role(app, person, people.COORDINATOR):
        return COORDINATOR
    return None


# -- finding -----------------------------------------------------------------------------


RECENT_DAYS = 14
"""How long a finished booking stays in /mine (long enough to rate it; it leaves the hot file later)."""


def visible_to(tx: Tx, person_id: str, now: datetime) -> list[Doc]:
    """Live and recent bookings for a person, their relatives, or booked by them in chat.

    Live ones come first, soonest first; then those finished in the last
    :data:`RECENT_DAYS`, latest first, so the list stays short however many
    visits a person has had.
    """
    whose = {person_id} | {r["id"] for r in people.relatives_of(tx, person_id)}
    found = [
        b
        for b in tx.all(BOOKINGS)  # one pass over the bookings, not one search per person
        if b["person_id"] in whose or (b["booked_by"] == person_id and b.get("via") == CHAT)
    ]
    since = to_iso(now - timedelta(days=RECENT_DAYS))
    live = sorted((b for b in found if b["status"] in LIVE), key=lambda b: b["start"])
    done = sorted(
        (b for b in found if b["status"] not in LIVE and b["start"] >= since),
        key=lambda b: b["start"],
        reverse=True,
    )
    return live + done


def live_for(tx: Tx, person_id: str) -> list[Doc]:
    """A person's bookings that are not finished, soonest first."""
    found = [b for b in tx.find(BOOKINGS, person_id=person_id) if b["status"] in LIVE]
    return sorted(found, key=lambda b: b["start"])


def find_people(tx: Tx, query: str, limit: int = 8) -> list[Doc]:
    """Residents whose name contains ``query`` or whose phone ends with its digits."""
    text = " ".join(query.split())
    digits = "".join(ch for ch in text if ch.isdigit())
    found = []
    for person in tx.all(people.PEOPLE):
        if person.get("forgotten"):
            continue
        phone = "".join(ch for ch in str(person.get("phone", "")) if ch.isdigit())
        by_phone = len(digits) >= 4 and digits == text.replace(" ", "") and phone.endswith(digits)
        if by_phone or (text and not digits and text in str(person.get("name", ""))):
            found.append(person)
    return found[: limit + 1]
