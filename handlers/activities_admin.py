"""/activity → name → kind → days → time → place → capacity → who → (age) → price → confirm;
/attendance.

Coordinators define the centre's activities in chat and mark who came. The
right is checked again on the server inside each change.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from assistant.conversation.buttons import ActivityButton, ActivityVerb
from assistant.conversation.flow import Ctx, Flow, State, Turn, Unexpected, end, go, stop_on
from assistant.conversation.vocabulary import Choice, Reply, rows
from assistant.domain import slots
from assistant.domain.numbers import typed_number
from assistant.services import activities, people
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

STOP = "activity.stop"
SKIP = "skip"
MAX_NAME = 40
MAX_PLACE = 60
DAY_SETS = {
    "school": (0, 1, 2, 3, 4),
    "daily": (0, 1, 2, 3, 4, 5, 6),
    "weekend": (5, 6),
}
TIMES = ("08:30", "09:30", "11:30", "14:30", "16:00", "19:00")
MAX_PRICE = Decimal("1000")
AGES = (60, 65, 70, 80)
"""The ages an activity for older residents may start at (or none: any older resident)."""


def stop_row(ctx: Ctx) -> tuple[Choice, ...]:
    return (Choice(ctx.t("activity.stop"), STOP),)


stoppable = stop_on(STOP)
"""Let the "stop" button end the form from any question."""


def _short(ctx: Ctx, limit: int) -> str:
    text = " ".join(ctx.text.split())
    if not 2 <= len(text) <= limit:
        raise Unexpected("activity.text_length", limit=limit)
    return text


async def start(ctx: Ctx) -> Turn:
    """A coordinator defines an activity; ask its name."""
    ctx.data = {}
    return go("activity.name")


async def ask_name(ctx: Ctx) -> list[Reply]:
    """Its name, as residents will see it."""
    return [Reply(ctx.t("activity.ask_name"), choices=(stop_row(ctx),))]


async def got_name(ctx: Ctx) -> Turn:
    """Record the name; ask the kind."""
    ctx.data["name"] = _short(ctx, MAX_NAME)
    return go("activity.kind")


def _one_of(ctx: Ctx, choices: type[StrEnum], key: str, width: int) -> list[Reply]:
    """A question answered by one value of ``choices`` (``activity.<key>_<value>`` labels)."""
    buttons = [Choice(ctx.t(f"activity.{key}_{c.value}"), c.value) for c in choices]
    ask = ctx.t(f"activity.ask_{key}")
    return [Reply(ask, choices=rows(*buttons, width=width) + (stop_row(ctx),))]


def _pressed(ctx: Ctx, choices: type[StrEnum]) -> str:
    """The value of ``choices`` pressed, or the kind "please use the buttons"."""
    try:
        return choices(ctx.press).value
    except ValueError:
        raise Unexpected() from None


async def ask_kind(ctx: Ctx) -> list[Reply]:
    """Every week on some days, once, or the canteen's meal."""
    return _one_of(ctx, activities.Kind, "kind", width=1)


async def got_kind(ctx: Ctx) -> Turn:
    """Record the kind; ask the days."""
    ctx.data["kind"] = _pressed(ctx, activities.Kind)
    return go("activity.days")


def _dates(ctx: Ctx) -> list[str]:
    today = slots.local_day(ctx.app.clock.now(), ctx.app.settings.timezone)
    return [(today + timedelta(days=n)).isoformat() for n in range(1, 15)]


async def ask_days(ctx: Ctx) -> list[Reply]:
    """A one-off's date (the next two weeks), or the weekdays of a recurring one."""
    if ctx.data["kind"] == activities.Kind.ONCE:
        from datetime import date

        buttons = [
            Choice(slots.date_words(date.fromisoformat(d), ctx.tr.is_chinese), d)
            for d in _dates(ctx)
        ]
        return [
            Reply(ctx.t("activity.ask_date"), choices=rows(*buttons, width=2) + (stop_row(ctx),))
        ]
    buttons = [Choice(ctx.t(f"activity.days_{name}"), name) for name in DAY_SETS]
    return [Reply(ctx.t("activity.ask_days"), choices=rows(*buttons, width=3) + (stop_row(ctx),))]


async def got_days(ctx: Ctx) -> Turn:
    """Record the days; ask the time."""
    if ctx.data["kind"] == activities.Kind.ONCE:
        if ctx.press not in _dates(ctx):
            raise Unexpected()
        ctx.data["day"] = ctx.press
    else:
        if ctx.press not in DAY_SETS:
            raise Unexpected()
        ctx.data["weekdays"] = list(DAY_SETS[ctx.press])
    return go("activity.time")


async def ask_time(ctx: Ctx) -> list[Reply]:
    """When it starts."""
    buttons = [Choice(t, t) for t in TIMES]
    return [Reply(ctx.t("activity.ask_time"), choices=rows(*buttons, width=3) + (stop_row(ctx),))]


async def got_time(ctx: Ctx) -> Turn:
    """Record the time; ask the place."""
    if ctx.press not in TIMES:
        raise Unexpected()
    ctx.data["at"] = ctx.press
    return go("activity.place")


