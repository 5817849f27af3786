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
queries and :func:`on_task_event` are re-exported, so callers keep saying
``care.SlotFull`` or ``care.taken``. Dispatch is reached through
``app.dispatch`` (the port :class:`~assistant.services.dispatch.DispatchPort`,
set by the composition root).

Health notes and addresses are personal data: they go into the task's private
part only, and are never logged.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from assistant.clock import from_iso, to_iso
from assistant.domain.catalogue import Service
from assistant.services import people
from assistant.services.care.capacity import (
    claim,
    release,
    retake,
)
from assistant.services.care.notify import ask_approval, coarse_place, describe_address, tell
from assistant.services.care.records import (
    ASAP,
    AWAITING,
    CANCELLED,
    CHANGEABLE,
    COORDINATOR,
    OPEN,
    PHONE,
    Booking,
    BookingStatus,
    CareError,
    Draft,
    NotChangeable,
    NotYours,
    TooLate,
    relation,
    require,
    save,
    set_status,
)
from assistant.services.people import community
from assistant.store.base import Doc, Tx, new_id

if TYPE_CHECKING:
    from assistant.app import App


log = logging.getLogger(__name__)

KIND = "care"
"""The dispatch task kind of a care visit (registered by ``care.TASK_KIND``)."""


# -- booking -------------------------------------------------------------------------


def book(tx: Tx, app: App, draft: Draft, now: datetime) -> Doc:
    """Confirm a booking atomically: re-check the slot, take the place, start what follows.

    Raises:
        SlotFull: the day's last place went to someone else meanwhile.
        TooSoon: the slot no longer leaves enough notice.
    """
    service = app.services[draft.service]
    start = claim(tx, app, draft.service, draft.start, now)
    person = tx.require(people.PEOPLE, draft.person_id)
    approved = not service.needs_approval or draft.via == PHONE
    booking = _new_booking(draft, start, person, service, OPEN if approved else AWAITING, now)
    if approved:
        _open_task(tx, app, booking)
    else:
        ask_approval(tx, app, booking, now)
    save(tx, booking)
    key = "care.note_booked" if approved else "care.note_awaiting"
    tell(tx, app, booking, key, now, skip=draft.booked_by)
    log.info("booking %s of %s made via %s", booking["id"], draft.service, draft.via)
    return booking


def _new_booking(
    draft: Draft, start: datetime, person: Doc, service: Service, status: str, now: datetime
) -> Doc:
    """The booking record of a confirmed draft, with a fresh id."""
    return Booking(
        id=new_id("bk"),
        service=draft.service,
        person_id=draft.person_id,
        booked_by=draft.booked_by,
        via=draft.via,
        start=start,
        asap=draft.start == ASAP,
        status=BookingStatus(status),
        household=dict(draft.household) if draft.household else None,
        grid_id=person.get("grid_id"),
        notes=draft.notes,
        price=service.price,
        created_at=to_iso(now),
        updated_at=to_iso(now),
        history=({"status": status, "at": to_iso(now)},),
    ).to_doc()


def _open_task(tx: Tx, app: App, booking: Doc) -> None:
    """Open the booking's dispatch task (a "care visit") and note its id on the booking."""
    service = app.services[booking["service"]]
    booking["task_id"] = app.dispatch.open_task(
        tx,
        app,
        kind=KIND,
        ref=booking["id"],
        skill=service.skill,
        grid_id=booking.get("grid_id"),
        starts_at=from_iso(booking["start"]),
        duration_minutes=service.duration_minutes,
        summary=_task_summary(tx, service, booking),
        private=_task_private(tx, booking),
        requester_id=booking["person_id"],
        wave_minutes=service.wave_minutes,
        payload={"service": booking["service"]},
    )


def _task_summary(tx: Tx, service: Service, booking: Doc) -> dict[str, str]:
    """What every volunteer offered the task may see."""
    return {
        "title_zh": service.name_zh,
        "title_en": service.name_en,
        "grid_name": community.grid_name(tx, booking.get("grid_id")),
        "place": coarse_place(booking.get("household")),
    }


def _task_private(tx: Tx, booking: Doc) -> dict[str, str]:
    """What only the volunteer who takes the task may see (personal data)."""
    person = tx.get(people.PEOPLE, booking["person_id"]) or {}
    household = booking.get("household")
    return {
        "name": str(person.get("name", "")),
        "address_zh": describe_address(household, True),
        "address_en": describe_address(household, False),
        "phone": str(person.get("phone", "")),
        "notes": str(booking.get("notes", "")),
    }


def decide(
    tx: Tx, app: App, booking_id: str, coordinator: Doc, approve: bool, now: datetime
) -> Doc:
    """A coordinator approves (the task is opened) or declines (the place is freed) an escort."""
    booking = require(tx, booking_id)
    if not people.has_role(app, coordinator, people.COORDINATOR):
        raise NotYours()
    if booking["status"] != AWAITING:
        raise NotChangeable()
    booking["decided_by"] = coordinator["id"]
    if approve:
        set_status(booking, OPEN, now)
        _open_task(tx, app, booking)
        tell(tx, app, booking, "care.note_approved", now)
    else:
        set_status(booking, CANCELLED, now)
        release(tx, app, booking)
        tell(tx, app, booking, "care.note_declined", now)
    save(tx, booking)
    log.info("booking %s %s by a coordinator", booking_id, "approved" if approve else "declined")
    return booking


# -- who may do what -----------------------------------------------------------------


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


# -- cancelling and moving ----------------------------------------------------------------


def cancel(tx: Tx, app: App, booking_id: str, actor: Doc, now: datetime) -> Doc:
    """Cancel a booking: free the place, withdraw the task, tell the people concerned."""
    booking = require(tx, booking_id)
    who = _check_change(tx, app, booking, actor, now)
    set_status(booking, CANCELLED, now)
    booking["cancelled_by"] = actor["id"]
    release(tx, app, booking)
    if booking.get("task_id"):
        reason = "cancelled by a coordinator" if who == COORDINATOR else "cancelled by the resident"
        app.dispatch.cancel_task(tx, app, booking["task_id"], reason)
    tell(tx, app, booking, "care.note_cancelled", now, skip=actor["id"])
    save(tx, booking)
    log.info("booking %s cancelled (%s)", booking_id, who)
    return booking


def reschedule(tx: Tx, app: App, booking_id: str, actor: Doc, start: str, now: datetime) -> Doc:
    """Move a booking to another free slot of its service, checked again atomically."""
    booking = require(tx, booking_id)
    who = _check_change(tx, app, booking, actor, now)
    if start == ASAP:
        raise NotChangeable()
    release(tx, app, booking)
    try:
        moment = claim(tx, app, booking["service"], start, now)
    except CareError:
        retake(tx, app, booking)
        raise
    booking["start"] = to_iso(moment)
    booking["updated_at"] = to_iso(now)
    booking.setdefault("history", []).append({"status": "moved", "at": to_iso(now)})
    if booking.get("task_id"):
        app.dispatch.reschedule_task(tx, app, booking["task_id"], moment)
    tell(tx, app, booking, "care.note_moved", now, skip=actor["id"])
    save(tx, booking)
    log.info("booking %s moved (%s)", booking_id, who)
    return booking
