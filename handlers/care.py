"""/care → service → for whom → when → address → notes → confirm; /book and /mine.

The booking form is here. /book (coordinators, for phone bookings) is in
:mod:`handlers.care_phone`: find the resident by name or phone → their
bookings or a new one through the same form. /mine, which lists bookings with
cancel / change-time buttons, is in :mod:`handlers.care_mine`. Buttons outside
the form are the ``care`` action in :mod:`handlers.care_buttons`
(``a:care:<verb>:<booking id>[:<arg>]``). This module's :data:`FLOWS` and
:data:`ACTIONS` are the whole care side's tables.
"""

from __future__ import annotations

from assistant.clock import to_iso
from assistant.conversation.buttons import CARE, MinePage
from assistant.conversation.flow import Action, Ctx, Flow, State, Turn, Unexpected, end, go
from assistant.conversation.vocabulary import Choice, Reply, rows
from assistant.services import care, people
from assistant.services.care import notify as care_notify
from assistant.store.base import Doc, Tx
from handlers import care_buttons, care_mine
from handlers.care_common import (
    SKIP,
    commit,
    forget_slot,
    me,
    person_of,
    read_slot,
    set_for,
    slot_reply,
    stop_row,
    stoppable,
)
from handlers.care_mine import MINE
from handlers.care_phone import PHONE

MAX_ADDRESS = 100
MAX_NOTES = 300


async def start(ctx: Ctx) -> Turn:
    """A resident books for themselves or a relative; ask for the service."""
    ctx.data = {"via": care.CHAT, "by": me(ctx)["id"]}
    return go("care.service")


async def ask_service(ctx: Ctx) -> list[Reply]:
    """Offer every service with its price."""
    buttons = [
        Choice(f"{s.name(ctx.language)} · {care_notify.price_text(ctx.tr, s.price)}", code)
        for code, s in ctx.app.services.items()
    ]
    return [Reply(ctx.t("care.ask_service"), choices=rows(*buttons, width=1) + (stop_row(ctx),))]


async def got_service(ctx: Ctx) -> Turn:
    """Record the service; ask for whom when the person helps relatives, else when."""
    if ctx.press not in ctx.app.services:
        raise Unexpected()
    ctx.data["service"] = ctx.press
    ctx.data.pop("start", None)
    forget_slot(ctx)
    if ctx.data.get("for"):
        return go("care.when")
    relatives = await ctx.view(people.relatives_of, ctx.data["by"])
    if relatives:
        return go("care.whom")
    set_for(ctx, me(ctx))
    return go("care.when")


async def ask_whom(ctx: Ctx) -> list[Reply]:
    """Ask whether it is for themselves or which relative."""
    relatives = await ctx.view(people.relatives_of, ctx.data["by"])
    buttons = [Choice(ctx.t("care.for_me"), "self")]
    buttons += [Choice(r.get("name", ""), r["id"]) for r in relatives]
    return [Reply(ctx.t("care.ask_whom"), choices=rows(*buttons, width=2) + (stop_row(ctx),))]


async def got_whom(ctx: Ctx) -> Turn:
    """Record for whom; ask when."""
    if ctx.press == "self":
        set_for(ctx, me(ctx))
        return go("care.when")
    relatives = await ctx.view(people.relatives_of, ctx.data["by"])
    chosen = [r for r in relatives if r["id"] == ctx.press]
    if not chosen:
        raise Unexpected()
    set_for(ctx, chosen[0])
    return go("care.when")


async def ask_when(ctx: Ctx) -> list[Reply]:
    """Offer the next free slots of the chosen service."""
    return [await slot_reply(ctx, ctx.data["service"], "care.ask_when", allow_asap=True)]


async def got_when(ctx: Ctx) -> Turn:
    """Record the time; ask to confirm the address (or to type one)."""
    if ctx.press == "back":
        return go("care.service")
    start = read_slot(ctx)
    if start is None:
        return go("care.when")
    ctx.data["start"] = start
    if "household" in ctx.data:
        return go("care.confirm")
    person = await ctx.view(person_of, ctx.data["for"])
    if person.get("household"):
        return go("care.address")
    return go("care.address_text")


async def ask_address(ctx: Ctx) -> list[Reply]:
    """Show the household's address to confirm."""
    person = await ctx.view(person_of, ctx.data["for"])
    address = care_notify.describe_address(person.get("household"), ctx.tr.is_chinese)
    return [
        Reply(
            ctx.t("care.ask_address", address=address),
            choices=(
                (
                    Choice(ctx.t("care.address_yes"), "yes"),
                    Choice(ctx.t("care.address_other"), "other"),
                ),
                stop_row(ctx),
            ),
        )
    ]


async def got_address(ctx: Ctx) -> Turn:
    """Record the household's address, or ask for another; then ask for notes."""
    if ctx.press == "other":
        return go("care.address_text")
    if ctx.press != "yes":
        raise Unexpected()
    person = await ctx.view(person_of, ctx.data["for"])
    ctx.data["household"] = dict(person.get("household") or {})
    return go("care.notes")


async def ask_address_text(ctx: Ctx) -> list[Reply]:
    """Ask for the address in words."""
    return [Reply(ctx.t("care.ask_address_text"), choices=(stop_row(ctx),))]


