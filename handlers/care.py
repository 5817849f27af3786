"""/care → service → for whom → when → address → notes → confirm; /book and /mine.

/book (coordinators, for phone bookings) → find the resident by name or phone →
their bookings or a new one through the same form. /mine lists bookings with
cancel / change-time buttons. Buttons outside the form are the ``care`` action
(``a:care:<verb>:<booking id>[:<arg>]``): a coordinator's approve or decline,
cancel, change time, stars, "not done", and the follow-up answers; each is
checked again on the server inside the change itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from assistant.clock import from_iso, to_iso
from assistant.conversation.flow import Ctx, Flow, Refused, State, Turn, Unexpected, end, go
from assistant.conversation.vocabulary import Choice, Reply, rows
from assistant.domain import slots
from assistant.services import care, care_followups, people, timers
from assistant.store.base import Doc, Tx

T = TypeVar("T")
STOP = "care.stop"
SKIP = "care.skip"
MORE = "more:"
MAX_ADDRESS = 100
MAX_NOTES = 300
MAX_QUERY = 30
MAX_FOUND = 8


class CareRefused(Refused):
    """A :class:`care.CareError` as the engine's kind refusal."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key


async def _commit(ctx: Ctx, change: Callable[..., tuple[T, list[str]]], *args: Any) -> T:
    """Run a care change in one transaction, then hand its due timers to the workers."""
    try:
        result, ids = await ctx.atomic(change, ctx.app, *args, ctx.app.clock.now())
    except care.CareError as error:
        raise CareRefused(error.key) from None
    await ctx.run(timers.kick, ctx.app, ids)
    return result


def _me(ctx: Ctx) -> Doc:
    if ctx.person is None:
        raise Refused()
    return ctx.person


def _stop_row(ctx: Ctx) -> tuple[Choice, ...]:
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


# -- the booking form -------------------------------------------------------------


async def start(ctx: Ctx) -> Turn:
    """A resident books for themselves or a relative; ask for the service."""
    ctx.data = {"via": care.CHAT, "by": _me(ctx)["id"]}
    return go("care.service")


async def ask_service(ctx: Ctx) -> list[Reply]:
    """Offer every service with its price."""
    buttons = [
        Choice(f"{s.name(ctx.language)} · {care.price_text(ctx.tr, s.price)}", code)
        for code, s in ctx.app.services.items()
    ]
    return [Reply(ctx.t("care.ask_service"), choices=rows(*buttons, width=1) + (_stop_row(ctx),))]


async def got_service(ctx: Ctx) -> Turn:
    """Record the service; ask for whom when the person helps relatives, else when."""
    if ctx.press not in ctx.app.services:
        raise Unexpected()
    ctx.data["service"] = ctx.press
    ctx.data.pop("start", None)
    if ctx.data.get("for"):
        return go("care.when")
    relatives = await ctx.view(people.relatives_of, ctx.data["by"])
    if relatives:
        return go("care.whom")
    _set_for(ctx, _me(ctx))
    return go("care.when")


def _set_for(ctx: Ctx, person: Doc) -> None:
    ctx.data["for"] = person["id"]
    ctx.data["for_name"] = person.get("name", "")


async def ask_whom(ctx: Ctx) -> list[Reply]:
    """Ask whether it is for themselves or which relative."""
    relatives = await ctx.view(people.relatives_of, ctx.data["by"])
    buttons = [Choice(ctx.t("care.for_me"), "self")]
    buttons += [Choice(r.get("name", ""), r["id"]) for r in relatives]
    return [Reply(ctx.t("care.ask_whom"), choices=rows(*buttons, width=2) + (_stop_row(ctx),))]


async def got_whom(ctx: Ctx) -> Turn:
    """Record for whom; ask when."""
    if ctx.press == "self":
        _set_for(ctx, _me(ctx))
        return go("care.when")
    relatives = await ctx.view(people.relatives_of, ctx.data["by"])
    chosen = [r for r in relatives if r["id"] == ctx.press]
    if not chosen:
        raise Unexpected()
    _set_for(ctx, chosen[0])
    return go("care.when")


