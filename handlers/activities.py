"""/activities → an activity → a session → for whom → sign up (or wait); my sign-ups; cancel.

The centre's activities for residents (menu 邻里活动). Coordinators define them
with /activity (:mod:`handlers.activities_admin`) and mark attendance with
/attendance there. Buttons outside the form are ``a:act:<verb>:<sign-up>``
(cancel and its confirmation, present, absent), each checked again on the server.
This module's :data:`FLOWS` and :data:`ACTIONS` are the whole activities side's tables.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from assistant.clock import from_iso
from assistant.conversation.buttons import ActivityButton, ActivityVerb
from assistant.conversation.flow import (
    Action,
    Ctx,
    Flow,
    State,
    Turn,
    Unexpected,
    end,
    go,
    pressed,
    stop_on,
)
from assistant.conversation.vocabulary import Choice, Reply, rows
from assistant.domain import slots
from assistant.domain.numbers import typed_number
from assistant.i18n import Translator
from assistant.services import activities, people
from assistant.services.activities import eligibility, payments
from assistant.store.base import Doc, Tx
from handlers import activities_admin

if TYPE_CHECKING:
    from assistant.app import App

STOP = "activity.stop"
BACK = "back"
MINE = "mine"
SELF = "self"


def stop_row(ctx: Ctx) -> tuple[Choice, ...]:
    return (Choice(ctx.t("activity.stop"), STOP),)


stoppable = stop_on(STOP)
"""Let the "stop" button end the form from any question."""


def price_words(tr: Translator, price: Decimal) -> str:
    """``免费`` or ``¥8``."""
    if price <= 0:
        return tr.t("activity.free")
    return f"¥{price.normalize():f}" if price == price.to_integral() else f"¥{price:.2f}"


def me(ctx: Ctx) -> Doc:
    if ctx.person is None:
        raise activities.NotYours()
    return ctx.person


async def start(ctx: Ctx) -> Turn:
    """Browse the centre's activities."""
    ctx.data = {}
    return go("activities.pick")


async def ask_pick(ctx: Ctx) -> list[Reply]:
    """Every activity with who it is for and its price; and "my sign-ups"."""
    found = await ctx.view(activities.listed)
    if not found:
        return [Reply(ctx.t("activity.none"), choices=(stop_row(ctx),))]
    buttons = [
        Choice(f"{a.name(ctx.language)} · {price_words(ctx.tr, a.price)}", a.id) for a in found
    ]
    layout = rows(*buttons, width=1) + ((Choice(ctx.t("activity.mine"), MINE),), stop_row(ctx))
    return [Reply(ctx.t("activity.ask_pick"), choices=layout)]


async def got_pick(ctx: Ctx) -> Turn:
    """Record the activity (or open my sign-ups); ask which session."""
    if ctx.press == MINE:
        return go("activities.mine")
    ids = {a.id for a in await ctx.view(activities.listed)}
    if ctx.press not in ids:
        raise Unexpected()
    ctx.data["activity"] = ctx.press
    return go("activities.when")


def _session_label(ctx: Ctx, session: activities.Session) -> str:
    now, zone = ctx.app.clock.now(), ctx.app.settings.timezone
    when = slots.label(session.start, now, zone, ctx.tr.is_chinese)
    if session.left:
        return ctx.t("activity.session_left", when=when, left=session.left)
    return ctx.t("activity.session_full", when=when)


async def ask_when(ctx: Ctx) -> list[Reply]:
    """The open sessions with the places left (a full one can still be waited for)."""
    found = await ctx.view(activities.sessions, ctx.app, ctx.data["activity"], ctx.app.clock.now())
    back = (Choice(ctx.t("activity.back"), BACK),)
    if not found:
        return [Reply(ctx.t("activity.no_sessions"), choices=(back, stop_row(ctx)))]
    activity = found[0].activity
    lines = [
        ctx.t(
            "activity.about",
            name=activity.name(ctx.language),
            place=activity.place,
            who=ctx.t("activity.who_elders_over", age=activity.min_age)
            if activity.min_age
            else ctx.t(f"activity.who_{activity.who.value}"),
            price=price_words(ctx.tr, activity.price),
        )
    ]
    if activity.kind is activities.Kind.MEAL:
        hour = int(ctx.app.settings.get("activities", "canteen_cutoff_hour"))
        lines.append(ctx.t("activity.meal_cutoff", hour=f"{hour:02d}:00"))
    buttons = [Choice(_session_label(ctx, s), s.id) for s in found]
    return [Reply("\n".join(lines), choices=rows(*buttons, width=1) + (back, stop_row(ctx)))]


async def got_when(ctx: Ctx) -> Turn:
    """Record the session; ask for whom when the person helps relatives."""
    if ctx.press == BACK:
        return go("activities.pick")
    found = await ctx.view(activities.sessions, ctx.app, ctx.data["activity"], ctx.app.clock.now())
    if ctx.press not in {s.id for s in found}:
        raise Unexpected()
    ctx.data["session"] = ctx.press
    relatives = await ctx.view(people.relatives_of, me(ctx)["id"])
    if relatives:
        return go("activities.whom")
    ctx.data.update(for_id=me(ctx)["id"], for_name=me(ctx).get("name", ""))
    return go("activities.confirm")


