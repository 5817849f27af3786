"""The day's places of each care service: what is free, and taking or giving back a place.

A service may make at most ``daily_capacity`` visits on one local day; the
visits booked so far are counted per service and day in ``care_days``. The
count is changed only inside the transaction that books, declines, cancels or
moves a booking, so two people cannot take the last place of a day.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from assistant.clock import from_iso
from assistant.domain import slots
from assistant.domain.catalogue import Service
from assistant.services.care.records import ASAP, DAYS, SlotFull, TooSoon
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App


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


def offer(tx: Tx, app: App, code: str, now: datetime) -> tuple[bool, list[date]]:
    """Whether "as soon as possible" can be offered now, and the days with a free slot."""
    service = app.services[code]
    rules, zone, used = rules_of(service), app.settings.timezone, taken(tx, code)
    return slots.asap_free(rules, now, zone, used), slots.free_days(rules, now, zone, used)


def starts_on(tx: Tx, app: App, code: str, day: date, now: datetime) -> list[datetime]:
    """Every free start of a service on one local day, soonest first."""
    service = app.services[code]
    rules, zone, used = rules_of(service), app.settings.timezone, taken(tx, code)
    return slots.free_starts_of_day(rules, day, now, zone, used)


def claim(tx: Tx, app: App, code: str, start: str, now: datetime) -> datetime:
    """Check the chosen time again and take its day's place; return the start.

    Raises:
        SlotFull: the day has no place left, or "as soon as possible" is gone.
        TooSoon: the time no longer leaves the notice the service needs.
    """
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


def release(tx: Tx, app: App, booking: Doc) -> None:
    """Give back the place of a booking's day."""
    _count(tx, booking["service"], _day_of(app, booking), -1)


def retake(tx: Tx, app: App, booking: Doc) -> None:
    """Take the place of a booking's day again (a move that failed keeps its old time)."""
    _count(tx, booking["service"], _day_of(app, booking), +1)


def _day_of(app: App, booking: Doc) -> date:
    return slots.local_day(from_iso(booking["start"]), app.settings.timezone)


def _count(tx: Tx, code: str, day: date, change: int) -> None:
    doc_id = f"{code}|{day.isoformat()}"
    doc = tx.get(DAYS, doc_id) or {"service": code, "day": day.isoformat(), "count": 0}
    doc["count"] = max(0, int(doc["count"]) + change)
    tx.put(DAYS, doc_id, doc)