async def _slot_reply(ctx: Ctx, code: str, text_key: str, allow_asap: bool) -> Reply:
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
        return Reply(
            ctx.t("care.no_slots", phone=ctx.app.settings.get("community", "phone") or "-"),
            choices=((Choice(ctx.t("care.other_service"), "back"),), _stop_row(ctx)),
        )
    name = ctx.app.services[code].name(ctx.language)
    return Reply(ctx.t(text_key, service=name), choices=layout + (_stop_row(ctx),))


def _read_slot(ctx: Ctx) -> str | None:
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


async def ask_when(ctx: Ctx) -> list[Reply]:
    """Offer the next free slots of the chosen service."""
    return [await _slot_reply(ctx, ctx.data["service"], "care.ask_when", allow_asap=True)]


async def got_when(ctx: Ctx) -> Turn:
    """Record the time; ask to confirm the address (or to type one)."""
    if ctx.press == "back":
        return go("care.service")
    start = _read_slot(ctx)
    if start is None:
        return go("care.when")
    ctx.data["start"] = start
    if "household" in ctx.data:
        return go("care.confirm")
    person = await ctx.view(_person, ctx.data["for"])
    if person.get("household"):
        return go("care.address")
    return go("care.address_text")


def _person(tx: Tx, person_id: str) -> Doc:
    return tx.get(people.PEOPLE, person_id) or {}


async def ask_address(ctx: Ctx) -> list[Reply]:
    """Show the household's address to confirm."""
    person = await ctx.view(_person, ctx.data["for"])
    address = care.describe_address(person.get("household"), ctx.tr.is_chinese)
    return [
        Reply(
            ctx.t("care.ask_address", address=address),
            choices=(
                (
                    Choice(ctx.t("care.address_yes"), "yes"),
                    Choice(ctx.t("care.address_other"), "other"),
                ),
                _stop_row(ctx),
            ),
        )
    ]


async def got_address(ctx: Ctx) -> Turn:
    """Record the household's address, or ask for another; then ask for notes."""
    if ctx.press == "other":
        return go("care.address_text")
    if ctx.press != "yes":
        raise Unexpected()
    person = await ctx.view(_person, ctx.data["for"])
    ctx.data["household"] = dict(person.get("household") or {})
    return go("care.notes")


async def ask_address_text(ctx: Ctx) -> list[Reply]:
    """Ask for the address in words."""
    return [Reply(ctx.t("care.ask_address_text"), choices=(_stop_row(ctx),))]


async def got_address_text(ctx: Ctx) -> Turn:
    """Record the typed address; ask for health notes."""
    text = " ".join(ctx.text.split())
    if len(text) > MAX_ADDRESS or len(text) < 2:
        raise Unexpected("care.address_invalid", limit=MAX_ADDRESS)
    ctx.data["household"] = {"text": text}
    return go("care.notes")


async def ask_notes(ctx: Ctx) -> list[Reply]:
    """Ask for optional health notes, shown only to the volunteer who takes the task."""
    skip = (Choice(ctx.t("care.skip"), SKIP),)
    return [Reply(ctx.t("care.ask_notes"), choices=(skip, _stop_row(ctx)))]


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
    service = ctx.app.services[ctx.data["service"]]
    start = ctx.data["start"]
    draft = {"asap": start == care.ASAP, "start": start}
    lines = [
        ctx.t(
            "care.summary",
            service=service.name(ctx.language),
            whom=ctx.data.get("for_name", ""),
            when=care.when_text(ctx.app, draft, ctx.tr, ctx.app.clock.now()),
            address=care.describe_address(ctx.data.get("household"), ctx.tr.is_chinese),
            notes=ctx.data.get("notes") or ctx.t("care.no_notes"),
            price=care.price_text(ctx.tr, service.price),
        )
    ]
    if service.needs_approval and ctx.data["via"] == care.CHAT:
        lines.append(ctx.t("care.needs_approval"))
    return [
        Reply(
            "\n".join(lines),
            choices=(
                (Choice(ctx.t("care.confirm"), "yes"), Choice(ctx.t("care.change_time"), "again")),
                _stop_row(ctx),
            ),
        )
    ]