async def ask_whom(ctx: Ctx) -> list[Reply]:
    """Themselves, or which relative."""
    relatives = await ctx.view(people.relatives_of, me(ctx)["id"])
    buttons = [Choice(ctx.t("activity.for_me"), SELF)]
    buttons += [Choice(r.get("name", ""), r["id"]) for r in relatives]
    return [Reply(ctx.t("activity.ask_whom"), choices=rows(*buttons, width=2) + (stop_row(ctx),))]


async def got_whom(ctx: Ctx) -> Turn:
    """Record for whom; show the summary."""
    if ctx.press == SELF:
        ctx.data.update(for_id=me(ctx)["id"], for_name=me(ctx).get("name", ""))
        return go("activities.confirm")
    relatives = await ctx.view(people.relatives_of, me(ctx)["id"])
    chosen = [r for r in relatives if r["id"] == ctx.press]
    if not chosen:
        raise Unexpected()
    ctx.data.update(for_id=chosen[0]["id"], for_name=chosen[0].get("name", ""))
    return go("activities.confirm")


def _chosen(tx: Tx, app: App, session_id: str, now: datetime) -> activities.Session | None:
    parsed = activities.parse_session(session_id)
    if parsed is None:
        return None
    found = activities.sessions(tx, app, parsed[0], now)
    return next((s for s in found if s.id == session_id), None)


async def ask_confirm(ctx: Ctx) -> list[Reply]:
    """What, when, where, for whom and the price; sign up, or wait when it is full."""
    session = await ctx.view(_chosen, ctx.app, ctx.data["session"], ctx.app.clock.now())
    if session is None:
        back = (Choice(ctx.t("activity.back"), BACK),)
        return [Reply(ctx.t("activity.closed"), choices=(back, stop_row(ctx)))]
    activity = session.activity
    when = slots.dated(session.start, ctx.app.settings.timezone, ctx.tr.is_chinese)
    text = ctx.t(
        "activity.summary",
        name=activity.name(ctx.language),
        when=when,
        place=activity.place,
        whom=ctx.data.get("for_name", ""),
        price=price_words(ctx.tr, activity.price),
    )
    if session.left:
        yes = Choice(ctx.t("activity.sign_up"), "yes")
    else:
        text += "\n" + ctx.t("activity.full_wait")
        yes = Choice(ctx.t("activity.wait"), "wait")
    again = Choice(ctx.t("activity.back"), BACK)
    return [Reply(text, choices=((yes, again), stop_row(ctx)))]


async def got_confirm(ctx: Ctx) -> Turn:
    """Sign up atomically; the last place taken meanwhile brings the offer to wait."""
    if ctx.press == BACK:
        return go("activities.when")
    if ctx.press not in ("yes", "wait"):
        raise Unexpected()
    signup = await ctx.atomic(
        activities.sign_up,
        ctx.app,
        ctx.data["session"],
        ctx.data["for_id"],
        me(ctx)["id"],
        ctx.app.clock.now(),
        ctx.press == "wait",
    )
    when = slots.dated(from_iso(signup["start"]), ctx.app.settings.timezone, ctx.tr.is_chinese)
    key = (
        "activity.booked"
        if signup["status"] == activities.SignupStatus.BOOKED
        else "activity.waiting"
    )
    ctx.data = {}
    return end(Reply(ctx.t(key, when=when)))


def _mine(tx: Tx, person_id: str) -> list[tuple[Doc, activities.Activity, str]]:
    found = []
    for signup in activities.mine(tx, person_id):
        activity = tx.get(activities.ACTIVITIES, signup["activity_id"])
        person = tx.get(people.PEOPLE, signup["person_id"]) or {}
        if activity is not None:
            found.append(
                (signup, activities.Activity.from_doc(activity), str(person.get("name", "")))
            )
    return found


async def ask_mine(ctx: Ctx) -> list[Reply]:
    """My sign-ups (and those I made for relatives), each with "cancel"."""
    found = await ctx.view(_mine, me(ctx)["id"])
    back = (Choice(ctx.t("activity.back"), BACK), Choice(ctx.t("activity.stop"), STOP))
    if not found:
        return [Reply(ctx.t("activity.mine_none"), choices=(back,))]
    lines = [ctx.t("activity.mine_head")]
    buttons: list[tuple[Choice, ...]] = []
    zone = ctx.app.settings.timezone
    for number, (signup, activity, name) in enumerate(found, start=1):
        when = slots.dated(from_iso(signup["start"]), zone, ctx.tr.is_chinese)
        status = ctx.t(f"activity.status_{signup['status']}")
        lines.append(
            ctx.t(
                "activity.mine_line",
                number=number,
                name=activity.name(ctx.language),
                when=when,
                whom=name,
                status=status,
            )
        )
        cancel = ActivityButton(ActivityVerb.CANCEL, signup["id"]).encode()
        buttons.append((Choice(ctx.t("activity.cancel_number", number=number), cancel),))
    return [Reply("\n".join(lines), choices=(*buttons, back))]


