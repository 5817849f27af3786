"""/start → language → name → complex → building → unit → room → phone (optional) → privacy → menu.

Nothing is stored about a newcomer until they accept the privacy notice; then
one transaction creates their profile in their household's micro-grid. The
greeting and the language question are one message.
"""

from __future__ import annotations

from assistant.conversation.flow import Ctx, Flow, State, Turn, Unexpected, end, go
from assistant.conversation.vocabulary import Choice, Kind, Reply, rows
from assistant.services import people
from assistant.services.people import community, invitations
from assistant.store.base import Doc, Tx

NOT_LISTED = "none"
MAX_NAME = 30
MAX_ROOM = 12
GREETING = "greeting"  # ctx.data: the words to put above the first language question


def _greet(ctx: Ctx, text: str) -> Turn:
    """Ask for the language, with ``text`` above the question in the same message."""
    ctx.data[GREETING] = text
    return go("onboard.language")


async def start(ctx: Ctx) -> Turn:
    """Use an invitation if there is one; otherwise ask for the language."""
    if ctx.person is not None:
        return end(Reply(ctx.t("onboard.already", name=ctx.person.get("name", ""))), ctx.menu())
    payload = ctx.incoming.args[:64]
    if payload:
        invite = await ctx.atomic(invitations.redeem, payload, ctx.sender, people.now_iso(ctx.app))
        if invite is None:
            return _greet(ctx, ctx.t("onboard.invite_unusable"))
        if invite.get("person_id"):
            ctx.person = await ctx.view(people.person_at, ctx.sender)
            name = (ctx.person or {}).get("name", "")
            return end(Reply(ctx.t("onboard.volunteer_linked", name=name)), ctx.menu())
        ctx.data["invite"] = invite.get("kind", "")
        return _greet(ctx, ctx.t("onboard.hello_invited", name=invite.get("name", "")))
    return _greet(ctx, ctx.t("onboard.hello"))


async def ask_language(ctx: Ctx) -> list[Reply]:
    """Ask for the language, under the greeting the first time; Chinese comes first."""
    chinese = ctx.tr.is_chinese
    marks = ("✓ 中文", "English") if chinese else ("中文", "✓ English")
    greeting = str(ctx.data.pop(GREETING, ""))
    question = ctx.t("onboard.ask_language")
    return [
        Reply(
            f"{greeting}\n\n{question}" if greeting else question,
            choices=((Choice(marks[0], "zh_CN"), Choice(marks[1], "en")),),
        )
    ]


async def got_language(ctx: Ctx) -> Turn:
    """Record the language; ask for the name."""
    if ctx.press not in ("zh_CN", "en"):
        raise Unexpected()
    ctx.language = ctx.press
    ctx.data["language"] = ctx.press
    return go("onboard.name")


async def ask_name(ctx: Ctx) -> list[Reply]:
    """Ask how to address the person."""
    return [Reply(ctx.t("onboard.ask_name"))]


async def got_name(ctx: Ctx) -> Turn:
    """Record the name; ask for the residential complex."""
    name = " ".join(ctx.text.split())
    if len(name) > MAX_NAME or name.startswith("/"):
        raise Unexpected("onboard.name_too_long", limit=MAX_NAME)
    ctx.data["name"] = name
    return go("onboard.complex")


def _buttons(values: list[str], extra: Choice | None = None, width: int = 2) -> Reply:
    choices = [Choice(value, value) for value in values]
    if extra is not None:
        choices.append(extra)
    return Reply("", choices=rows(*choices, width=width))


async def ask_complex(ctx: Ctx) -> list[Reply]:
    """Offer the imported residential complexes."""
    names = await ctx.view(community.complexes)
    reply = _buttons(names, Choice(ctx.t("onboard.not_listed"), NOT_LISTED))
    return [Reply(ctx.t("onboard.ask_complex"), choices=reply.choices)]


async def got_complex(ctx: Ctx) -> Turn:
    """Record the complex; ask for the building (or skip when not listed)."""
    if ctx.press == NOT_LISTED:
        ctx.data["household"] = None
        if ctx.data.get("editing_home"):
            return await _save_home(ctx, Reply(ctx.t("onboard.not_listed_ok")))
        return go("onboard.phone", Reply(ctx.t("onboard.not_listed_ok")))
    ctx.data["complex"] = ctx.press
    return go("onboard.building")


async def ask_building(ctx: Ctx) -> list[Reply]:
    """Offer the buildings of the chosen complex."""
    names = await ctx.view(community.buildings, ctx.data["complex"])
    labelled = [Choice(ctx.t("onboard.building_label", building=b), b) for b in names]
    return [Reply(ctx.t("onboard.ask_building"), choices=rows(*labelled, width=3))]


async def got_building(ctx: Ctx) -> Turn:
    """Record the building; ask for the unit."""
    ctx.data["building"] = ctx.press
    return go("onboard.unit")


async def ask_unit(ctx: Ctx) -> list[Reply]:
    """Offer the units of the chosen building."""
    found = await ctx.view(community.units, ctx.data["complex"], ctx.data["building"])
    names = [unit["unit"] for unit in found]
    labelled = [Choice(ctx.t("onboard.unit_label", unit=u), u) for u in names]
    return [Reply(ctx.t("onboard.ask_unit"), choices=rows(*labelled, width=3))]