async def got_confirm(ctx: Ctx) -> Turn:
    """Book atomically; a place taken meanwhile brings fresh slots with a kind word."""
    if ctx.press == "again":
        return go("care.when")
    if ctx.press != "yes":
        raise Unexpected()
    draft = care.Draft(
        service=ctx.data["service"],
        person_id=ctx.data["for"],
        booked_by=ctx.data["by"],
        via=ctx.data["via"],
        start=ctx.data["start"],
        household=ctx.data.get("household"),
        notes=ctx.data.get("notes", ""),
    )
    try:
        booking = await _commit(ctx, care.book, draft)
    except CareRefused as refusal:
        ctx.data.pop("start", None)
        ctx.data.pop("after", None)
        return go("care.when", Reply(ctx.t(refusal.key)))
    return end(Reply(await _booked_text(ctx, booking)))


async def _booked_text(ctx: Ctx, booking: Doc) -> str:
    service = ctx.app.services[booking["service"]]
    when = care.when_text(ctx.app, booking, ctx.tr, ctx.app.clock.now())
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


# -- phone bookings ---------------------------------------------------------------------


async def phone_start(ctx: Ctx) -> Turn:
    """A coordinator enters a booking taken by phone; ask who called."""
    ctx.data = {"via": care.PHONE, "by": _me(ctx)["id"]}
    return go("care.find")


async def ask_find(ctx: Ctx) -> list[Reply]:
    """Ask for the resident's name or phone number."""
    return [Reply(ctx.t("care.ask_find"), choices=(_stop_row(ctx),))]


async def got_find(ctx: Ctx) -> Turn:
    """Find the resident; several matches are offered as buttons."""
    query = ctx.text
    if len(query) > MAX_QUERY:
        raise Unexpected("care.find_none")
    found = await ctx.view(care.find_people, query, MAX_FOUND)
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
    found = [await ctx.view(_person, pid) for pid in ctx.data.get("candidates", [])]
    buttons = [Choice(_who_label(ctx, p), p["id"]) for p in found if p]
    return [Reply(ctx.t("care.ask_pick"), choices=rows(*buttons, width=1) + (_stop_row(ctx),))]


def _who_label(ctx: Ctx, person: Doc) -> str:
    place = care.coarse_place(person.get("household")) or "-"
    phone = str(person.get("phone") or "")
    tail = f" ·{phone[-4:]}" if len(phone) >= 4 else ""
    return f"{person.get('name', '')} · {place}{tail}"


async def got_pick(ctx: Ctx) -> Turn:
    """Record the resident chosen."""
    if ctx.press not in ctx.data.get("candidates", []):
        raise Unexpected()
    return await _chosen(ctx, await ctx.view(_person, ctx.press))


async def _chosen(ctx: Ctx, person: Doc) -> Turn:
    _set_for(ctx, person)
    ctx.data.pop("candidates", None)
    live = await ctx.view(care.live_for, person["id"])
    return go("care.phone_menu") if live else go("care.service")


async def ask_phone_menu(ctx: Ctx) -> list[Reply]:
    """Show the resident's current bookings with their buttons, and "new booking"."""
    live = await ctx.view(_named, care.live_for, ctx.data["for"])
    text, buttons = _listing(ctx, live, coordinator=True)
    header = ctx.t("care.phone_current", name=ctx.data.get("for_name", ""))
    new = (Choice(ctx.t("care.new_booking"), "new"),)
    return [Reply(header + "\n" + text, choices=(new,) + buttons + (_stop_row(ctx),))]


