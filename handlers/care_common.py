"""Steps and helpers shared by the care flows (/care, /book, /mine and the ``care`` buttons).

Every change goes through :func:`commit`, which turns a refused change into
the engine's kind refusal; every question offers "stop" (:func:`stop_row`) and
every answer honours it (:func:`stoppable`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from assistant.clock import from_iso, to_iso
from assistant.conversation.flow import Ctx, Refused, Turn, Unexpected, end
from assistant.conversation.vocabulary import Choice, Reply, rows
from assistant.domain import slots
from assistant.services import care, people, timers
from assistant.store.base import Doc, Tx

T = TypeVar("T")
STOP = "care.stop"
SKIP = "care.skip"
MORE = "more:"


class CareRefused(Refused):
    """A :class:`care.CareError` as the engine's kind refusal."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key


async def commit(ctx: Ctx, change: Callable[..., tuple[T, list[str]]], *args: Any) -> T:
    """Run a care change in one transaction, then hand its due timers to the workers."""
    try:
        result, ids = await ctx.atomic(change, ctx.app, *args, ctx.app.clock.now())
    except care.CareError as error:
        raise CareRefused(error.key) from None
    await ctx.run(timers.kick, ctx.app, ids)
    return result


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


def stoppable(answer: Callable[[Ctx], Awaitable[Turn]]) -> Callable[[Ctx], Awaitable[Turn]]:
    """Let the "stop" button end the form from any question."""

    async def read(ctx: Ctx) -> Turn:
        if ctx.incoming.press == STOP:
            ctx.data = {}
            return end(Reply(ctx.t("core.cancelled")), ctx.menu())
        return await answer(ctx)

    read.__doc__ = answer.__doc__
    return read


async def slot_reply(ctx: Ctx, code: str, text_key: str, allow_asap: bool) -> Reply:
    """The question "when?" with the next free slots, "later times" and "as soon as possible"."""
    now = ctx.app.clock.now()
    after = from_iso(ctx.data["after"]) if ctx.data.get("after") else None
    asap, found = await ctx.view(care.offer, ctx.app, code, now, after)
    zone = ctx.app.settings.timezone
    buttons = [Choice(slots.label(s, now, zone, ctx.tr.is_chinese), to_iso(s)) for s in found]
    layout: tuple[tuple[Choice, ...], ...] = ()
    if asap and allow_asap:
        layout += ((Choice(ctx.t("care.asap_button"), care.ASAP),),)
    layout += rows(*buttons, width=2)
    if found:
        layout += ((Choice(ctx.t("care.later"), MORE + to_iso(found[-1])),),)
    if not layout:
        phone = ctx.app.settings.get("community", "phone")
        full = ctx.t("care.no_slots", phone=phone) if phone else ctx.t("care.no_slots_visit")
        return Reply(full, choices=((Choice(ctx.t("care.other_service"), "back"),), stop_row(ctx)))
    name = ctx.app.services[code].name(ctx.language)
    return Reply(ctx.t(text_key, service=name), choices=layout + (stop_row(ctx),))


def read_slot(ctx: Ctx) -> str | None:
    """The chosen start (ISO or ``asap``), or ``None`` after paging on to later times."""
    value = ctx.press
    if value.startswith(MORE):
        ctx.data["after"] = value[len(MORE) :]
        return None
    if value != care.ASAP:
        try:
            from_iso(value)
        except ValueError:
            raise Unexpected() from None
    ctx.data.pop("after", None)
    return value