async def ask_place(ctx: Ctx) -> list[Reply]:
    """Where it takes place."""
    return [Reply(ctx.t("activity.ask_place"), choices=(stop_row(ctx),))]


async def got_place(ctx: Ctx) -> Turn:
    """Record the place; ask how many can come."""
    ctx.data["place"] = _short(ctx, MAX_PLACE)
    return go("activity.capacity")


async def ask_capacity(ctx: Ctx) -> list[Reply]:
    """How many places (a number from 1 to 500)."""
    return [Reply(ctx.t("activity.ask_capacity"), choices=(stop_row(ctx),))]


async def got_capacity(ctx: Ctx) -> Turn:
    """Record the capacity; ask who may come."""
    capacity = typed_number(ctx.text, max_digits=3)
    if capacity is None or not 1 <= capacity <= 500:
        raise Unexpected("activity.capacity_invalid")
    ctx.data["capacity"] = capacity
    return go("activity.who")


async def ask_who(ctx: Ctx) -> list[Reply]:
    """Every resident, children, or older residents."""
    return _one_of(ctx, activities.Who, "who", width=3)


async def got_who(ctx: Ctx) -> Turn:
    """Record who; for older residents ask from what age, else the price."""
    ctx.data["who"] = _pressed(ctx, activities.Who)
    ctx.data["min_age"] = 0
    return go("activity.age" if ctx.data["who"] == activities.Who.ELDERS else "activity.price")


async def ask_age(ctx: Ctx) -> list[Reply]:
    """From what age (checked against the birth year at sign-up), or any age."""
    ages = [Choice(ctx.t("activity.age_over", age=age), f"age:{age}") for age in AGES]
    anyone = Choice(ctx.t("activity.age_any"), "age:0")
    choices = rows(*ages, width=2) + ((anyone,), stop_row(ctx))
    return [Reply(ctx.t("activity.ask_min_age"), choices=choices)]


async def got_age(ctx: Ctx) -> Turn:
    """Record the age; ask the price."""
    allowed = {f"age:{age}": age for age in (0, *AGES)}
    if ctx.press not in allowed:
        raise Unexpected()
    ctx.data["min_age"] = allowed[ctx.press]
    return go("activity.price")


async def ask_price(ctx: Ctx) -> list[Reply]:
    """Its price in yuan, or free."""
    free = (Choice(ctx.t("activity.free"), SKIP),)
    return [Reply(ctx.t("activity.ask_price"), choices=(free, stop_row(ctx)))]


async def got_price(ctx: Ctx) -> Turn:
    """Record the price (a decimal, never a float); show the summary."""
    if ctx.incoming.press == SKIP:
        ctx.data["price"] = "0"
        return go("activity.confirm")
    try:
        price = activities.money(ctx.text.strip().lstrip("¥￥"))
    except ValueError:
        raise Unexpected("activity.price_invalid") from None
    if price > MAX_PRICE:
        raise Unexpected("activity.price_invalid")
    ctx.data["price"] = str(price)
    return go("activity.confirm")


def _plan(ctx: Ctx) -> activities.Plan:
    return activities.Plan(
        name_zh=ctx.data["name"],
        name_en=ctx.data["name"],
        kind=activities.Kind(ctx.data["kind"]),
        place=ctx.data["place"],
        capacity=int(ctx.data["capacity"]),
        at=ctx.data["at"],
        weekdays=tuple(ctx.data.get("weekdays", ())),
        day=ctx.data.get("day", ""),
        who=activities.Who(ctx.data.get("who", activities.Who.ANYONE)),
        price=ctx.data["price"],
        min_age=int(ctx.data.get("min_age", 0)),
    )


def _who_text(ctx: Ctx) -> str:
    who = activities.Who(ctx.data.get("who", activities.Who.ANYONE))
    age = int(ctx.data.get("min_age", 0))
    if who is activities.Who.ELDERS and age:
        return ctx.t("activity.who_elders_over", age=age)
    return ctx.t(f"activity.who_{who.value}")


async def ask_confirm(ctx: Ctx) -> list[Reply]:
    """The activity as it will show; add it."""
    text = ctx.t(
        "activity.define_summary",
        name=ctx.data["name"],
        place=ctx.data["place"],
        capacity=ctx.data["capacity"],
        at=ctx.data["at"],
        price=ctx.data["price"],
        who=_who_text(ctx),
    )
    return [Reply(text, choices=((Choice(ctx.t("activity.add"), "yes"),), stop_row(ctx)))]


async def got_confirm(ctx: Ctx) -> Turn:
    """Add the activity (the right checked again in the same unit of work)."""
    if ctx.press != "yes":
        raise Unexpected()
    person = ctx.person or {}
    await ctx.atomic(activities.define, ctx.app, _plan(ctx), person, ctx.app.clock.now())
    ctx.data = {}
    return end(Reply(ctx.t("activity.added")))


