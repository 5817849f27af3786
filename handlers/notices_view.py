"""/notices → a notice → its rate per grid, silent households, door-knock rounds; and the buttons.

Coordinators see every notice to their grids with the households' full addresses
and names; volunteers see those of their own grid with the building and unit only.
The buttons outside any form: ``a:notice:ack:<id>`` ("收到", one tap for the
household), ``a:notice:cancel|cancelyes:<id>`` (stop a notice still going out) and
``a:knock:<verb>:<round>:<n>`` (a volunteer's check at one door). Each is checked
again on the server inside its change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.clock import from_iso
from assistant.conversation.buttons import (
    KnockCheck,
    KnockVerb,
    NoticeButton,
    NoticeVerb,
)
from assistant.conversation.flow import Ctx, Flow, State, Turn, Unexpected, end, go, pressed
from assistant.conversation.menus import MENU_PREFIX
from assistant.conversation.vocabulary import Choice, Reply
from assistant.services import notices, people
from assistant.services.people import community
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

SHOWN = 5
SILENT_LINES = 30
BACK = "back"
STOP = "notice.stop"


def _full_view(app: App, person: Doc | None) -> bool:
    """Coordinators (and admins) see addresses and names; volunteers building and unit."""
    return people.has_role(app, person, people.COORDINATOR)


def _grids_of(tx: Tx, app: App, person: Doc) -> list[str]:
    if _full_view(app, person):
        return notices.sendable_grids(tx, app, person)
    own = (person.get("volunteer") or {}).get("grid_id") or person.get("grid_id")
    return [str(own)] if own else []


def _listed(tx: Tx, app: App, person: Doc) -> list[tuple[Doc, list[notices.GridRate]]]:
    grids = _grids_of(tx, app, person)
    return [(n, notices.rates(tx, n)) for n in notices.recent(tx, grids, limit=SHOWN)]


def _title(notice: Doc, size: int = 14) -> str:
    text = " ".join(str(notice.get("text", "")).split())
    return text if len(text) <= size else text[:size] + "…"


def _rate_lines(ctx: Ctx, rates: list[notices.GridRate]) -> list[str]:
    return [
        ctx.t(
            "notice.rate",
            grid=r.grid_name,
            acked=r.acked,
            households=r.households,
            percent=r.percent,
        )
        for r in rates
    ]


async def start(ctx: Ctx) -> Turn:
    """Show the latest notices, or say there are none."""
    if ctx.person is None:
        return end(Reply(ctx.t("core.not_allowed")))
    found = await ctx.view(_listed, ctx.app, ctx.person)
    if not found:
        return end(Reply(ctx.t("notice.none"), choices=_wellbeing_row(ctx)))
    return go("notices.list")


def _wellbeing_row(ctx: Ctx) -> tuple[tuple[Choice, ...], ...]:
    """For coordinators, a button to start a wellbeing round (敲门关怀) from here too."""
    if not _full_view(ctx.app, ctx.person):
        return ()
    return ((Choice(ctx.t("wellbeing.menu"), MENU_PREFIX + "wellbeing"),),)


async def ask_list(ctx: Ctx) -> list[Reply]:
    """Each notice with its status and the rate per grid; a button for each."""
    assert ctx.person is not None
    found = await ctx.view(_listed, ctx.app, ctx.person)
    lines = [ctx.t("notice.list_head")]
    buttons = []
    for number, (notice, rates) in enumerate(found, start=1):
        kind = "wellbeing" if notice.get("kind") == "wellbeing" else notice["status"]
        status = ctx.t(f"notice.status_{kind}")
        lines.append(ctx.t("notice.list_item", number=number, title=_title(notice), status=status))
        lines += ["  " + line for line in _rate_lines(ctx, rates)]
        buttons.append((Choice(f"{number}. {_title(notice, 10)}", notice["id"]),))
    stop = (Choice(ctx.t("notice.stop"), STOP),)
    return [Reply("\n".join(lines), choices=(*buttons, *_wellbeing_row(ctx), stop))]


async def got_list(ctx: Ctx) -> Turn:
    """Open one notice."""
    if ctx.incoming.press == STOP:
        return end(Reply(ctx.t("core.cancelled")), ctx.menu())
    assert ctx.person is not None
    ids = {n["id"] for n, _ in await ctx.view(_listed, ctx.app, ctx.person)}
    if ctx.press not in ids:
        raise Unexpected()
    ctx.data["notice"] = ctx.press
    return go("notices.detail")


def _detail(tx: Tx, app: App, person: Doc, notice_id: str, chinese: bool) -> dict[str, Any]:
    """Everything the detail shows, read in one snapshot (what the reader may see only)."""
    notice = tx.get(notices.NOTICES, notice_id)
    if notice is None:
        return {}
    full = _full_view(app, person)
    mine = set(_grids_of(tx, app, person))
    silent = [
        (community.grid_name(tx, grid_id), notices.describe(tx, household, chinese, full))
        for grid_id, _, household in notices.silent(tx, notice)
        if full or grid_id in mine
    ]
    rounds = []
    for round_id in notice.get("rounds", []):
        found = tx.get(notices.ROUNDS, round_id)
        if found is None or not (full or found["grid_id"] in mine):
            continue
        volunteer = tx.get(people.PEOPLE, str(found.get("assignee_id") or ""))
        done, total = notices.progress(found)
        rounds.append((found["building"], done, total, (volunteer or {}).get("name", "")))
    return {
        "notice": notice,
        "rates": notices.rates(tx, notice),
        "silent": silent,
        "rounds": rounds,
        "cancel": full and notice["status"] == notices.NoticeStatus.SENDING,
    }


async def ask_detail(ctx: Ctx) -> list[Reply]:
    """One notice: its rate per grid, who is still silent, the door-knock rounds."""
    assert ctx.person is not None
    seen = await ctx.view(_detail, ctx.app, ctx.person, ctx.data["notice"], ctx.tr.is_chinese)
    if not seen:
        return [Reply(ctx.t("notice.gone"), choices=((Choice(ctx.t("notice.back"), BACK),),))]
    notice = seen["notice"]
    lines = [ctx.t("notice.detail_head", title=_title(notice, 40))]
    lines += _rate_lines(ctx, seen["rates"])
    if notice.get("needs_ack") and seen["silent"]:
        lines.append(ctx.t("notice.silent_head", count=len(seen["silent"])))
        lines += [f"· {grid} {place}" for grid, place in seen["silent"][:SILENT_LINES]]
        if len(seen["silent"]) > SILENT_LINES:
            lines.append(ctx.t("notice.silent_more", count=len(seen["silent"]) - SILENT_LINES))
    for building, done, total, volunteer in seen["rounds"]:
        complex_name, _, number = building.partition("|")
        place = (
            f"{complex_name} {number}栋"
            if ctx.tr.is_chinese
            else f"{complex_name}, building {number}"
        )
        who = volunteer or ctx.t("notice.round_waiting")
        lines.append(ctx.t("notice.round_line", place=place, done=done, total=total, volunteer=who))
    choices: list[tuple[Choice, ...]] = []
    if seen["cancel"]:
        cancel = NoticeButton(NoticeVerb.CANCEL, notice["id"]).encode()
        choices.append((Choice(ctx.t("notice.cancel"), cancel),))
    choices.append((Choice(ctx.t("notice.back"), BACK), Choice(ctx.t("notice.stop"), STOP)))
    return [Reply("\n".join(lines), choices=tuple(choices))]


async def got_detail(ctx: Ctx) -> Turn:
    """Back to the list, or stop."""
    if ctx.incoming.press == STOP:
        return end(Reply(ctx.t("core.cancelled")), ctx.menu())
    if ctx.press != BACK:
        raise Unexpected()
    return go("notices.list")


NOTICES = Flow(
    name="notices",
    start=start,
    commands=("notices",),
    roles=(people.COORDINATOR, people.VOLUNTEER),
    menu_key="notice.menu_list",
    help_key="notice.help_list",
    keywords_key="keywords.notices",
    states={
        "notices.list": State(ask_list, got_list),
        "notices.detail": State(ask_detail, got_detail),
    },
)


# -- buttons outside the forms ------------------------------------------------------------------


async def on_notice(ctx: Ctx, button: NoticeButton) -> Turn:
    """ "收到" for the household, or the author's cancel and its confirmation."""
    if ctx.person is None:
        return end(Reply(ctx.t("core.button_expired")))
    now = ctx.app.clock.now()
    if button.verb is NoticeVerb.ACK:
        first = await ctx.atomic(notices.acknowledge, ctx.app, button.notice_id, ctx.person, now)
        return end(Reply(ctx.t("notice.acked" if first else "notice.acked_before")))
    if button.verb is NoticeVerb.CANCEL:
        await ctx.view(_may_cancel, ctx.app, button.notice_id, ctx.person)
        sure = NoticeButton(NoticeVerb.CANCEL_YES, button.notice_id).encode()
        return end(
            Reply(
                ctx.t("notice.cancel_sure"), choices=((Choice(ctx.t("notice.cancel_yes"), sure),),)
            )
        )
    reached = await ctx.atomic(_cancel, ctx.app, button.notice_id, ctx.person, now)
    return end(Reply(ctx.t("notice.cancelled", reached=reached)))


