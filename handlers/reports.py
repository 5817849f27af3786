"""/report (随手拍) → category → where (pin or known place) → photo (if asked) → note → case number.

Buttons only, under a minute: every question has a button that moves on, and
typing is needed only for an optional note. The report is anonymous to
volunteers; ``/anonymous`` lets a reporter hide their name from coordinators
too. ``/cases`` (coordinators) is in :mod:`handlers.reports_cases`; buttons on
case messages are the ``rpt`` action in :mod:`handlers.reports_buttons`. This
module's :data:`FLOWS` and :data:`ACTIONS` are the reports side's tables.
"""

from __future__ import annotations

from assistant.conversation.buttons import REPORT
from assistant.conversation.flow import Action, Ctx, Flow, State, Turn, Unexpected, end, go
from assistant.conversation.vocabulary import Choice, Kind, Reply, rows
from assistant.domain import geo
from assistant.services import reports
from assistant.services.people import community
from assistant.store.base import Doc, Tx
from handlers import reports_buttons
from handlers.reports_cases import CASES_FLOW, PLACE_FLOW
from handlers.reports_common import SKIP, me, stop_row, stoppable

PLACE = "place:"
GRID = "grid:"
OTHER_GRIDS = "grids"
MAX_PLACES = 10


async def start(ctx: Ctx) -> Turn:
    """A resident reports something; ask what."""
    person = me(ctx)
    ctx.data = {"by": person["id"], "grid": person.get("grid_id") or ""}
    return go("reports.category")


async def ask_category(ctx: Ctx) -> list[Reply]:
    """Offer every category."""
    chinese = ctx.tr.is_chinese
    buttons = [Choice(c.name(chinese), code) for code, c in reports.categories(ctx.app).items()]
    return [
        Reply(ctx.t("reports.ask_category"), choices=rows(*buttons, width=2) + (stop_row(ctx),))
    ]


async def got_category(ctx: Ctx) -> Turn:
    """Record the category; ask where."""
    if ctx.press not in reports.categories(ctx.app):
        raise Unexpected()
    ctx.data["category"] = ctx.press
    return go("reports.where")


async def ask_where(ctx: Ctx) -> list[Reply]:
    """Ask for a location pin, or a known place of the grid being looked at."""
    places = await ctx.view(reports.of_grid, ctx.data.get("grid") or None)
    chinese = ctx.tr.is_chinese
    buttons = [Choice(reports.place_name(p, chinese), PLACE + p["id"]) for p in places[:MAX_PLACES]]
    layout = rows(*buttons, width=2) + ((Choice(ctx.t("reports.other_grids"), OTHER_GRIDS),),)
    key = "reports.ask_where" if places else "reports.ask_where_pin"
    return [Reply(ctx.t(key), choices=layout + (stop_row(ctx),), request_location=True)]


async def got_where(ctx: Ctx) -> Turn:
    """Record a pin (checked) or a known place (checked it exists); ask for a photo or a note."""
    incoming = ctx.incoming
    if incoming.kind is Kind.LOCATION:
        lat, lon = incoming.location or (None, None)
        if geo.point(lat, lon) is None:
            raise Unexpected("reports.bad_location")
        ctx.data.update(lat=lat, lon=lon, place="")
        return _after_where(ctx)
    if incoming.kind is not Kind.PRESS:
        raise Unexpected("reports.where_hint")
    if ctx.press == OTHER_GRIDS:
        return go("reports.grid")
    if not ctx.press.startswith(PLACE):
        raise Unexpected("reports.where_hint")
    place_id = ctx.press[len(PLACE) :]
    if await ctx.view(_place, place_id) is None:
        raise Unexpected("reports.no_such_place")
    ctx.data.update(place=place_id, lat=None, lon=None)
    return _after_where(ctx)


def _place(tx: Tx, place_id: str) -> Doc | None:
    return tx.get(reports.PLACES, place_id) if place_id else None


def _after_where(ctx: Ctx) -> Turn:
    category = reports.categories(ctx.app).get(ctx.data.get("category", ""))
    return go("reports.photo" if category and category.photo else "reports.note")


async def ask_grid(ctx: Ctx) -> list[Reply]:
    """Offer the micro-grids that have known places."""
    grids = await ctx.view(_grids_with_places)
    buttons = [Choice(name, GRID + grid_id) for grid_id, name in grids]
    return [Reply(ctx.t("reports.ask_grid"), choices=rows(*buttons, width=2) + (stop_row(ctx),))]


def _grids_with_places(tx: Tx) -> list[tuple[str, str]]:
    having = {p["grid_id"] for p in tx.all(reports.PLACES)}
    return [(g, community.grid_name(tx, g)) for g in sorted(having)]


async def got_grid(ctx: Ctx) -> Turn:
    """Look at another grid's places."""
    if not ctx.press.startswith(GRID):
        raise Unexpected()
    grid_id = ctx.press[len(GRID) :]
    if grid_id not in {g for g, _ in await ctx.view(_grids_with_places)}:
        raise Unexpected()
    ctx.data["grid"] = grid_id
    return go("reports.where")


