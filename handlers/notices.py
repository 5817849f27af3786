"""/notice → micro-grids → text (more, a photo, English) → needs "收到"? → deadline → preview → send.

Coordinators write notices here; :mod:`handlers.notices_view` holds /notices (the rate
per grid, the silent households, the door-knock rounds) and the buttons outside the
form (``a:notice:…`` "收到" and cancel, ``a:knock:…`` the door checks). This module's
:data:`FLOWS` and :data:`ACTIONS` are the whole notices side's tables.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from assistant.clock import from_iso, to_iso
from assistant.conversation.buttons import KnockCheck, NoticeButton
from assistant.conversation.flow import Action, Ctx, Flow, State, Turn, Unexpected, end, go, stop_on
from assistant.conversation.vocabulary import Choice, Kind, Reply, rows
from assistant.domain import slots
from assistant.services import notices, people
from assistant.services.notices import deadline
from assistant.services.people import community
from assistant.store.base import Doc, Tx
from handlers import notices_view, notices_wellbeing

if TYPE_CHECKING:
    from assistant.app import App

STOP = "notice.stop"
ALL = "all"
NEXT = "next"
DONE = "done"
SKIP = "skip"
MAX_TEXT = 12_000
PREVIEW = 120


def stop_row(ctx: Ctx) -> tuple[Choice, ...]:
    """The "stop" button of every question."""
    return (Choice(ctx.t("notice.stop"), STOP),)


stoppable = stop_on(STOP)
"""Let the "stop" button end the form from any question."""


def me(ctx: Ctx) -> Doc:
    """The coordinator writing (the flow is for coordinators only)."""
    if ctx.person is None:
        raise notices.NotCoordinator()
    return ctx.person


async def start(ctx: Ctx) -> Turn:
    """A coordinator writes a notice; ask which micro-grids it goes to."""
    ctx.data = {"grids": []}
    return go("notice.grids")


def _grid_choices(tx: Tx, app: App, person: Doc) -> list[tuple[str, str]]:
    return [(g, community.grid_name(tx, g)) for g in notices.sendable_grids(tx, app, person)]


async def ask_grids(ctx: Ctx) -> list[Reply]:
    """Offer the coordinator's grids to tick, the whole community, and "next"."""
    grids = await ctx.view(_grid_choices, ctx.app, me(ctx))
    chosen = set(ctx.data.get("grids", []))
    buttons = [Choice(("✓ " if g in chosen else "") + name, g) for g, name in grids]
    layout = rows(*buttons, width=2)
    layout += ((Choice(ctx.t("notice.all_grids"), ALL), Choice(ctx.t("notice.next"), NEXT)),)
    return [Reply(ctx.t("notice.ask_grids"), choices=layout + (stop_row(ctx),))]


async def got_grids(ctx: Ctx) -> Turn:
    """Tick or untick a grid, take them all, or go on to the text."""
    grids = [g for g, _ in await ctx.view(_grid_choices, ctx.app, me(ctx))]
    press = ctx.press
    if press == ALL:
        ctx.data["grids"] = grids
        return go("notice.text")
    if press == NEXT:
        if not ctx.data.get("grids"):
            raise Unexpected("notice.pick_grid")
        return go("notice.text")
    if press not in grids:
        raise Unexpected()
    chosen = list(ctx.data.get("grids", []))
    ctx.data["grids"] = [g for g in chosen if g != press] if press in chosen else [*chosen, press]
    return go("notice.grids")


async def ask_text(ctx: Ctx) -> list[Reply]:
    """Ask for the notice's words."""
    return [Reply(ctx.t("notice.ask_text"), choices=(stop_row(ctx),))]


async def got_text(ctx: Ctx) -> Turn:
    """Record the text; offer to add more."""
    ctx.data["text"] = _clean(ctx.text)
    return go("notice.more")


