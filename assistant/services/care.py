"""Care bookings: book a service, approve, cancel, reschedule, and follow the task.

A booking is written in one transaction with everything that follows from it:
the day's place taken, the dispatch task opened (or the coordinators asked to
approve an escort), and the messages to the people concerned put in the
outbox. Each function returns the timer ids to kick after the commit.

Collections:
    bookings    one booking: service, person_id (for whom), booked_by, via
                (chat|phone), start (ISO UTC), status, household copy, notes,
                price, task_id, rating, comment, timestamps
    care_days   visits of one service booked on one local day (``code|date``)

Statuses::

    awaiting_approval ─► open ─► assigned ─► on_way ─► arrived ─► done
          │               ▲  └──────┴── dropped ◄─┘                 └► failed
          └───────────────┴──────────────► cancelled

Health notes and addresses are personal data: they go into the task's private
part only, and are never logged.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, cast

from assistant.clock import from_iso, to_iso
from assistant.conversation.vocabulary import Address, Choice, Outbound, Reply
from assistant.domain import slots
from assistant.domain.catalogue import Service
from assistant.i18n import Translator, translator
from assistant.services import community, outbox, people
from assistant.store.base import Doc, Tx, new_id

if TYPE_CHECKING:
    from assistant.bootstrap import App

log = logging.getLogger(__name__)

BOOKINGS = "bookings"
DAYS = "care_days"
ASAP = "asap"
OFFERED = 8
OFFERED_PER_DAY = 4
CHAT = "chat"
PHONE = "phone"

AWAITING = "awaiting_approval"
OPEN = "open"
ASSIGNED = "assigned"
ON_WAY = "on_way"
ARRIVED = "arrived"
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"
LIVE = (AWAITING, OPEN, ASSIGNED, ON_WAY, ARRIVED)
CHANGEABLE = (AWAITING, OPEN, ASSIGNED)
RANK = {AWAITING: 0, OPEN: 1, ASSIGNED: 2, ON_WAY: 3, ARRIVED: 4, DONE: 5, FAILED: 5}
EVENT_STATUS = {
    "assigned": ASSIGNED,
    "on_way": ON_WAY,
    "arrived": ARRIVED,
    "done": DONE,
    "failed": FAILED,
}

ChoicesFor = Callable[[Translator], tuple[tuple[Choice, ...], ...]]
"""Buttons of a message, built in the reader's language."""

SELF = "self"
BOOKER = "booker"
PROXY = "proxy"
COORDINATOR = "coordinator"


class CareError(Exception):
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


class Dispatch(Protocol):
    """What the care side needs from dispatch (``assistant.services.dispatch``)."""

    def open_task(
        self,
        tx: Tx,
        app: App,
        *,
        kind: str,
        ref: str,
        skill: str,
        grid_id: str | None,
        starts_at: datetime,
        duration_minutes: int,
        summary: dict[str, str],
        private: dict[str, str],
        requester_id: str,
        wave_minutes: float | None = None,
    ) -> tuple[str, list[str]]:
        """Open a task; return its id and the timers to kick."""

    def cancel_task(self, tx: Tx, app: App, task_id: str, reason: str) -> list[str]:
        """Withdraw a task."""

    def reschedule_task(self, tx: Tx, app: App, task_id: str, starts_at: datetime) -> list[str]:
        """Move a task to another time."""


def dispatch(app: App) -> Dispatch:
    """The app's dispatch port: the real service unless a twin was injected."""
    if app.dispatch is not None:
        return cast(Dispatch, app.dispatch)
    return cast(Dispatch, importlib.import_module("assistant.services.dispatch"))


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


# -- slots -------------------------------------------------------------------------


def rules_of(service: Service) -> slots.Rules:
    """A service's booking rules for the slot functions."""
    return slots.Rules(
        opens=service.opens,
        closes=service.closes,
        duration_minutes=service.duration_minutes,
        notice_minutes=service.notice_minutes,
        daily_capacity=service.daily_capacity,
        asap=service.asap,
    )


def taken(tx: Tx, code: str) -> dict[date, int]:
    """Visits of a service already booked, per local day."""
    return {date.fromisoformat(d["day"]): int(d["count"]) for d in tx.find(DAYS, service=code)}


