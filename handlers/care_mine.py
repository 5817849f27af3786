"""/mine → the bookings with their buttons; cancel → sure?; change time → when; stars → comment.

The cancel, change-time and star buttons are the ``care`` action
(:mod:`handlers.care_buttons`); the questions they lead to are the states
here. Every change is checked again on the server inside the change itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from assistant.conversation.buttons import CareChange, ChangeVerb, MinePage
from assistant.conversation.flow import Ctx, Flow, State, Turn, Unexpected, end, go, pressed
from assistant.conversation.vocabulary import Choice, Reply
from assistant.services import care, people
from assistant.services.care import followups as care_followups
from assistant.services.care import notify as care_notify
from assistant.services.care import records as care_records
from assistant.store.base import Doc, Tx
from handlers.care_common import (
    SKIP,
    commit,
    me,
    read_slot,
    slot_reply,
    stoppable,
)

Rows = tuple[tuple[Choice, ...], ...]


PAGE_SIZE = 6
"""Bookings on one page of /mine: a short message, and few enough buttons for any network."""


async def mine(ctx: Ctx) -> Turn:
    """List the person's (and their relatives') bookings with what can be done."""
    return await mine_page(ctx, 0)


async def mine_page(ctx: Ctx, number: int) -> Turn:
    """One page of /mine, with "earlier" / "more" when there are other pages."""
    found = await ctx.view(named, care_records.visible_to, me(ctx)["id"], ctx.app.clock.now())
    if not found:
        book = (Choice(ctx.t("care.menu_book"), "m:care"),)
        return end(Reply(ctx.t("care.mine_none"), choices=(book,)))
    pages = (len(found) + PAGE_SIZE - 1) // PAGE_SIZE
    number = min(max(number, 0), pages - 1)
    first = number * PAGE_SIZE
    text, buttons = listing(ctx, found[first : first + PAGE_SIZE], first=first + 1)
    paging: list[Choice] = []
    if number > 0:
        paging.append(Choice(ctx.t("care.mine_earlier"), MinePage(number - 1).encode()))
    if number < pages - 1:
        paging.append(Choice(ctx.t("care.mine_more"), MinePage(number + 1).encode()))
    head = ctx.t("care.mine_intro")
    if pages > 1:
        head += " " + ctx.t("care.mine_page", page=number + 1, pages=pages)
    choices = buttons + ((tuple(paging),) if paging else ())
    return end(Reply(head + "\n" + text, choices=choices))


def named(tx: Tx, query: Callable[..., list[Doc]], person_id: str, *args: Any) -> list[Doc]:
    """Bookings from ``query`` with the name of the person each is for."""
    found = query(tx, person_id, *args)
    for booking in found:
        person = tx.get(people.PEOPLE, booking["person_id"]) or {}
        booking["for_name"] = person.get("name", "")
    return found


def listing(
    ctx: Ctx, bookings: list[Doc], coordinator: bool = False, first: int = 1
) -> tuple[str, Rows]:
    """Numbered lines of bookings and their buttons; coordinators read dates, not "tomorrow"."""
    now = ctx.app.clock.now()
    lines: list[str] = []
    buttons: list[tuple[Choice, ...]] = []
    for number, booking in enumerate(bookings, start=first):
        lines.append(_line(ctx, number, booking, now, coordinator))
        row = _buttons(ctx, booking, now, coordinator)
        if row:
            buttons.append(row)
    return "\n".join(lines), tuple(buttons)


def _line(ctx: Ctx, number: int, booking: Doc, now: datetime, coordinator: bool) -> str:
    """One numbered booking: what, when, for whom, and its status."""
    return ctx.t(
        "care.mine_line",
        number=number,
        service=care_notify.service_name(ctx.app, booking["service"], ctx.tr),
        when=care_notify.when_text(ctx.app, booking, ctx.tr, now, dated=coordinator),
        name=booking.get("for_name", ""),
        status=ctx.t(f"care.status_{booking['status']}"),
    )


def _what(ctx: Ctx, booking: Doc, now: datetime, coordinator: bool) -> str:
    """A booking in a few words for its buttons: ``上门照料 明天 09:00`` (and for whom)."""
    service = care_notify.service_name(ctx.app, booking["service"], ctx.tr)
    when = care_notify.when_text(ctx.app, booking, ctx.tr, now, dated=coordinator)
    other = booking.get("for_name") and booking["person_id"] != (ctx.person or {}).get("id")
    return " ".join(part for part in (booking["for_name"] if other else "", service, when) if part)


def _buttons(ctx: Ctx, booking: Doc, now: datetime, coordinator: bool) -> tuple[Choice, ...]:
    """Cancel and change time while the booking may change; a rating once it is done."""
    row: list[Choice] = []
    what = _what(ctx, booking, now, coordinator)
    changeable = care.may_change(ctx.app, booking, now) or (
        coordinator and booking["status"] in care.CHANGEABLE
    )
    if changeable:
        row.append(
            Choice(
                ctx.t("care.cancel_what", what=what),
                CareChange(ChangeVerb.CANCEL, booking["id"]).encode(),
            )
        )
        if not booking.get("asap"):
            row.append(
                Choice(
                    ctx.t("care.move_what", what=what),
                    CareChange(ChangeVerb.MOVE, booking["id"]).encode(),
                )
            )
    if booking["status"] == care.DONE and booking.get("rating") is None and not coordinator:
        row.append(
            Choice(
                ctx.t("care.rate_what", what=what),
                CareChange(ChangeVerb.STARS, booking["id"]).encode(),
            )
        )
    return tuple(row)


async def ask_move(ctx: Ctx) -> list[Reply]:
    """Offer the free slots to move a booking to."""
    return [await slot_reply(ctx, ctx.data["service"], "care.ask_move", allow_asap=False)]


async def got_move(ctx: Ctx) -> Turn:
    """Move the booking, checked again atomically; a lost slot brings fresh ones."""
    if ctx.press == "back":
        return end(Reply(ctx.t("care.kept")))
    start = read_slot(ctx)
    if start is None:
        return go("care.move_when")
    booking = await commit(ctx, care.reschedule, ctx.data["booking"], me(ctx), start)
    when = care_notify.when_text(ctx.app, booking, ctx.tr, ctx.app.clock.now())
    return end(Reply(ctx.t("care.moved", when=when)))


async def ask_cancel(ctx: Ctx) -> list[Reply]:
    """Ask to confirm the cancellation, naming the visit."""
    booking = await ctx.view(_booking, ctx.data["booking"])
    when = care_notify.when_text(ctx.app, booking, ctx.tr, ctx.app.clock.now())
    service = care_notify.service_name(ctx.app, booking["service"], ctx.tr)
    return [
        Reply(
            ctx.t("care.cancel_sure", service=service, when=when),
            choices=(
                (Choice(ctx.t("care.cancel_yes"), "yes"), Choice(ctx.t("care.cancel_no"), "no")),
            ),
        )
    ]


async def got_cancel(ctx: Ctx) -> Turn:
    """Cancel the booking (checked again atomically) or keep it."""
    if ctx.press == "no":
        return end(Reply(ctx.t("care.kept")))
    if ctx.press != "yes":
        raise Unexpected()
    try:
        await commit(ctx, care.cancel, ctx.data["booking"], me(ctx))
    except care.CareError as refusal:
        # Not the engine's answer, which would ask "cancel?" again: the flow ends.
        return end(Reply(ctx.t(refusal.key)))
    return end(Reply(ctx.t("care.cancelled")))


def _booking(tx: Tx, booking_id: str) -> Doc:
    booking = tx.get(care.BOOKINGS, booking_id)
    if booking is None:
        raise care.NotChangeable()
    return booking


async def ask_comment(ctx: Ctx) -> list[Reply]:
    """Invite an optional comment after the stars."""
    return [Reply(ctx.t("care.ask_comment"), choices=((Choice(ctx.t("care.no_comment"), SKIP),),))]


async def got_comment(ctx: Ctx) -> Turn:
    """Keep the comment (or none) and thank."""
    if ctx.incoming.press == SKIP:
        return end(Reply(ctx.t("care.thanks")))
    text = " ".join(ctx.text.split())
    if len(text) > care_followups.MAX_COMMENT:
        raise Unexpected("care.notes_too_long", limit=care_followups.MAX_COMMENT)
    await commit(ctx, care_followups.comment, ctx.data["booking"], me(ctx), text)
    return end(Reply(ctx.t("care.thanks")))


async def on_page(ctx: Ctx, button: MinePage) -> Turn:
    """``a:mine:<page>``: another page of the presser's own list (read again now)."""
    if ctx.person is None:
        return end(Reply(ctx.t("core.button_expired")))
    return await mine_page(ctx, button.number)


PAGE_ACTION = pressed(MinePage.parse, on_page)
"""The ``mine`` action: the pages of /mine."""


MINE = Flow(
    name="mine",
    start=mine,
    commands=("mine",),
    menu_key="care.menu_mine",
    help_key="care.help_mine",
    states={
        "care.move_when": State(ask_move, stoppable(got_move)),
        "care.cancel_sure": State(ask_cancel, got_cancel),
        "care.comment": State(ask_comment, got_comment),
    },
)