def _may_cancel(tx: Tx, app: App, notice_id: str, person: Doc) -> Doc:
    """The notice, if the person may cancel it now.

    Raises:
        NoticeGone, NotSending, NotCoordinator: it cannot be cancelled (by them).
    """
    notice = tx.get(notices.NOTICES, notice_id)
    if notice is None:
        raise notices.NoticeGone()
    if notice["status"] != notices.NoticeStatus.SENDING:
        raise notices.NotSending()
    if (
        not notices.may_send(app, person, notice["grids"])
        and notice.get("author_id") != person["id"]
    ):
        raise notices.NotCoordinator()
    return notice


def _cancel(tx: Tx, app: App, notice_id: str, person: Doc, now: Any) -> int:
    _may_cancel(tx, app, notice_id, person)
    return notices.cancel(tx, app, notice_id, person, now)


async def on_knock(ctx: Ctx, button: KnockCheck) -> Turn:
    """A volunteer's check at one door; "needs help" first asks which help."""
    if ctx.person is None:
        return end(Reply(ctx.t("core.button_expired")))
    if button.verb is KnockVerb.HELP:
        await ctx.view(notices.entry_of, button.round_id, button.index, ctx.person)
        choices = notices.help_choices(ctx.tr, button.round_id, button.index)
        return end(Reply(ctx.t("knock.ask_help"), choices=choices))
    now = ctx.app.clock.now()
    done = await ctx.atomic(
        notices.record, ctx.app, button.round_id, button.index, button.verb, ctx.person, now
    )
    values = dict(done.values)
    if "at" in values:
        values["when"] = notices.deadline_words(ctx.app, ctx.tr, from_iso(values.pop("at")))
    lines = [ctx.t(done.key, **values)]
    lines.append(ctx.t("knock.left", count=done.left) if done.left else ctx.t("knock.all_done"))
    return end(Reply("\n".join(lines)))


NOTICE_ACTION = pressed(NoticeButton.parse, on_notice)
KNOCK_ACTION = pressed(KnockCheck.parse, on_knock)