def _clean(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    cleaned = "\n".join(lines).strip()
    if len(cleaned) < 2:
        raise Unexpected("notice.text_short")
    return cleaned


async def ask_more(ctx: Ctx) -> list[Reply]:
    """A long notice can come in several messages: more text, a photo (optional), or done."""
    size = len(ctx.data.get("text", ""))
    photo = ctx.t("picture.notice_kept" if ctx.data.get("photo") else "picture.notice_may")
    return [
        Reply(
            ctx.t("notice.ask_more", size=size) + "\n" + photo,
            choices=((Choice(ctx.t("notice.text_done"), DONE),), stop_row(ctx)),
        )
    ]


async def got_more(ctx: Ctx) -> Turn:
    """Add a paragraph, keep a photo every copy carries (the media port's reference), or go
    on to the English version."""
    if ctx.incoming.press == DONE:
        return go("notice.english")
    if ctx.incoming.kind is Kind.PHOTO and ctx.incoming.file_ref:
        ctx.data["photo"] = ctx.incoming.file_ref  # a second photo replaces the first
        return go("notice.more")
    added = ctx.data["text"] + "\n\n" + _clean(ctx.text)
    if len(added) > MAX_TEXT:
        raise Unexpected("notice.text_long", limit=MAX_TEXT)
    ctx.data["text"] = added
    return go("notice.more")


async def ask_english(ctx: Ctx) -> list[Reply]:
    """Residents who read English get an English version, if the coordinator writes one."""
    return [
        Reply(
            ctx.t("notice.ask_english"),
            choices=((Choice(ctx.t("notice.skip"), SKIP),), stop_row(ctx)),
        )
    ]


async def got_english(ctx: Ctx) -> Turn:
    """Record the English text (or none); ask whether a "收到" is wanted."""
    if ctx.incoming.press == SKIP:
        ctx.data["text_en"] = ""
    else:
        text = _clean(ctx.text)
        if len(text) > MAX_TEXT:
            raise Unexpected("notice.text_long", limit=MAX_TEXT)
        ctx.data["text_en"] = text
    return go("notice.ack")


async def ask_ack(ctx: Ctx) -> list[Reply]:
    """Should every household tap "收到"?"""
    return [
        Reply(
            ctx.t("notice.ask_ack"),
            choices=(
                (Choice(ctx.t("notice.ack_yes"), "yes"), Choice(ctx.t("notice.ack_no"), "no")),
                stop_row(ctx),
            ),
        )
    ]


async def got_ack(ctx: Ctx) -> Turn:
    """With "收到": ask for the deadline; without: the preview."""
    if ctx.press not in ("yes", "no"):
        raise Unexpected()
    ctx.data["needs_ack"] = ctx.press == "yes"
    if not ctx.data["needs_ack"]:
        ctx.data["deadline"] = None
        return go("notice.confirm")
    return go("notice.deadline")


def deadline_options(ctx: Ctx) -> list[datetime]:
    """Today 18:00 (while more than two hours ahead), tomorrow 12:00 and 18:00, the day after 18:00."""
    zone = ctx.app.settings.timezone
    now = ctx.app.clock.now()
    today = slots.local_day(now, zone)
    wanted = [(0, 18), (1, 12), (1, 18), (2, 18)]
    found = []
    for days, hour in wanted:
        moment = datetime.combine(today + timedelta(days=days), time(hour), tzinfo=zone)
        if moment - now >= timedelta(hours=2):
            found.append(moment)
    return found


async def ask_deadline(ctx: Ctx) -> list[Reply]:
    """By when must households answer? Door-knock rounds start then."""
    zone, now = ctx.app.settings.timezone, ctx.app.clock.now()
    buttons = [
        Choice(slots.label(m, now, zone, ctx.tr.is_chinese), to_iso(m))
        for m in deadline_options(ctx)
    ]
    return [Reply(ctx.t("notice.ask_deadline"), choices=rows(*buttons, width=2) + (stop_row(ctx),))]


async def got_deadline(ctx: Ctx) -> Turn:
    """Record the deadline (one of those offered, or typed; still ahead); show the preview."""
    if ctx.incoming.kind is Kind.TEXT:
        ctx.data["deadline"] = to_iso(typed_deadline(ctx, ctx.text))
        return go("notice.confirm")
    offered = {to_iso(m) for m in deadline_options(ctx)}
    if ctx.press not in offered:
        raise Unexpected()
    ctx.data["deadline"] = ctx.press
    return go("notice.confirm")


def typed_deadline(ctx: Ctx, text: str) -> datetime:
    """A deadline typed as a date and time, ahead and within reach; else a kind hint."""
    zone, now = ctx.app.settings.timezone, ctx.app.clock.now()
    moment = deadline.read(text, now, zone)
    if moment is None:
        raise Unexpected("notice.deadline_unclear")
    problem = deadline.check(moment, now)
    if problem is not None:
        when = notices.deadline_words(ctx.app, ctx.tr, moment)
        raise Unexpected(f"notice.deadline_{problem}", when=when, days=deadline.MAX_DAYS)
    return moment


async def ask_confirm(ctx: Ctx) -> list[Reply]:
    """The preview: how many households and people it reaches, the text's start, the deadline."""
    audience = await ctx.view(notices.gather, ctx.data["grids"])
    text = ctx.data["text"]
    shown = text if len(text) <= PREVIEW else text[:PREVIEW] + "…"
    lines = [
        ctx.t(
            "notice.preview",
            grids=len(audience.grids),
            households=audience.household_count,
            people=len(audience.recipients),
            groups=len(audience.groups),
            text=shown,
        )
    ]
    if audience.unreachable or audience.unregistered:
        lines.append(
            ctx.t(
                "notice.preview_gaps",
                unreachable=audience.unreachable,
                unregistered=audience.unregistered,
            )
        )
    if ctx.data.get("photo"):
        lines.append(ctx.t("picture.preview_with"))
    if ctx.data.get("deadline"):
        when = notices.deadline_words(ctx.app, ctx.tr, from_iso(ctx.data["deadline"]))
        lines.append(ctx.t("notice.preview_deadline", deadline=when))
    else:
        lines.append(ctx.t("notice.preview_no_ack"))
    return [
        Reply(
            "\n".join(lines),
            choices=(
                (Choice(ctx.t("notice.send"), "send"), Choice(ctx.t("notice.rewrite"), "again")),
                stop_row(ctx),
            ),
        )
    ]


async def got_confirm(ctx: Ctx) -> Turn:
    """Send: the notice is written and starts going out; the progress message follows."""
    if ctx.press == "again":
        return go("notice.text")
    if ctx.press != "send":
        raise Unexpected()
    draft = notices.Draft(
        author_id=str(me(ctx)["id"]),
        grids=tuple(ctx.data["grids"]),
        text=ctx.data["text"],
        text_en=ctx.data.get("text_en", ""),
        needs_ack=bool(ctx.data.get("needs_ack")),
        deadline=ctx.data.get("deadline"),
        photo=ctx.data.get("photo", ""),
    )
    notice = await ctx.atomic(notices.create, ctx.app, draft, ctx.app.clock.now())
    ctx.data = {}
    return end(Reply(ctx.t("notice.started", people=notice["people"])))


NOTICE = Flow(
    name="notice",
    start=start,
    commands=("notice",),
    roles=(people.COORDINATOR,),
    menu_key="notice.menu_write",
    help_key="notice.help_write",
    keywords_key="keywords.notice",
    states={
        "notice.grids": State(ask_grids, stoppable(got_grids)),
        "notice.text": State(ask_text, stoppable(got_text)),
        "notice.more": State(ask_more, stoppable(got_more)),
        "notice.english": State(ask_english, stoppable(got_english)),
        "notice.ack": State(ask_ack, stoppable(got_ack)),
        "notice.deadline": State(ask_deadline, stoppable(got_deadline)),
        "notice.confirm": State(ask_confirm, stoppable(got_confirm)),
    },
)

FLOWS: tuple[Flow, ...] = (NOTICE, notices_view.NOTICES, notices_wellbeing.WELLBEING)
ACTIONS: dict[str, Action] = {
    NoticeButton.ACTION: notices_view.NOTICE_ACTION,
    KnockCheck.ACTION: notices_view.KNOCK_ACTION,
}
