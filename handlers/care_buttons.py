"""``a:care:<verb>:<booking id>[:<arg>]`` → the verb's change, or the /mine question it leads to.

The buttons that care messages carry outside the form: a coordinator's
approve or decline, cancel, change time, stars, "not done", and the follow-up
answers. Each is checked again on the server inside the change itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from assistant.conversation.buttons import (
    CareButton,
    CareChange,
    CareDecision,
    ChangeVerb,
    FollowUpAnswer,
    Rating,
    care_button,
)
from assistant.conversation.flow import Ctx, Turn, end, go, pressed
from assistant.conversation.vocabulary import Choice, Reply
from assistant.services import care
from assistant.services.care import followups as care_followups
from assistant.store.base import Doc, Tx
from handlers.care_common import commit, me


async def on_care_button(ctx: Ctx, button: CareButton) -> Turn:
    """``a:care:<verb>:<booking id>[:<arg>]``; every verb re-checks the presser on the server.

    A refused change is answered by the engine (the reason, and the flow where it was).
    """
    if ctx.person is None:
        return end(Reply(ctx.t("core.button_expired")))
    if isinstance(button, CareDecision):
        return await _decide(ctx, button)
    if isinstance(button, Rating):
        return await _rate(ctx, button)
    if isinstance(button, FollowUpAnswer):
        return await _follow_up(ctx, button)
    if isinstance(button, CareChange):
        return await CHANGES[button.verb](ctx, button.booking_id)
    return end(Reply(ctx.t("core.button_expired")))


async def _decide(ctx: Ctx, button: CareDecision) -> Turn:
    await commit(ctx, care.decide, button.booking_id, me(ctx), button.approve)
    return end(Reply(ctx.t("care.approved" if button.approve else "care.declined")))


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

    return await ctx.view(check)


async def _cancel(ctx: Ctx, booking_id: str) -> Turn:
    booking = await _checked(ctx, booking_id)
    ctx.data = {"booking": booking_id, "service": booking["service"]}
    return go("care.cancel_sure")


async def _cancel_now(ctx: Ctx, booking_id: str) -> Turn:
    await commit(ctx, care.cancel, booking_id, me(ctx))
    return end(Reply(ctx.t("care.cancelled")))


async def _move(ctx: Ctx, booking_id: str) -> Turn:
    booking = await _checked(ctx, booking_id)
    ctx.data = {"booking": booking_id, "service": booking["service"]}
    return go("care.move_when")


async def _stars(ctx: Ctx, booking_id: str) -> Turn:
    await ctx.view(care_followups.rateable, ctx.app, booking_id, me(ctx))
    choices = care_followups.rating_choices(booking_id)(ctx.tr)
    return end(Reply(ctx.t("care.ask_stars"), choices=choices))


async def _rate(ctx: Ctx, button: Rating) -> Turn:
    await commit(ctx, care_followups.rate, button.booking_id, me(ctx), button.stars)
    ctx.data = {"booking": button.booking_id}
    return go("care.comment", Reply(ctx.t("care.rated")))


async def _not_done(ctx: Ctx, booking_id: str) -> Turn:
    await commit(ctx, care_followups.not_done, booking_id, me(ctx))
    return end(Reply(ctx.t("care.not_done_told")))


async def _follow_up(ctx: Ctx, button: FollowUpAnswer) -> Turn:
    await commit(ctx, care_followups.answer_follow_up, button.booking_id, me(ctx), button.answer)
    if button.answer == care_followups.FINE:
        return end(Reply(ctx.t("care.fu_glad")))
    book = (Choice(ctx.t("care.menu_book"), "m:care"),)
    return end(Reply(ctx.t("care.fu_told"), choices=(book,)))


Change = Callable[[Ctx, str], Awaitable[Turn]]
CHANGES: dict[ChangeVerb, Change] = {
    ChangeVerb.CANCEL: _cancel,
    ChangeVerb.CANCEL_YES: _cancel_now,
    ChangeVerb.MOVE: _move,
    ChangeVerb.STARS: _stars,
    ChangeVerb.NOT_DONE: _not_done,
}

ACTION = pressed(care_button, on_care_button)
"""The ``care`` action: every care button, read by :func:`care_button`."""