async def got_unit(ctx: Ctx) -> Turn:
    """Record the unit and its grid; ask for the room number."""
    key = community.unit_id(ctx.data["complex"], ctx.data["building"], ctx.press)
    unit = await ctx.view(_unit, key)
    if unit is None:
        raise Unexpected()
    ctx.data["unit"] = ctx.press
    ctx.data["grid_id"] = unit["grid_id"]
    return go("onboard.room")


async def ask_room(ctx: Ctx) -> list[Reply]:
    """Ask for the door number."""
    return [Reply(ctx.t("onboard.ask_room"))]


async def got_room(ctx: Ctx) -> Turn:
    """Record the room; show the privacy notice."""
    room = ctx.text.replace(" ", "")
    if len(room) > MAX_ROOM or not room.replace("-", "").isalnum():
        raise Unexpected("onboard.room_invalid")
    ctx.data["household"] = {
        "complex": ctx.data["complex"],
        "building": ctx.data["building"],
        "unit": ctx.data["unit"],
        "room": room,
    }
    if ctx.data.get("editing_home"):
        return await _save_home(ctx, Reply(ctx.t("profile.saved")))
    return go("onboard.phone")


async def _save_home(ctx: Ctx, note: Reply) -> Turn:
    """Store a changed home (from /me) and go back to the profile."""
    if ctx.person is not None:
        ctx.person = await ctx.run(
            people.update,
            ctx.app.store,
            str(ctx.person["id"]),
            household=ctx.data.get("household"),
            grid_id=ctx.data.get("grid_id") if ctx.data.get("household") else None,
        )
    ctx.data = {}
    return go("profile.menu", note)


async def ask_phone(ctx: Ctx) -> list[Reply]:
    """Ask for a phone number, optional, shared with one tap where the network can."""
    return [
        Reply(
            ctx.t("onboard.ask_phone"),
            choices=((Choice(ctx.t("onboard.skip"), "skip"),),),
            request_contact=True,
        )
    ]


async def got_phone(ctx: Ctx) -> Turn:
    """Record the phone number (shared or typed) or skip it; show the privacy notice."""
    incoming = ctx.incoming
    if incoming.kind is Kind.PRESS and incoming.press == "skip":
        ctx.data["phone"] = ""
        return go("onboard.privacy")
    phone = incoming.contact_phone if incoming.kind is Kind.CONTACT else ctx.text
    cleaned = phone.replace(" ", "").replace("-", "")
    digits = cleaned.removeprefix("+")
    if not digits.isdigit() or not 6 <= len(digits) <= 15:
        raise Unexpected("onboard.phone_invalid")
    ctx.data["phone"] = cleaned
    return go("onboard.privacy")


async def ask_privacy(ctx: Ctx) -> list[Reply]:
    """Show the short privacy notice to accept."""
    return [
        Reply(
            ctx.t(
                "onboard.privacy_notice",
                centre=community.centre_name(ctx.app.settings, ctx.tr.is_chinese),
            ),
            choices=(
                (
                    Choice(ctx.t("onboard.accept"), "yes"),
                    Choice(ctx.t("onboard.decline"), "no"),
                ),
            ),
        )
    ]


async def got_privacy(ctx: Ctx) -> Turn:
    """Create the profile on acceptance; keep nothing on refusal."""
    if ctx.press == "no":
        ctx.data = {}
        return end(Reply(ctx.t("onboard.declined")))
    if ctx.press != "yes":
        raise Unexpected()
    person = await ctx.atomic(_register, ctx)
    ctx.person = person
    grid = await ctx.view(community.grid_name, person.get("grid_id"))
    welcome = ctx.t("onboard.welcome_grid", name=person["name"], grid=grid) if grid else ""
    text = ctx.t("onboard.done", name=person["name"]) + ("\n" + welcome if welcome else "")
    if ctx.data.get("invite") == "volunteer":
        # Invited as a volunteer: go straight on to the volunteer application.
        from handlers.volunteer import join_start

        turn = await join_start(ctx)
        return Turn(turn.state, (Reply(text), *turn.replies))
    return end(Reply(text), ctx.menu())


def _unit(tx: Tx, key: str) -> Doc | None:
    return tx.get(community.UNITS, key)


def _register(tx: Tx, ctx: Ctx) -> Doc:
    """Create the profile (once: a repeated acceptance finds it made)."""
    existing = people.person_at(tx, ctx.sender)
    if existing is not None:
        return existing
    now = people.now_iso(ctx.app)
    person = people.create_person(
        tx,
        name=ctx.data["name"],
        address=ctx.sender,
        language=ctx.language,
        now=now,
        grid_id=ctx.data.get("grid_id"),
        household=ctx.data.get("household"),
        phone=ctx.data.get("phone", ""),
    )
    person["privacy_accepted_at"] = now
    tx.put(people.PEOPLE, person["id"], person)
    return person


FLOW = Flow(
    name="onboard",
    start=start,
    needs_profile=False,
    states={
        "onboard.language": State(ask_language, got_language),
        "onboard.name": State(ask_name, got_name),
        "onboard.complex": State(ask_complex, got_complex),
        "onboard.building": State(ask_building, got_building),
        "onboard.unit": State(ask_unit, got_unit),
        "onboard.room": State(ask_room, got_room),
        "onboard.phone": State(ask_phone, got_phone),
        "onboard.privacy": State(ask_privacy, got_privacy),
    },
)
