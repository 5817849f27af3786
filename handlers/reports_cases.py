"""/cases (coordinators) → open cases by grid → one case's stages, reporters and buttons; /place.

``/cases`` lists the coordinator's open cases with age, stage and deadline
(overdue ones marked); a case's button shows its stage times, who reported
(unless they chose to stay anonymous even to coordinators) and what the
coordinator may do: dispatch, dispatch again, close, mark a reporter
unreliable. ``/place`` adds a known place: name (and an English name after a slash) → micro-grid →
pin (or none).
"""

from __future__ import annotations

from assistant.clock import from_iso
from assistant.conversation.buttons import ReportButton, ReportVerb
from assistant.conversation.flow import Ctx, Flow, State, Turn, Unexpected, end, go
from assistant.conversation.vocabulary import Choice, Kind, Reply, rows
from assistant.domain import geo, slots
from assistant.services import people, reports
from assistant.services.people import community
from assistant.services.reports import places as report_places
from assistant.store.base import Doc, Tx
from handlers.reports_common import SKIP, stop_row, stoppable

CASE = "case:"
MAX_LISTED = 12
STAFF = (people.COORDINATOR, people.ADMIN)


async def start_cases(ctx: Ctx) -> Turn:
    """A coordinator looks at the open cases."""
    ctx.data = {}
    return go("reports.cases")


async def ask_cases(ctx: Ctx) -> list[Reply]:
    """The open cases by grid, each with a button to look closer."""
    now = ctx.app.clock.now()
    found = await ctx.view(reports.open_cases, ctx.app, ctx.person)
    if not found:
        return [Reply(ctx.t("reports.cases_none"), choices=(stop_row(ctx),))]
    lines = [ctx.t("reports.cases_head", count=len(found))]
    grid = None
    for case in found[:MAX_LISTED]:
        if case.get("grid_name", "") != grid:
            grid = case.get("grid_name", "")
            lines.append(f"【{grid or ctx.t('reports.no_grid')}】")
        lines.append(reports.line(ctx.app, ctx.tr, case, now))
    buttons = [Choice(case["number"], CASE + case["id"]) for case in found[:MAX_LISTED]]
    return [Reply("\n".join(lines), choices=rows(*buttons, width=3) + (stop_row(ctx),))]


async def got_case(ctx: Ctx) -> Turn:
    """Show one case."""
    if not ctx.press.startswith(CASE):
        raise Unexpected()
    ctx.data["case"] = ctx.press[len(CASE) :]
    return go("reports.case")


async def ask_case(ctx: Ctx) -> list[Reply]:
    """The case's stages with their times, the reporters, and the coordinator's buttons."""
    case, reporters = await ctx.view(_case_and_reporters, ctx, ctx.data.get("case", ""))
    zone = ctx.app.settings.timezone
    chinese = ctx.tr.is_chinese
    stages = [
        ctx.t(f"reports.stage_{s['stage']}") + " " + slots.dated(from_iso(s["at"]), zone, chinese)
        for s in case.get("history", [])
    ]
    notes = [r["note"] for r in case.get("reports", []) if r.get("note")]
    text = ctx.t(
        "reports.case_detail",
        stages="\n".join(stages),
        reporters=reporters,
        notes="\n".join(notes) or ctx.t("reports.no_notes"),
        outcome=ctx.t(f"reports.outcome_word_{case['outcome']}") if case.get("outcome") else "—",
        **reports.public(ctx.app, ctx.tr, case, ctx.app.clock.now()),
    )
    return [Reply(text, choices=_case_buttons(ctx, case))]


def _case_and_reporters(tx: Tx, ctx: Ctx, case_id: str) -> tuple[Doc, str]:
    case = reports.coordinated_case(tx, ctx.app, case_id, ctx.person)
    return case, reports.reporters_words(tx, ctx.tr, case)


def _case_buttons(ctx: Ctx, case: Doc) -> tuple[tuple[Choice, ...], ...]:
    """What a coordinator may do with this case now."""
    first: list[Choice] = []
    if case.get("held"):
        first.append(
            Choice(
                ctx.t("reports.btn_release"), ReportButton(ReportVerb.RELEASE, case["id"]).encode()
            )
        )
    elif case["stage"] in ("handled", "verified"):
        first.append(
            Choice(ctx.t("reports.btn_again"), ReportButton(ReportVerb.AGAIN, case["id"]).encode())
        )
    first.append(
        Choice(ctx.t("reports.btn_close"), ReportButton(ReportVerb.CLOSE, case["id"]).encode())
    )
    flags = [
        Choice(
            ctx.t("reports.btn_unreliable", n=n),
            ReportButton(ReportVerb.UNRELIABLE, case["id"], (str(n),)).encode(),
        )
        for n, report in enumerate(case.get("reports", []), start=1)
        if report.get("reporter_id") and not report.get("anonymous")
    ][:3]
    layout: tuple[tuple[Choice, ...], ...] = (tuple(first),)
    if flags:
        layout += (tuple(flags),)
    return layout + ((Choice(ctx.t("reports.back"), "back"),), stop_row(ctx))