async def ask_photo(ctx: Ctx) -> list[Reply]:
    """Ask for a photo (only volunteers on the case and coordinators see it)."""
    skip = (Choice(ctx.t("reports.skip_photo"), SKIP),)
    days = reports.setting(ctx.app, "photo_retention_days")
    return [Reply(ctx.t("reports.ask_photo", days=days), choices=(skip, stop_row(ctx)))]


async def got_photo(ctx: Ctx) -> Turn:
    """Record the photo's reference (or none); ask for a note."""
    if ctx.incoming.press == SKIP:
        ctx.data["photo"] = ""
        return go("reports.note")
    if ctx.incoming.kind is not Kind.PHOTO or not ctx.incoming.file_ref.startswith("media:"):
        raise Unexpected("reports.photo_hint")
    ctx.data["photo"] = ctx.incoming.file_ref
    return go("reports.note")


async def ask_note(ctx: Ctx) -> list[Reply]:
    """Ask for an optional note; "send" files the report as it is."""
    send = (Choice(ctx.t("reports.send_now"), SKIP),)
    return [Reply(ctx.t("reports.ask_note", limit=reports.MAX_NOTE), choices=(send, stop_row(ctx)))]


async def got_note(ctx: Ctx) -> Turn:
    """Record the note (or none) and file the report; tell the case number."""
    if ctx.incoming.press == SKIP:
        note = ""
    else:
        note = " ".join(ctx.text.split())
        if len(note) > reports.MAX_NOTE:
            raise Unexpected("reports.note_too_long", limit=reports.MAX_NOTE)
    draft = reports.Draft(
        reporter_id=ctx.data["by"],
        category=ctx.data["category"],
        place_id=ctx.data.get("place") or "",
        lat=ctx.data.get("lat"),
        lon=ctx.data.get("lon"),
        photo=ctx.data.get("photo") or "",
        note=note,
        home_grid=(ctx.person or {}).get("grid_id"),
    )
    try:
        filed = await ctx.atomic(reports.submit, ctx.app, draft, ctx.app.clock.now())
    except reports.TooMany as refusal:
        return end(Reply(ctx.t(refusal.key)))  # the form ends: trying again now cannot help
    number = filed.case["number"]
    if filed.merged:
        return end(Reply(ctx.t("reports.merged", number=number)))
    if filed.held:
        return end(Reply(ctx.t("reports.filed_held", number=number)))
    return end(Reply(ctx.t("reports.filed", number=number)))


REPORT_FLOW = Flow(
    name="report",
    start=start,
    commands=("report",),
    menu_key="reports.menu",
    help_key="reports.help",
    keywords_key="keywords.report",
    states={
        "reports.category": State(ask_category, stoppable(got_category)),
        "reports.where": State(ask_where, stoppable(got_where)),
        "reports.grid": State(ask_grid, stoppable(got_grid)),
        "reports.photo": State(ask_photo, stoppable(got_photo)),
        "reports.note": State(ask_note, stoppable(got_note)),
    },
)


# -- /anonymous ------------------------------------------------------------------------------


async def start_anonymous(ctx: Ctx) -> Turn:
    """Show whether the reporter's name is kept from coordinators too; offer to change it."""
    ctx.data = {"by": me(ctx)["id"]}
    return go("reports.anonymous")


async def ask_anonymous(ctx: Ctx) -> list[Reply]:
    """Volunteers never see reporters; coordinators do unless the person says no."""
    record = await ctx.view(reports.reporter, ctx.data["by"])
    key = "reports.anonymous_on" if record.get("always_anonymous") else "reports.anonymous_off"
    choices = (
        (
            Choice(ctx.t("reports.anonymous_always"), "on"),
            Choice(ctx.t("reports.anonymous_usual"), "off"),
        ),
        stop_row(ctx),
    )
    return [Reply(ctx.t(key), choices=choices)]


async def got_anonymous(ctx: Ctx) -> Turn:
    """Record the choice (it counts for the reports from now on)."""
    if ctx.press not in ("on", "off"):
        raise Unexpected()
    await ctx.atomic(reports.set_anonymous, ctx.data["by"], ctx.press == "on")
    return end(
        Reply(
            ctx.t(
                "reports.anonymous_saved_on" if ctx.press == "on" else "reports.anonymous_saved_off"
            )
        )
    )


ANONYMOUS_FLOW = Flow(
    name="report_anonymous",
    start=start_anonymous,
    commands=("anonymous",),
    help_key="reports.help_anonymous",
    keywords_key="keywords.report_anonymous",
    states={"reports.anonymous": State(ask_anonymous, stoppable(got_anonymous))},
)

FLOWS: tuple[Flow, ...] = (REPORT_FLOW, ANONYMOUS_FLOW, CASES_FLOW, PLACE_FLOW)
ACTIONS: dict[str, Action] = {REPORT: reports_buttons.ACTION}