def offer(
    tx: Tx, app: App, code: str, now: datetime, after: datetime | None = None
) -> tuple[bool, list[datetime]]:
    """Whether "as soon as possible" can be offered, and the next free slots over a few days."""
    service = app.services[code]
    rules, zone, used = rules_of(service), app.settings.timezone, taken(tx, code)
    asap = after is None and slots.asap_free(rules, now, zone, used)
    found = slots.free_slots(
        rules, now, zone, used, after=after, limit=OFFERED, per_day=OFFERED_PER_DAY
    )
    return asap, found


def _claim(tx: Tx, app: App, code: str, start: str, now: datetime) -> datetime:
    """Check the chosen time again and take its day's place; return the start."""
    service = app.services[code]
    rules, zone, used = rules_of(service), app.settings.timezone, taken(tx, code)
    if start == ASAP:
        if not slots.asap_free(rules, now, zone, used):
            raise SlotFull()
        moment = now
    else:
        moment = from_iso(start)
        if moment < slots.earliest_start(rules, now):
            raise TooSoon()
        if not slots.is_free(rules, moment, now, zone, used):
            raise SlotFull()
    _count(tx, code, slots.local_day(moment, zone), +1)
    return moment


def _count(tx: Tx, code: str, day: date, change: int) -> None:
    doc_id = f"{code}|{day.isoformat()}"
    doc = tx.get(DAYS, doc_id) or {"service": code, "day": day.isoformat(), "count": 0}
    doc["count"] = max(0, int(doc["count"]) + change)
    tx.put(DAYS, doc_id, doc)


def _release(tx: Tx, app: App, booking: Doc) -> None:
    zone = app.settings.timezone
    _count(tx, booking["service"], slots.local_day(from_iso(booking["start"]), zone), -1)


# -- booking -------------------------------------------------------------------------


def book(tx: Tx, app: App, draft: Draft, now: datetime) -> tuple[Doc, list[str]]:
    """Confirm a booking atomically: re-check the slot, take the place, start what follows.

    Raises:
        SlotFull: the day's last place went to someone else meanwhile.
        TooSoon: the slot no longer leaves enough notice.
    """
    service = app.services[draft.service]
    start = _claim(tx, app, draft.service, draft.start, now)
    person = tx.require(people.PEOPLE, draft.person_id)
    approved = not service.needs_approval or draft.via == PHONE
    booking: Doc = {
        "service": draft.service,
        "person_id": draft.person_id,
        "booked_by": draft.booked_by,
        "via": draft.via,
        "start": to_iso(start),
        "asap": draft.start == ASAP,
        "status": OPEN if approved else AWAITING,
        "household": dict(draft.household) if draft.household else None,
        "grid_id": person.get("grid_id"),
        "notes": draft.notes,
        "price": service.price,
        "task_id": None,
        "rating": None,
        "comment": "",
        "created_at": to_iso(now),
        "updated_at": to_iso(now),
        "history": [{"status": OPEN if approved else AWAITING, "at": to_iso(now)}],
    }
    booking["id"] = new_id("bk")
    ids: list[str] = []
    if approved:
        ids += _open_task(tx, app, booking)
    else:
        ids += _ask_approval(tx, app, booking, now)
    save(tx, booking)
    key = "care.note_booked" if approved else "care.note_awaiting"
    ids += tell(tx, app, booking, key, now, skip=draft.booked_by)
    log.info("booking %s of %s made via %s", booking["id"], draft.service, draft.via)
    return booking, ids


def _open_task(tx: Tx, app: App, booking: Doc) -> list[str]:
    service = app.services[booking["service"]]
    person = tx.get(people.PEOPLE, booking["person_id"]) or {}
    household = booking.get("household")
    task_id, ids = dispatch(app).open_task(
        tx,
        app,
        kind="care",
        ref=booking["id"],
        skill=service.skill,
        grid_id=booking.get("grid_id"),
        starts_at=from_iso(booking["start"]),
        duration_minutes=service.duration_minutes,
        summary={
            "title_zh": service.name_zh,
            "title_en": service.name_en,
            "grid_name": community.grid_name(tx, booking.get("grid_id")),
            "place": coarse_place(household),
        },
        private={
            "name": str(person.get("name", "")),
            "address_zh": describe_address(household, True),
            "address_en": describe_address(household, False),
            "phone": str(person.get("phone", "")),
            "notes": str(booking.get("notes", "")),
        },
        requester_id=booking["person_id"],
        wave_minutes=service.wave_minutes,
    )
    booking["task_id"] = task_id
    return ids