DEFINE = Flow(
    name="activity",
    start=start,
    commands=("activity",),
    roles=(people.COORDINATOR,),
    help_key="activity.help_define",
    keywords_key="keywords.activity",
    states={
        "activity.name": State(ask_name, stoppable(got_name)),
        "activity.kind": State(ask_kind, stoppable(got_kind)),
        "activity.days": State(ask_days, stoppable(got_days)),
        "activity.time": State(ask_time, stoppable(got_time)),
        "activity.place": State(ask_place, stoppable(got_place)),
        "activity.capacity": State(ask_capacity, stoppable(got_capacity)),
        "activity.who": State(ask_who, stoppable(got_who)),
        "activity.age": State(ask_age, stoppable(got_age)),
        "activity.price": State(ask_price, stoppable(got_price)),
        "activity.confirm": State(ask_confirm, stoppable(got_confirm)),
    },
)


# -- attendance ---------------------------------------------------------------------------------


def _today(tx: Tx, app: App) -> list[tuple[Doc, activities.Activity]]:
    day = slots.local_day(app.clock.now(), app.settings.timezone)
    found = []
    for session in activities.sessions_on(tx, day):
        activity = tx.get(activities.ACTIVITIES, session["activity_id"])
        if activity is not None:
            found.append((session, activities.Activity.from_doc(activity)))
    return found


def _kitchen(tx: Tx) -> list[tuple[activities.Activity, dict[str, int]]]:
    return [
        (a, activities.meal_counts(tx, a.id))
        for a in activities.listed(tx)
        if a.kind is activities.Kind.MEAL
    ]


async def attendance_start(ctx: Ctx) -> Turn:
    """Today's sessions to mark, and the canteen's counts for the kitchen."""
    activities.require_organiser(ctx.app, ctx.person)
    return go("attendance.pick")


async def ask_session(ctx: Ctx) -> list[Reply]:
    """Pick one of today's sessions."""
    today = await ctx.view(_today, ctx.app)
    lines = []
    for activity, counts in await ctx.view(_kitchen):
        days = "、".join(f"{d[5:]} {n}" for d, n in list(counts.items())[-3:]) or "0"
        lines.append(ctx.t("activity.kitchen", name=activity.name(ctx.language), counts=days))
    if not today:
        lines.insert(0, ctx.t("activity.no_sessions_today"))
        return [Reply("\n".join(lines), choices=(stop_row(ctx),))]
    lines.insert(0, ctx.t("activity.ask_session"))
    buttons = [Choice(f"{a.name(ctx.language)} {a.at} · {s['count']}", s["id"]) for s, a in today]
    return [Reply("\n".join(lines), choices=rows(*buttons, width=1) + (stop_row(ctx),))]


async def got_session(ctx: Ctx) -> Turn:
    """Show the roster of the chosen session with a button per person."""
    if ctx.incoming.press == STOP:
        return end(Reply(ctx.t("core.cancelled")), ctx.menu())
    ids = {s["id"] for s, _ in await ctx.view(_today, ctx.app)}
    if ctx.press not in ids:
        raise Unexpected()
    listed = await ctx.view(_roster, ctx.press)
    if not listed:
        return end(Reply(ctx.t("activity.roster_empty")))
    price = await ctx.view(_price, ctx.press)
    lines = [ctx.t("activity.roster_head", count=len(listed))]
    buttons: list[tuple[Choice, ...]] = []
    for signup, name in listed:
        status = ctx.t(f"activity.status_{signup['status']}")
        if signup.get("paid"):
            status += ctx.t("activity.roster_paid", amount=signup["paid"])
        lines.append(f"· {name}（{status}）" if ctx.tr.is_chinese else f"· {name} ({status})")
        row = [
            Choice(
                ctx.t("activity.present", name=name),
                ActivityButton(ActivityVerb.PRESENT, signup["id"]).encode(),
            ),
            Choice(
                ctx.t("activity.absent"),
                ActivityButton(ActivityVerb.ABSENT, signup["id"]).encode(),
            ),
        ]
        if price > 0 and not signup.get("paid"):
            paid = ActivityButton(ActivityVerb.PAID, signup["id"]).encode()
            row.append(Choice(ctx.t("activity.mark_paid", amount=str(price)), paid))
        buttons.append(tuple(row))
    return end(Reply("\n".join(lines), choices=tuple(buttons)))


def _price(tx: Tx, session_id: str) -> Decimal:
    """The price of a session's activity (0 when free)."""
    parsed = activities.parse_session(session_id)
    found = tx.get(activities.ACTIVITIES, parsed[0]) if parsed else None
    return activities.Activity.from_doc(found).price if found else Decimal("0")


def _roster(tx: Tx, session_id: str) -> list[tuple[Doc, str]]:
    return [
        (s, str((tx.get(people.PEOPLE, s["person_id"]) or {}).get("name", "")))
        for s in activities.roster(tx, session_id)
    ]


ATTENDANCE = Flow(
    name="attendance",
    start=attendance_start,
    commands=("attendance",),
    roles=(people.COORDINATOR,),
    help_key="activity.help_attendance",
    keywords_key="keywords.attendance",
    states={"attendance.pick": State(ask_session, got_session)},
)

FLOWS: tuple[Flow, ...] = (DEFINE, ATTENDANCE)
