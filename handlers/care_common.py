"""Steps and helpers shared by the care flows (/care, /book, /mine and the ``care`` buttons).

Every change goes through :func:`commit`, in one unit of work; a refused change
raises its :class:`care.CareError`, a refusal the engine answers; every question offers "stop" (:func:`stop_row`) and
every answer honours it (:func:`stoppable`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from assistant.clock import from_iso, to_iso
from assistant.conversation.flow import Ctx, Refused, Unexpected, stop_on
from assistant.conversation.vocabulary import Choice, Reply, rows
from assistant.domain import slots
from assistant.domain.numbers import is_digits
from assistant.services import care, people
from assistant.store.base import Doc, Tx

T = TypeVar("T")
Rows = tuple[tuple[Choice, ...], ...]
STOP = "care.stop"
SKIP = "care.skip"
DAY = "day:"
PAGE = "page:"
DAYS = "days"
OTHER = "days:other"
NEAR = "days:near"
NEAR_DAYS = 3  # today, tomorrow and the day after have buttons of their own
TIMES_PER_PAGE = 8


async def commit(ctx: Ctx, change: Callable[..., T], *args: Any) -> T:
    """Run a care change in one unit of work (which hands out its due timers after commit).

    Raises:
        care.CareError: the change was refused (the engine says why).
    """
    return await ctx.atomic(change, ctx.app, *args, ctx.app.clock.now())


def me(ctx: Ctx) -> Doc:
    """The person talking; refused when they are not known."""
    if ctx.person is None:
        raise Refused()
    return ctx.person


def person_of(tx: Tx, person_id: str) -> Doc:
    """A person's record, or an empty one."""
    return tx.get(people.PEOPLE, person_id) or {}


def set_for(ctx: Ctx, person: Doc) -> None:
    """Record for whom the booking is."""
    ctx.data["for"] = person["id"]
    ctx.data["for_name"] = person.get("name", "")


def stop_row(ctx: Ctx) -> tuple[Choice, ...]:
    """The "stop" button, as a row of its own."""
    return (Choice(ctx.t("care.stop"), STOP),)


stoppable = stop_on(STOP)
"""Let the "stop" button end the form from any question."""


async def slot_reply(ctx: Ctx, code: str, text_key: str, allow_asap: bool) -> Reply:
    """The question "when?": a day first (and "as soon as possible"), then that day's free times.

    ``ctx.data`` keeps where the person is: ``day`` (ISO date) once a day is
    chosen, ``page`` among its times, ``other_days`` while the later days show.
    """
    now = ctx.app.clock.now()
    asap, days = await ctx.view(care.offer, ctx.app, code, now)
    name = ctx.app.services[code].name(ctx.language)
    if ctx.data.get("day"):
        day = date.fromisoformat(ctx.data["day"])
        starts = await ctx.view(care.starts_on, ctx.app, code, day, now)
        if starts:
            return _times_reply(ctx, name, day, starts, now)
        ctx.data.pop("day", None)  # the day filled up meanwhile: choose again
    asap = asap and allow_asap
    if not (asap or days):
        phone = ctx.app.settings.get("community", "phone")
        full = ctx.t("care.no_slots", phone=phone) if phone else ctx.t("care.no_slots_visit")
        return Reply(full, choices=((Choice(ctx.t("care.other_service"), "back"),), stop_row(ctx)))
    layout = _days_layout(ctx, days, now, asap)
    return Reply(ctx.t(text_key, service=name), choices=layout + (stop_row(ctx),))


def _days_layout(ctx: Ctx, days: list[date], now: datetime, asap: bool) -> Rows:
    """今天 / 明天 / 后天 (those with a free time) and 另选一天, or the later days themselves."""
    today = slots.local_day(now, ctx.app.settings.timezone)
    near = [d for d in days if (d - today).days < NEAR_DAYS]
    later = [d for d in days if (d - today).days >= NEAR_DAYS]
    chinese = ctx.tr.is_chinese
    layout: Rows = ((Choice(ctx.t("care.asap_button"), care.ASAP),),) if asap else ()
    if ctx.data.get("other_days") or not near:
        buttons = [Choice(slots.date_words(d, chinese), DAY + d.isoformat()) for d in later]
        layout += rows(*buttons, width=2)
        if near:
            layout += ((Choice(ctx.t("care.near_days"), NEAR),),)
        return layout
    buttons = [Choice(slots.day_label(d, today, chinese), DAY + d.isoformat()) for d in near]
    layout += rows(*buttons, width=3)
    if later:
        layout += ((Choice(ctx.t("care.other_day"), OTHER),),)
    return layout


def _times_reply(ctx: Ctx, name: str, day: date, starts: list[datetime], now: datetime) -> Reply:
    """One page of the chosen day's free times, with earlier / later and "another day"."""
    zone = ctx.app.settings.timezone
    page = slots.page_of(starts, int(ctx.data.get("page", 0)), TIMES_PER_PAGE)
    ctx.data["page"] = page.number
    buttons = [Choice(slots.clock_words(s, zone), to_iso(s)) for s in page.starts]
    layout = rows(*buttons, width=2)
    paging: list[Choice] = []
    if page.earlier:
        paging.append(Choice(ctx.t("care.earlier"), PAGE + str(page.number - 1)))
    if page.later:
        paging.append(Choice(ctx.t("care.later"), PAGE + str(page.number + 1)))
    if paging:
        layout += (tuple(paging),)
    layout += ((Choice(ctx.t("care.another_day"), DAYS),), stop_row(ctx))
    today = slots.local_day(now, zone)
    chinese = ctx.tr.is_chinese
    words = slots.date_words(day, chinese)
    near = slots.day_label(day, today, chinese)
    said = words if near == words else near + (" " if chinese else ", ") + words
    return Reply(ctx.t("care.ask_time", service=name, day=said), choices=layout)


def forget_slot(ctx: Ctx) -> None:
    """Start the question "when?" afresh (a new service, another time, a lost place)."""
    for key in ("day", "page", "other_days"):
        ctx.data.pop(key, None)


def read_slot(ctx: Ctx) -> str | None:
    """The chosen start (ISO or ``asap``), or ``None`` after choosing a day or paging."""
    value = ctx.press
    if value.startswith(DAY):
        try:
            date.fromisoformat(value[len(DAY) :])
        except ValueError:
            raise Unexpected() from None
        ctx.data.update(day=value[len(DAY) :], page=0)
        return None
    if value.startswith(PAGE) and is_digits(value[len(PAGE) :]):
        ctx.data["page"] = int(value[len(PAGE) :])
        return None
    if value in (DAYS, OTHER, NEAR):
        forget_slot(ctx)
        ctx.data["other_days"] = value == OTHER
        return None
    if value != care.ASAP:
        try:
            from_iso(value)
        except ValueError:
            raise Unexpected() from None
    forget_slot(ctx)
    return value