async def got_address_text(ctx: Ctx) -> Turn:
    """Record the typed address; ask for health notes."""
    text = " ".join(ctx.text.split())
    if len(text) > MAX_ADDRESS or len(text) < 2:
        raise Unexpected("care.address_invalid", limit=MAX_ADDRESS)
    ctx.data["household"] = {"text": text}
    return go("care.notes")


async def ask_notes(ctx: Ctx) -> list[Reply]:
    """Ask the service's own question for notes, shown only to the volunteer who takes the task."""
    service = ctx.app.services[ctx.data["service"]]
    question = service.notes_question(ctx.language) or ctx.t("care.notes_question")
    skip = (Choice(ctx.t("care.skip"), SKIP),)
    return [Reply(ctx.t("care.ask_notes", question=question), choices=(skip, stop_row(ctx)))]


async def got_notes(ctx: Ctx) -> Turn:
    """Record the notes (or none); show the summary to confirm."""
    if ctx.incoming.press == SKIP:
        ctx.data["notes"] = ""
        return go("care.confirm")
    text = " ".join(ctx.text.split())
    if len(text) > MAX_NOTES:
        raise Unexpected("care.notes_too_long", limit=MAX_NOTES)
    ctx.data["notes"] = text
    return go("care.confirm")


async def ask_confirm(ctx: Ctx) -> list[Reply]:
    """Show what will be booked, with the price, and ask to confirm."""
    return [
        Reply(
            "\n".join(_summary(ctx)),
            choices=(
                (Choice(ctx.t("care.confirm"), "yes"), Choice(ctx.t("care.change_time"), "again")),
                stop_row(ctx),
            ),
        )
    ]


def _summary(ctx: Ctx) -> list[str]:
    """The lines of the summary: what, for whom, when, where, notes, price (and approval)."""
    service = ctx.app.services[ctx.data["service"]]
    start = ctx.data["start"]
    draft = {"asap": start == care.ASAP, "start": start, "created_at": to_iso(ctx.app.clock.now())}
    dated = ctx.data["via"] == care.PHONE
    lines = [
        ctx.t(
            "care.summary",
            service=service.name(ctx.language),
            whom=ctx.data.get("for_name", ""),
            when=care_notify.when_text(ctx.app, draft, ctx.tr, ctx.app.clock.now(), dated),
            address=care_notify.describe_address(ctx.data.get("household"), ctx.tr.is_chinese),
            notes_label=service.notes_label(ctx.language) or ctx.t("care.notes_label"),
            notes=ctx.data.get("notes") or ctx.t("care.no_notes"),
            price=care_notify.price_text(ctx.tr, service.price),
        )
    ]
    if service.needs_approval and ctx.data["via"] == care.CHAT:
        lines.append(ctx.t("care.needs_approval"))
    return lines


async def got_confirm(ctx: Ctx) -> Turn:
    """Book atomically; a place taken meanwhile brings fresh slots with a kind word."""
    if ctx.press == "again":
        forget_slot(ctx)
        return go("care.when")
    if ctx.press != "yes":
        raise Unexpected()
    try:
        booking = await commit(ctx, care.book, _draft(ctx))
    except care.CareError as refusal:
        # Not the engine's answer (the same question again): fresh times to choose from.
        ctx.data.pop("start", None)
        forget_slot(ctx)
        return go("care.when", Reply(ctx.t(refusal.key)))
    return end(Reply(await _booked_text(ctx, booking)))


def _draft(ctx: Ctx) -> care.Draft:
    """The booking as the form collected it."""
    return care.Draft(
        service=ctx.data["service"],
        person_id=ctx.data["for"],
        booked_by=ctx.data["by"],
        via=ctx.data["via"],
        start=ctx.data["start"],
        household=ctx.data.get("household"),
        notes=ctx.data.get("notes", ""),
    )


async def _booked_text(ctx: Ctx, booking: Doc) -> str:
    """What the booker is told once the booking is made."""
    service = ctx.app.services[booking["service"]]
    dated = ctx.data["via"] == care.PHONE
    when = care_notify.when_text(ctx.app, booking, ctx.tr, ctx.app.clock.now(), dated)
    values = {"service": service.name(ctx.language), "when": when, "name": ctx.data["for_name"]}
    if booking["status"] == care.AWAITING:
        return ctx.t("care.booked_awaiting", **values)
    if ctx.data["via"] == care.PHONE:
        told = await ctx.view(_reachable, booking["person_id"])
        return ctx.t("care.phone_booked" if told else "care.phone_booked_call", **values)
    return ctx.t("care.booked", **values)


def _reachable(tx: Tx, person_id: str) -> bool:
    person = tx.get(people.PEOPLE, person_id)
    return bool(person and people.reachable_addresses(tx, person))


BOOK = Flow(
    name="care",
    start=start,
    commands=("care",),
    menu_key="care.menu_book",
    help_key="care.help_book",
    states={
        "care.service": State(ask_service, stoppable(got_service)),
        "care.whom": State(ask_whom, stoppable(got_whom)),
        "care.when": State(ask_when, stoppable(got_when)),
        "care.address": State(ask_address, stoppable(got_address)),
        "care.address_text": State(ask_address_text, stoppable(got_address_text)),
        "care.notes": State(ask_notes, stoppable(got_notes)),
        "care.confirm": State(ask_confirm, stoppable(got_confirm)),
    },
)

FLOWS: tuple[Flow, ...] = (BOOK, MINE, PHONE)
ACTIONS: dict[str, Action] = {CARE: care_buttons.ACTION, MinePage.ACTION: care_mine.PAGE_ACTION}