async def got_phone_menu(ctx: Ctx) -> Turn:
    """Go on to a new booking."""
    if ctx.press != "new":
        raise Unexpected()
    return go("care.service")


# -- my bookings ------------------------------------------------------------------------


def _listing(
    ctx: Ctx, bookings: list[Doc], coordinator: bool = False
) -> tuple[str, tuple[tuple[Choice, ...], ...]]:
    """Numbered lines of bookings and their buttons."""
    now = ctx.app.clock.now()
    lines: list[str] = []
    buttons: list[tuple[Choice, ...]] = []
    for number, booking in enumerate(bookings, start=1):
        lines.append(
            ctx.t(
                "care.mine_line",
                number=number,
                service=care.service_name(ctx.app, booking["service"], ctx.tr),
                when=care.when_text(ctx.app, booking, ctx.tr, now),
                name=booking.get("for_name", ""),
                status=ctx.t(f"care.status_{booking['status']}"),
            )
        )
        row: list[Choice] = []
        changeable = care.may_change(ctx.app, booking, now) or (
            coordinator and booking["status"] in care.CHANGEABLE
        )
        if changeable:
            row.append(
                Choice(ctx.t("care.cancel_n", number=number), f"a:care:cancel:{booking['id']}")
            )
            if not booking.get("asap"):
                row.append(
                    Choice(ctx.t("care.move_n", number=number), f"a:care:move:{booking['id']}")
                )
        if booking["status"] == care.DONE and booking.get("rating") is None and not coordinator:
            row.append(Choice(ctx.t("care.rate_n", number=number), f"a:care:stars:{booking['id']}"))
        if row:
            buttons.append(tuple(row))
    return "\n".join(lines), tuple(buttons)


def _named(tx: Tx, query: Callable[[Tx, str], list[Doc]], person_id: str) -> list[Doc]:
    """Bookings from ``query`` with the name of the person each is for."""
    found = query(tx, person_id)
    for booking in found:
        person = tx.get(people.PEOPLE, booking["person_id"]) or {}
        booking["for_name"] = person.get("name", "")
    return found


async def mine(ctx: Ctx) -> Turn:
    """List the person's (and their relatives') bookings with what can be done."""
    found = await ctx.view(_named, care.visible_to, _me(ctx)["id"])
    if not found:
        book = (Choice(ctx.t("care.menu_book"), "m:care"),)
        return end(Reply(ctx.t("care.mine_none"), choices=(book,)))
    text, buttons = _listing(ctx, found)
    return end(Reply(ctx.t("care.mine_intro") + "\n" + text, choices=buttons))


async def ask_move(ctx: Ctx) -> list[Reply]:
    """Offer the free slots to move a booking to."""
    return [await _slot_reply(ctx, ctx.data["service"], "care.ask_move", allow_asap=False)]


async def got_move(ctx: Ctx) -> Turn:
    """Move the booking, checked again atomically; a lost slot brings fresh ones."""
    if ctx.press == "back":
        return end(Reply(ctx.t("care.kept")))
    start = _read_slot(ctx)
    if start is None:
        return go("care.move_when")
    booking = await _commit(ctx, care.reschedule, ctx.data["booking"], _me(ctx), start)
    when = care.when_text(ctx.app, booking, ctx.tr, ctx.app.clock.now())
    return end(Reply(ctx.t("care.moved", when=when)))


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
    await _commit(ctx, _comment, ctx.data["booking"], _me(ctx), text)
    return end(Reply(ctx.t("care.thanks")))


def _comment(
    tx: Tx, app: Any, booking_id: str, actor: Doc, text: str, now: datetime
) -> tuple[Doc, list[str]]:
    return care_followups.comment(tx, app, booking_id, actor, text, now), []


# -- buttons outside the form ------------------------------------------------------------


