"""``a:care:<verb>:<booking id>[:<arg>]`` → the verb's change, or the /mine question it leads to.

The buttons that care messages carry outside the form: a coordinator's
approve or decline, cancel, change time, stars, "not done", and the follow-up
answers. Each is checked again on the server inside the change itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from assistant.conversation.flow import Ctx, Turn, end, go
from assistant.conversation.vocabulary import Choice, Reply
from assistant.services import care
from assistant.services.care import followups as care_followups
from assistant.store.base import Doc, Tx
from handlers.care_common import CareRefused, commit, me


async def on_care_button(ctx: Ctx, parts: list[str]) -> Turn:
    """``a:care:<verb>:<booking id>[:<arg>]``; every verb re-checks the presser on the server."""
    if len(parts) < 2 or parts[0] not in VERBS or ctx.person is None:
        return end(Reply(ctx.t("core.button_expired")))
    return await VERBS[parts[0]](ctx, parts[1], parts[2:])


async def _approve(ctx: Ctx, booking_id: str, rest: list[str]) -> Turn:
    await commit(ctx, care.decide, booking_id, me(ctx), True)
    return end(Reply(ctx.t("care.approved")))


async def _decline(ctx: Ctx, booking_id: str, rest: list[str]) -> Turn:
    await commit(ctx, care.decide, booking_id, me(ctx), False)
    return end(Reply(ctx.t("care.declined")))


async def _checked(ctx: Ctx, booking_id: str) -> Doc:
    """The booking, if the presser may change it now (the change checks again)."""

    def check(tx: Tx) -> Doc:
        booking = tx.get(care.BOOKINGS, booking_id)
        if booking is None:
            raise care.NotChangeable()
        who = care.relation(tx, ctx.app, booking, ctx.person)
        if who is None:
            raise care.NotYours()
        if booking["status"] not in care.CHANGEABLE:
            raise care.NotChangeable()
        if who != care.COORDINATOR and not care.may_change(ctx.app, booking, ctx.app.clock.now()):
            raise care.TooLate()
        return booking

    try:
        return await ctx.view(check)
    except care.CareError as error:
        raise CareRefused(error.key) from None


async def _cancel(ctx: Ctx, booking_id: str, rest: list[str]) -> Turn:
    booking = await _checked(ctx, booking_id)
    ctx.data = {"booking": booking_id, "service": booking["service"]}
    return go("care.cancel_sure")


async def _cancel_now(ctx: Ctx, booking_id: str, rest: list[str]) -> Turn:
    await commit(ctx, care.cancel, booking_id, me(ctx))
    return end(Reply(ctx.t("care.cancelled")))


async def _move(ctx: Ctx, booking_id: str, rest: list[str]) -> Turn:
    booking = await _checked(ctx, booking_id)
    ctx.data = {"booking": booking_id, "service": booking["service"]}
    return go("care.move_when")


async def _stars(ctx: Ctx, booking_id: str, rest: list[str]) -> Turn:
    try:
        await ctx.view(care_followups.rateable, ctx.app, booking_id, me(ctx))
    except care.CareError as error:
        raise CareRefused(error.key) from None
    choices = care_followups.rating_choices(booking_id)(ctx.tr)
    return end(Reply(ctx.t("care.ask_stars"), choices=choices))


async def _rate(ctx: Ctx, booking_id: str, rest: list[str]) -> Turn:
    if len(rest) != 1 or not rest[0].isdigit():
        return end(Reply(ctx.t("core.button_expired")))
    await commit(ctx, care_followups.rate, booking_id, me(ctx), int(rest[0]))
    ctx.data = {"booking": booking_id}
    return go("care.comment", Reply(ctx.t("care.rated")))


async def _not_done(ctx: Ctx, booking_id: str, rest: list[str]) -> Turn:
    await commit(ctx, care_followups.not_done, booking_id, me(ctx))
    return end(Reply(ctx.t("care.not_done_told")))


async def _follow_up(ctx: Ctx, booking_id: str, rest: list[str]) -> Turn:
    if len(rest) != 1:
        return end(Reply(ctx.t("core.button_expired")))
    await commit(ctx, care_followups.answer_follow_up, booking_id, me(ctx), rest[0])
    if rest[0] == care_followups.FINE:
        return end(Reply(ctx.t("care.fu_glad")))
    book = (Choice(ctx.t("care.menu_book"), "m:care"),)
    return end(Reply(ctx.t("care.fu_told"), choices=(book,)))


Verb = Callable[[Ctx, str, list[str]], Awaitable[Turn]]
VERBS: dict[str, Verb] = {
    "approve": _approve,
    "decline": _decline,
    "cancel": _cancel,
    "cancelyes": _cancel_now,
    "move": _move,
    "stars": _stars,
    "rate": _rate,
    "notdone": _not_done,
    "fu": _follow_up,
}