async def got_mine(ctx: Ctx) -> Turn:
    """Back to the activities, or stop."""
    if ctx.incoming.press == STOP:
        return end(Reply(ctx.t("core.cancelled")), ctx.menu())
    if ctx.press != BACK:
        raise Unexpected()
    return go("activities.pick")


# -- the birth year, asked from /me (elders over an age) ----------------------------------------

FORGET_YEAR = "forget_year"


async def ask_birth_year(ctx: Ctx) -> list[Reply]:
    """Ask for the year of birth (kept only to check "elders over an age")."""
    choices: tuple[tuple[Choice, ...], ...] = ()
    if (ctx.person or {}).get("birth_year"):
        choices = ((Choice(ctx.t("activity.birth_year_clear"), FORGET_YEAR),),)
    return [Reply(ctx.t("activity.ask_birth_year"), choices=choices)]


async def got_birth_year(ctx: Ctx) -> Turn:
    """Keep the year (or clear it); back to /me."""
    if ctx.incoming.press == FORGET_YEAR:
        ctx.person = await ctx.run(people.update, ctx.app.store, me(ctx)["id"], birth_year=None)
        return go("profile.menu", Reply(ctx.t("activity.birth_year_cleared")))
    year = typed_number(ctx.text, max_digits=4)
    if year is None or not eligibility.valid_birth_year(year, ctx.app.clock.now()):
        raise Unexpected("activity.birth_year_invalid")
    ctx.person = await ctx.run(people.update, ctx.app.store, me(ctx)["id"], birth_year=year)
    return go("profile.menu", Reply(ctx.t("activity.birth_year_saved", year=year)))


ACTIVITIES_FLOW = Flow(
    name="activities",
    start=start,
    commands=("activities",),
    menu_key="activity.menu",
    help_key="activity.help",
    keywords_key="keywords.activities",
    states={
        "activities.pick": State(ask_pick, stoppable(got_pick)),
        "activities.when": State(ask_when, stoppable(got_when)),
        "activities.whom": State(ask_whom, stoppable(got_whom)),
        "activities.confirm": State(ask_confirm, stoppable(got_confirm)),
        "activities.mine": State(ask_mine, got_mine),
        "activities.birth_year": State(ask_birth_year, got_birth_year),
    },
)


async def on_button(ctx: Ctx, button: ActivityButton) -> Turn:
    """Cancel (after "sure?"), or the organiser's present / absent."""
    if ctx.person is None:
        return end(Reply(ctx.t("core.button_expired")))
    now = ctx.app.clock.now()
    if button.verb is ActivityVerb.CANCEL:
        await ctx.view(_may_cancel, ctx.app, button.ref, ctx.person)
        sure = ActivityButton(ActivityVerb.CANCEL_YES, button.ref).encode()
        return end(
            Reply(
                ctx.t("activity.cancel_sure"),
                choices=((Choice(ctx.t("activity.cancel_yes"), sure),),),
            )
        )
    if button.verb is ActivityVerb.CANCEL_YES:
        await ctx.atomic(activities.cancel, ctx.app, button.ref, ctx.person, now)
        return end(Reply(ctx.t("activity.cancelled")))
    if button.verb is ActivityVerb.PAID:
        signup, amount = await ctx.atomic(payments.mark_paid, ctx.app, button.ref, ctx.person, now)
        name = await ctx.view(_person_name, signup["person_id"])
        return end(Reply(ctx.t("activity.marked_paid", name=name, amount=str(amount))))
    present = button.verb is ActivityVerb.PRESENT
    signup = await ctx.atomic(activities.mark, ctx.app, button.ref, present, ctx.person, now)
    name = await ctx.view(
        lambda tx: str((tx.get(people.PEOPLE, signup["person_id"]) or {}).get("name", ""))
    )
    return end(
        Reply(ctx.t("activity.marked_present" if present else "activity.marked_absent", name=name))
    )


def _person_name(tx: Tx, person_id: str) -> str:
    return str((tx.get(people.PEOPLE, person_id) or {}).get("name", ""))


def _may_cancel(tx: Tx, app: App, signup_id: str, person: Doc) -> Doc:
    signup = tx.get(activities.SIGNUPS, signup_id)
    if signup is None or signup["status"] not in (
        activities.SignupStatus.BOOKED,
        activities.SignupStatus.WAITING,
    ):
        raise activities.Closed()
    if not activities.may_change(app, signup, person):
        raise activities.NotYours()
    return signup


FLOWS: tuple[Flow, ...] = (ACTIVITIES_FLOW, *activities_admin.FLOWS)
ACTIONS: dict[str, Action] = {ActivityButton.ACTION: pressed(ActivityButton.parse, on_button)}