def _ask_approval(tx: Tx, app: App, booking: Doc, now: datetime) -> list[str]:
    person = tx.get(people.PEOPLE, booking["person_id"]) or {}

    def build(tr: Translator) -> Reply:
        return Reply(
            tr.t(
                "care.coordinator_approve",
                name=person.get("name", ""),
                service=app.services[booking["service"]].name(tr.language),
                when=when_text(app, booking, tr, now),
                place=describe_address(booking.get("household"), tr.is_chinese),
            ),
            choices=(
                (
                    Choice(tr.t("care.approve"), f"a:care:approve:{booking['id']}"),
                    Choice(tr.t("care.decline"), f"a:care:decline:{booking['id']}"),
                ),
            ),
        )

    ids: list[str] = []
    for coordinator in people.coordinators_for(tx, booking.get("grid_id")):
        ids += post_to(tx, coordinator, build, now)
    return ids


def decide(
    tx: Tx, app: App, booking_id: str, coordinator: Doc, approve: bool, now: datetime
) -> tuple[Doc, list[str]]:
    """A coordinator approves (the task is opened) or declines (the place is freed) an escort."""
    booking = _require(tx, booking_id)
    if not people.has_role(app, coordinator, people.COORDINATOR):
        raise NotYours()
    if booking["status"] != AWAITING:
        raise NotChangeable()
    booking["decided_by"] = coordinator["id"]
    ids: list[str] = []
    if approve:
        _set_status(booking, OPEN, now)
        ids += _open_task(tx, app, booking)
        ids += tell(tx, app, booking, "care.note_approved", now)
    else:
        _set_status(booking, CANCELLED, now)
        _release(tx, app, booking)
        ids += tell(tx, app, booking, "care.note_declined", now)
    save(tx, booking)
    log.info("booking %s %s by a coordinator", booking_id, "approved" if approve else "declined")
    return booking, ids


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


def change_deadline(app: App, booking: Doc) -> datetime | None:
    """Until when residents may cancel or move a booking (``None``: only while unassigned)."""
    if booking.get("asap"):
        return None
    notice = timedelta(minutes=app.services[booking["service"]].notice_minutes)
    return from_iso(booking["start"]) - notice


def may_change(app: App, booking: Doc, now: datetime) -> bool:
    """Whether a resident may still cancel or move the booking in chat."""
    if booking["status"] not in CHANGEABLE:
        return False
    deadline = change_deadline(app, booking)
    if deadline is None:
        return booking["status"] in (AWAITING, OPEN)
    return now <= deadline


def _check_change(tx: Tx, app: App, booking: Doc, actor: Doc, now: datetime) -> str:
    who = relation(tx, app, booking, actor)
    if who is None:
        raise NotYours()
    if booking["status"] not in CHANGEABLE:
        raise NotChangeable()
    if who != COORDINATOR and not may_change(app, booking, now):
        raise TooLate()
    return who


def cancel(tx: Tx, app: App, booking_id: str, actor: Doc, now: datetime) -> tuple[Doc, list[str]]:
    """Cancel a booking: free the place, withdraw the task, tell the people concerned."""
    booking = _require(tx, booking_id)
    who = _check_change(tx, app, booking, actor, now)
    _set_status(booking, CANCELLED, now)
    booking["cancelled_by"] = actor["id"]
    _release(tx, app, booking)
    ids: list[str] = []
    if booking.get("task_id"):
        reason = "cancelled by a coordinator" if who == COORDINATOR else "cancelled by the resident"
        ids += dispatch(app).cancel_task(tx, app, booking["task_id"], reason)
    ids += tell(tx, app, booking, "care.note_cancelled", now, skip=actor["id"])
    save(tx, booking)
    log.info("booking %s cancelled (%s)", booking_id, who)
    return booking, ids


