"""/wellbeing → whose doors (the elders living alone, or one building) → confirm → rounds.

A wellbeing round (敲门关怀) without a notice: the coordinator picks households and
door-knock rounds start on them at once, one per building, with the same task kind,
cards and checks as the rounds at a notice's deadline
(:mod:`assistant.services.notices.wellbeing`). Its progress shows in ``/notices``.
"""

from __future__ import annotations

from assistant.conversation.flow import Ctx, Flow, State, Turn, Unexpected, end, go, stop_on
from assistant.conversation.vocabulary import Choice, Reply
from assistant.services import people
from assistant.services.notices import building_label, wellbeing

STOP = "notice.stop"
START = "start"
stoppable = stop_on(STOP)


def _stop_row(ctx: Ctx) -> tuple[Choice, ...]:
    return (Choice(ctx.t("notice.stop"), STOP),)


def _label(ctx: Ctx, pick: wellbeing.Pick) -> str:
    if pick.value == wellbeing.ALONE:
        return ctx.t("wellbeing.pick_alone", households=pick.households)
    place = building_label(pick.building, ctx.tr.is_chinese)
    return ctx.t("wellbeing.pick_building", place=place, households=pick.households)


async def _picks(ctx: Ctx) -> list[wellbeing.Pick]:
    assert ctx.person is not None
    return await ctx.view(wellbeing.picks, ctx.app, ctx.person)


async def start(ctx: Ctx) -> Turn:
    """A coordinator starts a wellbeing round; say so when their grids hold no address."""
    ctx.data = {}
    if ctx.person is None or not await _picks(ctx):
        return end(Reply(ctx.t("wellbeing.nobody")))
    return go("wellbeing.pick")


async def ask_pick(ctx: Ctx) -> list[Reply]:
    """Whose doors: the elders living alone, or every household of one building."""
    buttons = tuple((Choice(_label(ctx, p), p.value),) for p in await _picks(ctx))
    return [Reply(ctx.t("wellbeing.ask_pick"), choices=(*buttons, _stop_row(ctx)))]


async def got_pick(ctx: Ctx) -> Turn:
    """Record the pick (one of those offered now); ask to confirm."""
    found = {p.value: p for p in await _picks(ctx)}
    if ctx.press not in found:
        raise Unexpected()
    ctx.data["pick"] = ctx.press
    ctx.data["label"] = _label(ctx, found[ctx.press])
    return go("wellbeing.confirm")


async def ask_confirm(ctx: Ctx) -> list[Reply]:
    """What will happen: rounds by building, offered to the grid's volunteers."""
    yes = Choice(ctx.t("wellbeing.start"), START)
    return [
        Reply(
            ctx.t("wellbeing.confirm", pick=ctx.data["label"]),
            choices=((yes,), _stop_row(ctx)),
        )
    ]


async def got_confirm(ctx: Ctx) -> Turn:
    """Start the rounds (the right and the households checked again inside)."""
    if ctx.press != START:
        raise Unexpected()
    assert ctx.person is not None
    now = ctx.app.clock.now()
    record = await ctx.atomic(
        wellbeing.start, ctx.app, str(ctx.person["id"]), ctx.data["pick"], now
    )
    ctx.data = {}
    return end(
        Reply(
            ctx.t(
                "wellbeing.started",
                households=record["households"],
                rounds=len(record["rounds"]),
            )
        )
    )


WELLBEING = Flow(
    name="wellbeing",
    start=start,
    commands=("wellbeing",),
    roles=(people.COORDINATOR,),
    menu_key="wellbeing.menu",
    help_key="wellbeing.help",
    keywords_key="keywords.wellbeing",
    states={
        "wellbeing.pick": State(ask_pick, stoppable(got_pick)),
        "wellbeing.confirm": State(ask_confirm, stoppable(got_confirm)),
    },
)
