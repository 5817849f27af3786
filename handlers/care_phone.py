"""/book → find the resident by name or phone → pick → their bookings, or the /care form.

For coordinators entering a booking taken by phone: once the resident is
found, their current bookings are shown with the same buttons as /mine, and
"new booking" goes on to the form of :mod:`handlers.care` (``care.service``).
"""

from __future__ import annotations

from assistant.conversation.flow import Ctx, Flow, State, Turn, Unexpected, go
from assistant.conversation.vocabulary import Choice, Reply, rows
from assistant.services import care, people
from assistant.services.care import notify as care_notify
from assistant.services.care import records as care_records
from assistant.store.base import Doc
from handlers.care_common import me, person_of, set_for, stop_row, stoppable
from handlers.care_mine import listing, named

MAX_QUERY = 30
MAX_FOUND = 8


async def phone_start(ctx: Ctx) -> Turn:
    """A coordinator enters a booking taken by phone; ask who called."""
    ctx.data = {"via": care.PHONE, "by": me(ctx)["id"]}
    return go("care.find")


async def ask_find(ctx: Ctx) -> list[Reply]:
    """Ask for the resident's name or phone number."""
    return [Reply(ctx.t("care.ask_find"), choices=(stop_row(ctx),))]


async def got_find(ctx: Ctx) -> Turn:
    """Find the resident; several matches are offered as buttons."""
    query = ctx.text
    if len(query) > MAX_QUERY:
        raise Unexpected("care.find_none")
    found = await ctx.view(care_records.find_people, query, MAX_FOUND)
    if not found:
        raise Unexpected("care.find_none")
    if len(found) > MAX_FOUND:
        raise Unexpected("care.find_many")
    if len(found) == 1:
        return await _chosen(ctx, found[0])
    ctx.data["candidates"] = [p["id"] for p in found]
    return go("care.pick")


async def ask_pick(ctx: Ctx) -> list[Reply]:
    """Offer the residents that match, with their complex and phone ending."""
    found = [await ctx.view(person_of, pid) for pid in ctx.data.get("candidates", [])]
    buttons = [Choice(_who_label(p), p["id"]) for p in found if p]
    return [Reply(ctx.t("care.ask_pick"), choices=rows(*buttons, width=1) + (stop_row(ctx),))]


def _who_label(person: Doc) -> str:
    place = care_notify.coarse_place(person.get("household")) or "-"
    phone = str(person.get("phone") or "")
    tail = f" ·{phone[-4:]}" if len(phone) >= 4 else ""
    return f"{person.get('name', '')} · {place}{tail}"


async def got_pick(ctx: Ctx) -> Turn:
    """Record the resident chosen."""
    if ctx.press not in ctx.data.get("candidates", []):
        raise Unexpected()
    return await _chosen(ctx, await ctx.view(person_of, ctx.press))


async def _chosen(ctx: Ctx, person: Doc) -> Turn:
    set_for(ctx, person)
    ctx.data.pop("candidates", None)
    live = await ctx.view(care_records.live_for, person["id"])
    return go("care.phone_menu") if live else go("care.service")


async def ask_phone_menu(ctx: Ctx) -> list[Reply]:
    """Show the resident's current bookings with their buttons, and "new booking"."""
    live = await ctx.view(named, care_records.live_for, ctx.data["for"])
    text, buttons = listing(ctx, live, coordinator=True)
    header = ctx.t("care.phone_current", name=ctx.data.get("for_name", ""))
    new = (Choice(ctx.t("care.new_booking"), "new"),)
    return [Reply(header + "\n" + text, choices=(new,) + buttons + (stop_row(ctx),))]


async def got_phone_menu(ctx: Ctx) -> Turn:
    """Go on to a new booking."""
    if ctx.press != "new":
        raise Unexpected()
    return go("care.service")


PHONE = Flow(
    name="phonebook",
    start=phone_start,
    commands=("book",),
    roles=(people.COORDINATOR, people.ADMIN),
    help_key="care.help_phone",
    states={
        "care.find": State(ask_find, stoppable(got_find)),
        "care.pick": State(ask_pick, stoppable(got_pick)),
        "care.phone_menu": State(ask_phone_menu, stoppable(got_phone_menu)),
    },
)