async def got_case_button(ctx: Ctx) -> Turn:
    """Back to the list (the case's own buttons are actions)."""
    if ctx.press != "back":
        raise Unexpected()
    return go("reports.cases")


CASES_FLOW = Flow(
    name="report_cases",
    start=start_cases,
    commands=("cases",),
    roles=STAFF,
    menu_key="reports.menu_cases",
    help_key="reports.help_cases",
    keywords_key="keywords.report_cases",
    states={
        "reports.cases": State(ask_cases, stoppable(got_case)),
        "reports.case": State(ask_case, stoppable(got_case_button)),
    },
)


# -- /place ----------------------------------------------------------------------------------

MAX_PLACE_NAME = report_places.MAX_NAME


async def start_place(ctx: Ctx) -> Turn:
    """A coordinator adds a known place; ask its name."""
    ctx.data = {}
    return go("reports.place_name")


async def ask_place_name(ctx: Ctx) -> list[Reply]:
    return [Reply(ctx.t("reports.ask_place_name", limit=MAX_PLACE_NAME), choices=(stop_row(ctx),))]


async def got_place_name(ctx: Ctx) -> Turn:
    """Record the name (``中文名 / English name``, the English part optional); ask which grid."""
    chinese, _, english = " ".join(ctx.text.split()).partition("/")
    name, name_en = chinese.strip(), english.strip()
    if not 2 <= len(name) <= MAX_PLACE_NAME or len(name_en) > MAX_PLACE_NAME:
        raise Unexpected("reports.place_name_bad", limit=MAX_PLACE_NAME)
    ctx.data["name"], ctx.data["name_en"] = name, name_en
    return go("reports.place_grid")


async def ask_place_grid(ctx: Ctx) -> list[Reply]:
    grids = await ctx.view(_my_grids, ctx)
    buttons = [Choice(name, "grid:" + gid) for gid, name in grids]
    return [
        Reply(ctx.t("reports.ask_place_grid"), choices=rows(*buttons, width=2) + (stop_row(ctx),))
    ]


def _my_grids(tx: Tx, ctx: Ctx) -> list[tuple[str, str]]:
    mine = reports.grids_of(ctx.app, ctx.person)
    every = sorted(g["id"] for g in tx.all(community.GRIDS))
    return [(g, community.grid_name(tx, g)) for g in every if mine is None or g in mine]


async def got_place_grid(ctx: Ctx) -> Turn:
    """Record the grid (one the coordinator looks after); ask for a pin."""
    grid_id = ctx.press.removeprefix("grid:")
    if grid_id not in {g for g, _ in await ctx.view(_my_grids, ctx)}:
        raise Unexpected()
    ctx.data["grid"] = grid_id
    return go("reports.place_pin")


async def ask_place_pin(ctx: Ctx) -> list[Reply]:
    skip = (Choice(ctx.t("reports.place_no_pin"), SKIP),)
    return [
        Reply(ctx.t("reports.ask_place_pin"), choices=(skip, stop_row(ctx)), request_location=True)
    ]


async def got_place_pin(ctx: Ctx) -> Turn:
    """Save the place (with its pin, if sent)."""
    where = None
    if ctx.incoming.kind is Kind.LOCATION:
        lat, lon = ctx.incoming.location or (None, None)
        where = geo.point(lat, lon)
        if where is None:
            raise Unexpected("reports.bad_location")
    elif ctx.incoming.press != SKIP:
        raise Unexpected("reports.where_hint")
    await ctx.atomic(_save_place, ctx, where)
    saved = {"name_zh": ctx.data["name"], "name_en": ctx.data.get("name_en", "")}
    name = report_places.place_name(saved, ctx.tr.is_chinese)
    return end(Reply(ctx.t("reports.place_saved", name=name)))


def _save_place(tx: Tx, ctx: Ctx, where: geo.Point | None) -> None:
    if ctx.data["grid"] not in {g for g, _ in _my_grids(tx, ctx)}:
        raise reports.NotCoordinator()
    report_places.add(
        tx,
        grid_id=ctx.data["grid"],
        name_zh=ctx.data["name"],
        name_en=ctx.data.get("name_en", ""),
        where=where,
        now=ctx.app.clock.now(),
    )


PLACE_FLOW = Flow(
    name="report_place",
    start=start_place,
    commands=("place",),
    roles=STAFF,
    help_key="reports.help_place",
    keywords_key="keywords.report_place",
    states={
        "reports.place_name": State(ask_place_name, stoppable(got_place_name)),
        "reports.place_grid": State(ask_place_grid, stoppable(got_place_grid)),
        "reports.place_pin": State(ask_place_pin, stoppable(got_place_pin)),
    },
)