async def on_care_button(ctx: Ctx, parts: list[str]) -> Turn:
    """``a:care:<verb>:<booking id>[:<arg>]``; every verb re-checks the presser on the server."""
    if len(parts) < 2 or parts[0] not in VERBS or ctx.person is None:
        return end(Reply(ctx.t("core.button_expired")))
    return await VERBS[parts[0]](ctx, parts[1], parts[2:])


async def _approve(ctx: Ctx, booking_id: str, rest: list[str]) -> Turn:
    await _commit(ctx, care.decide, booking_id, _me(ctx), True)
    return end(Reply(ctx.t("care.approved")))


async def _decline(ctx: Ctx, booking_id: str, rest: list[str]) -> Turn:
    await _commit(ctx, care.decide, booking_id, _me(ctx), False)
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


async def ask_cancel(ctx: Ctx) -> list[Reply]:
    """Ask to confirm the cancellation, naming the visit."""
    booking = await ctx.view(_booking, ctx.data["booking"])
    when = care.when_text(ctx.app, booking, ctx.tr, ctx.app.clock.now())
    service = care.service_name(ctx.app, booking["service"], ctx.tr)
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
        await _commit(ctx, care.cancel, ctx.data["booking"], _me(ctx))
    except CareRefused as refusal:
        return end(Reply(ctx.t(refusal.key)))
    return end(Reply(ctx.t("care.cancelled")))


async def _cancel_now(ctx: Ctx, booking_id: str, rest: list[str]) -> Turn:
    await _commit(ctx, care.cancel, booking_id, _me(ctx))
    return end(Reply(ctx.t("care.cancelled")))


def _booking(tx: Tx, booking_id: str) -> Doc:
    booking = tx.get(care.BOOKINGS, booking_id)
    if booking is None:
        raise CareRefused(care.NotChangeable.key)
    return booking


async def _move(ctx: Ctx, booking_id: str, rest: list[str]) -> Turn:
    booking = await _checked(ctx, booking_id)
    ctx.data = {"booking": booking_id, "service": booking["service"]}
    return go("care.move_when")


async def _stars(ctx: Ctx, booking_id: str, rest: list[str]) -> Turn:
    choices = care_followups.rating_choices(booking_id)(ctx.tr)
    return end(Reply(ctx.t("care.ask_stars"), choices=choices))


async def _rate(ctx: Ctx, booking_id: str, rest: list[str]) -> Turn:
    if len(rest) != 1 or not rest[0].isdigit():
        return end(Reply(ctx.t("core.button_expired")))
    await _commit(ctx, care_followups.rate, booking_id, _me(ctx), int(rest[0]))
    ctx.data = {"booking": booking_id}
    return go("care.comment", Reply(ctx.t("care.rated")))


async def _not_done(ctx: Ctx, booking_id: str, rest: list[str]) -> Turn:
    await _commit(ctx, care_followups.not_done, booking_id, _me(ctx))
    return end(Reply(ctx.t("care.not_done_told")))


async def _follow_up(ctx: Ctx, booking_id: str, rest: list[str]) -> Turn:
    if len(rest) != 1:
        return end(Reply(ctx.t("core.button_expired")))
    await _commit(ctx, care_followups.answer_follow_up, booking_id, _me(ctx), rest[0])
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

_FORM = {
    "care.service": State(ask_service, stoppable(got_service)),
    "care.whom": State(ask_whom, stoppable(got_whom)),
    "care.when": State(ask_when, stoppable(got_when)),
    "care.address": State(ask_address, stoppable(got_address)),
    "care.address_text": State(ask_address_text, stoppable(got_address_text)),
    "care.notes": State(ask_notes, stoppable(got_notes)),
    "care.confirm": State(ask_confirm, stoppable(got_confirm)),
}

BOOK = Flow(
    name="care",
    start=start,
    commands=("care",),
    menu_key="care.menu_book",
    help_key="care.help_book",
    states=_FORM,
)

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

FLOWS: tuple[Flow, ...] = (BOOK, MINE, PHONE)
ACTIONS = {"care": on_care_button}