def reschedule(
    tx: Tx, app: App, booking_id: str, actor: Doc, start: str, now: datetime
) -> tuple[Doc, list[str]]:
    """Move a booking to another free slot of its service, checked again atomically."""
    booking = _require(tx, booking_id)
    who = _check_change(tx, app, booking, actor, now)
    if start == ASAP:
        raise NotChangeable()
    _release(tx, app, booking)
    try:
        moment = _claim(tx, app, booking["service"], start, now)
    except CareError:
        _count(tx, booking["service"], _day_of(app, booking), +1)
        raise
    booking["start"] = to_iso(moment)
    booking["updated_at"] = to_iso(now)
    booking.setdefault("history", []).append({"status": "moved", "at": to_iso(now)})
    ids: list[str] = []
    if booking.get("task_id"):
        ids += dispatch(app).reschedule_task(tx, app, booking["task_id"], moment)
    ids += tell(tx, app, booking, "care.note_moved", now, skip=actor["id"])
    save(tx, booking)
    log.info("booking %s moved (%s)", booking_id, who)
    return booking, ids


def _day_of(app: App, booking: Doc) -> date:
    return slots.local_day(from_iso(booking["start"]), app.settings.timezone)


# -- events from dispatch --------------------------------------------------------------


def on_task_event(app: App, booking_id: str, event: str, task: dict[str, Any]) -> None:
    """Follow a task's progress: record it on the booking and tell the resident.

    Called by dispatch after its own transaction has committed. Repeated or
    late events change nothing, so at-least-once delivery is safe.
    """
    with app.store.transaction() as tx:
        ids = apply_event(tx, app, booking_id, event, task, app.clock.now())
    from assistant.services import timers

    timers.kick(app, ids)


def apply_event(
    tx: Tx, app: App, booking_id: str, event: str, task: dict[str, Any], now: datetime
) -> list[str]:
    """The transactional part of :func:`on_task_event`."""
    booking = tx.get(BOOKINGS, booking_id)
    if booking is None or booking["status"] in (CANCELLED, AWAITING):
        return []
    current = booking["status"]
    ids: list[str] = []
    if event == "escalated":
        if booking.get("escalated_at") or current != OPEN:
            return []
        booking["escalated_at"] = to_iso(now)
        ids += tell(tx, app, booking, "care.note_escalated", now)
    elif event == "dropped":
        if current not in (ASSIGNED, ON_WAY, ARRIVED):
            return []
        _set_status(booking, OPEN, now)
        ids += tell(tx, app, booking, "care.note_dropped", now)
    elif event in EVENT_STATUS:
        status = EVENT_STATUS[event]
        if RANK[status] <= RANK[current]:
            return []
        _set_status(booking, status, now)
        ids += _told_of(tx, app, booking, event, task, now)
    else:
        log.warning("booking %s got an unknown task event %s", booking_id, event)
        return []
    save(tx, booking)
    log.info("booking %s: task event %s", booking_id, event)
    return ids


def _told_of(
    tx: Tx, app: App, booking: Doc, event: str, task: dict[str, Any], now: datetime
) -> list[str]:
    from assistant.services import care_followups

    if event == "done":
        booking["done_at"] = to_iso(now)
        return care_followups.after_done(tx, app, booking, now)
    if event == "failed":
        return tell(tx, app, booking, "care.note_failed", now) + care_followups.after_failed(
            tx, app, booking, now
        )
    assignee = tx.get(people.PEOPLE, str(task.get("assignee_id") or "")) if task else None
    volunteer = str((assignee or {}).get("name") or "")
    if event == "assigned" and volunteer:
        return tell(tx, app, booking, "care.note_assigned_named", now, volunteer=volunteer)
    return tell(tx, app, booking, f"care.note_{event}", now)


# -- records ----------------------------------------------------------------------------


def _require(tx: Tx, booking_id: str) -> Doc:
    booking = tx.get(BOOKINGS, booking_id)
    if booking is None:
        raise NotChangeable()
    return booking


def _set_status(booking: Doc, status: str, now: datetime) -> None:
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


def visible_to(tx: Tx, person_id: str) -> list[Doc]:
    """Live and recent bookings for a person, their relatives, or booked by them in chat."""
    relatives = {r["id"] for r in people.relatives_of(tx, person_id)}
    mine = [
        b
        for b in tx.all(BOOKINGS)
        if b["person_id"] == person_id
        or b["person_id"] in relatives
        or (b["booked_by"] == person_id and b.get("via") == CHAT)
    ]
    return sorted(mine, key=lambda b: b["start"])


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


# -- telling people ----------------------------------------------------------------------


def describe_address(household: dict[str, Any] | None, chinese: bool) -> str:
    """A booking's address as people write it (personal data: never log it)."""
    if not household:
        return ""
    if "text" in household:
        return str(household["text"])
    return community.describe_household(household, chinese)


def coarse_place(household: dict[str, Any] | None) -> str:
    """Only the residential complex, or nothing for a typed address."""
    if not household or "complex" not in household:
        return ""
    return community.coarse_place(household)


def price_text(tr: Translator, price: float) -> str:
    """``免费`` or ``¥20``."""
    if price <= 0:
        return tr.t("care.free")
    return f"¥{int(price)}" if float(price).is_integer() else f"¥{price:.2f}"


def when_text(app: App, booking: Doc, tr: Translator, now: datetime) -> str:
    """When the visit is, as the reader says it."""
    if booking.get("asap"):
        return tr.t("care.asap")
    zone = app.settings.timezone
    return slots.label(from_iso(booking["start"]), now, zone, tr.is_chinese)


def service_name(app: App, code: str, tr: Translator) -> str:
    """A service's name in the reader's language."""
    return app.services[code].name(tr.language)


def recipients(tx: Tx, booking: Doc) -> list[Doc]:
    """Who hears about a booking: the resident, and the family helper or staff who booked it.

    The booker is told when they booked in chat for someone else, or when the
    resident cannot be reached in chat (a phone booking for someone without one).
    """
    out: list[Doc] = []
    person = tx.get(people.PEOPLE, booking["person_id"])
    reachable = bool(person and people.reachable_addresses(tx, person))
    if person is not None and reachable and not person.get("forgotten"):
        out.append(person)
    if booking["booked_by"] != booking["person_id"]:
        booker = tx.get(people.PEOPLE, booking["booked_by"])
        if booker is not None and (booking.get("via") == CHAT or not reachable):
            out.append(booker)
    return out


def whose(tx: Tx, booking: Doc, reader: Doc, tr: Translator) -> str:
    """``您的`` / ``Your`` for the resident, ``林奶奶的`` / ``林奶奶's`` for others."""
    if reader["id"] == booking["person_id"]:
        return tr.t("care.whose_own")
    person = tx.get(people.PEOPLE, booking["person_id"]) or {}
    return tr.t("care.whose_other", name=person.get("name", ""))


def tell(
    tx: Tx,
    app: App,
    booking: Doc,
    key: str,
    now: datetime,
    skip: str = "",
    choices: ChoicesFor | None = None,
    **values: object,
) -> list[str]:
    """Put message ``key`` about a booking in the outbox for each of its recipients."""
    ids: list[str] = []
    for reader in recipients(tx, booking):
        if reader["id"] == skip:
            continue

        def build(tr: Translator, reader: Doc = reader) -> Reply:
            text = tr.t(
                key,
                whose=whose(tx, booking, reader, tr),
                service=service_name(app, booking["service"], tr),
                when=when_text(app, booking, tr, now),
                **values,
            )
            return Reply(text, choices=choices(tr) if choices else ())

        ids += post_to(tx, reader, build, now)
    return ids


def post_to(
    tx: Tx,
    person: Doc,
    build: Callable[[Translator], Reply],
    now: datetime,
    due: datetime | None = None,
) -> list[str]:
    """Queue a message, written in the person's language, to each of their reachable addresses."""
    tr = translator(person.get("language", "zh_CN"))
    reply = build(tr)
    return [
        outbox.post(
            tx, Outbound(to=Address(address), reply=reply, language=tr.language), now, due=due
        )
        for address in people.reachable_addresses(tx, person)
    ]
