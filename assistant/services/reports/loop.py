"""The closed loop of a case: accepted, dispatched as a patrol case, handled, verified, closed.

``reported → accepted → dispatched → handled → verified → closed``, each stage
time-stamped on the case (``stages``, and every move in ``history``). A case is
accepted at once, or — when its reporter was marked unreliable — only when a
coordinator says so (:func:`release`). Dispatch gets it as the task kind
"patrol case" (``kind="patrol"``) for the volunteers with the category's skill,
nearest grid first. A "no" to "is it resolved now?" reopens it (a new round and
a new task); the second "no" goes to the coordinator. Each round has its own
deadline timers, so escalation follows the case as it is now.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from assistant.clock import to_iso
from assistant.conversation.buttons import ReportButton, ReportVerb
from assistant.conversation.vocabulary import Choice
from assistant.domain import geo, urgency
from assistant.i18n import Translator, translator
from assistant.jobs import timers
from assistant.services.reports import index
from assistant.services.reports.notify import (
    Build,
    category_name,
    note,
    place_words,
    tell_coordinators,
    tell_followers,
    with_buttons,
)
from assistant.services.reports.records import (
    ACCEPTED,
    CASES,
    CLOSED,
    DISPATCHED,
    HANDLED,
    KIND,
    REPORTERS,
    VERIFIED,
    categories,
    set_stage,
    setting,
    tier_hours,
    timer_key,
)
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

ARCHIVE_AFTER = timedelta(days=1)
"""A closed case leaves the hot file this long after closing (a late "no" can still reopen it)."""


def keys(app: App, case: Doc) -> list[str]:
    """The index entries of a case."""
    where = geo.point(case.get("lat"), case.get("lon"))
    return index.keys_of(
        case["category"], case.get("place_id", ""), where, float(setting(app, "radius_m"))
    )


def take_in(tx: Tx, app: App, case: Doc, held: bool, now: datetime) -> None:
    """A new case: its deadline timers, then dispatch — or a coordinator first when ``held``."""
    from assistant.services.reports.weekly import ensure_weekly  # it imports this module's peers

    schedule_deadlines(tx, app, case, now)
    ensure_weekly(tx, app)
    if held:
        case["held"] = True
        tx.put(CASES, case["id"], case)
        tell_coordinators(tx, app, case, _held_question(tx, app, case, now), now)
        return
    accept(tx, app, case, now)


def accept(tx: Tx, app: App, case: Doc, now: datetime) -> None:
    """The centre takes the case in and hands it to dispatch."""
    case["held"] = False
    set_stage(case, ACCEPTED, now)
    dispatch_case(tx, app, case, now)


def release(tx: Tx, app: App, case: Doc, now: datetime) -> None:
    """A held case goes on to dispatch (a coordinator said so, or a trusted reporter joined)."""
    if not case.get("held"):
        return
    accept(tx, app, case, now)
    log.info("case %s released for dispatch", case["id"])


def dispatch_case(tx: Tx, app: App, case: Doc, now: datetime) -> None:
    """Open a "patrol case" task for the case's round; the offer names no reporter."""
    category = categories(app).get(case["category"])
    skill = category.skill if category else "patrol"
    task_id = app.dispatch.open_task(
        tx,
        app,
        kind=KIND,
        ref=case["id"],
        skill=skill,
        grid_id=case.get("grid_id"),
        starts_at=now,
        duration_minutes=int(setting(app, "task_minutes")),
        summary=_summary(app, case, now),
        private=_private(case),
        requester_id=str(case["followers"][0] if case.get("followers") else case["id"]),
        payload={"case": case["id"], "round": case["round"]},
    )
    case["task_id"] = task_id
    case["assignee_id"] = ""
    set_stage(case, DISPATCHED, now)
    tx.put(CASES, case["id"], case)
    log.info("case %s dispatched as task %s (round %s)", case["id"], task_id, case["round"])


def _summary(app: App, case: Doc, now: datetime) -> dict[str, str]:
    """What every volunteer offered the case may read: category, count, age, grid, place."""
    zh, en = translator("zh_CN"), translator("en")
    return {
        "title_zh": _title(app, zh, case, now),
        "title_en": _title(app, en, case, now),
        "grid_name": case.get("grid_name", ""),
        "place": place_words(zh, case),
    }


def _private(case: Doc) -> dict[str, str]:
    """What only the volunteer who goes reads: the place and the neighbours' notes."""
    zh, en = translator("zh_CN"), translator("en")
    return {
        "name": "—",
        "address_zh": place_words(zh, case),
        "address_en": place_words(en, case),
        "phone": "",
        "notes": "；".join(r["note"] for r in case.get("reports", []) if r.get("note")),
    }


def refresh_task(tx: Tx, app: App, case: Doc, now: datetime) -> None:
    """A report joined the case: offers still open show the new count, and the notes grow."""
    if not case.get("task_id"):
        return
    app.dispatch.revise_summary(tx, app, case["task_id"], _summary(app, case, now))
    app.dispatch.revise_private(tx, app, case["task_id"], _private(case))


def _title(app: App, tr: Translator, case: Doc, now: datetime) -> str:
    """What an offer calls the case: category, how many reported, how long ago."""
    from assistant.services.reports.notify import age_words

    return tr.t(
        "reports.task_title",
        category=category_name(app, tr, case),
        count=len(case.get("reports", [])),
        age=age_words(tr, case, now),
    )


def handled(tx: Tx, app: App, case: Doc, outcome: str, now: datetime) -> None:
    """The volunteer's outcome: followers told, the check scheduled, the coordinator alerted if needed."""
    case["outcome"] = outcome
    set_stage(case, HANDLED, now)
    tx.put(CASES, case["id"], case)
    window = timedelta(minutes=int(setting(app, "merge_window_minutes")))
    index.add(tx, keys(app, case), case["id"], now, until=now + window)
    tell_followers(tx, app, case, note(app, case, f"reports.outcome_{outcome}", now), now)
    if outcome == "authorities":
        tell_coordinators(
            tx, app, case, _coordinator_choices(app, case, "reports.co_authorities", now), now
        )
        return
    due = now + timedelta(minutes=int(setting(app, "check_after_minutes")))
    key = timer_key("check", case["id"], case["round"])
    timers.schedule(tx, "reports.check", [case["id"], case["round"]], due, now, key=key)


def reopen(tx: Tx, app: App, case: Doc, now: datetime) -> None:
    """ "Not resolved": a new round with its own deadline and a fresh patrol task."""
    case["round"] = int(case["round"]) + 1
    case["outcome"] = ""
    index.add(tx, keys(app, case), case["id"], now)
    tell_followers(tx, app, case, note(app, case, "reports.reopened", now), now)
    schedule_deadlines(tx, app, case, now)
    accept(tx, app, case, now)


def to_coordinator(tx: Tx, app: App, case: Doc, now: datetime) -> None:
    """Two "no"s: the case waits for a coordinator, who may dispatch it again or close it."""
    case["held"] = True
    case["outcome"] = ""
    set_stage(case, ACCEPTED, now)
    tx.put(CASES, case["id"], case)
    index.add(tx, keys(app, case), case["id"], now)
    tell_followers(tx, app, case, note(app, case, "reports.to_coordinator", now), now)
    tell_coordinators(tx, app, case, _coordinator_choices(app, case, "reports.co_twice", now), now)


def verify(tx: Tx, app: App, case: Doc, now: datetime) -> None:
    """A follower says it is resolved: verified, then closed."""
    set_stage(case, VERIFIED, now)
    close(tx, app, case, now)


def close(tx: Tx, app: App, case: Doc, now: datetime) -> None:
    """Close a case: off the index, its timers stopped, archived a day later."""
    case["held"] = False
    set_stage(case, CLOSED, now)
    tx.put(CASES, case["id"], case)
    index.remove(tx, keys(app, case), case["id"], now)
    stop_deadlines(tx, case)
    if case.get("task_id"):
        app.dispatch.cancel_task(tx, app, case["task_id"], "closed")
    key = timer_key("archive", case["id"])
    timers.schedule(tx, "reports.archive", [case["id"]], now + ARCHIVE_AFTER, now, key=key)
    log.info("case %s closed", case["id"])


def dismiss(tx: Tx, app: App, case: Doc, now: datetime) -> None:
    """A coordinator finds nothing to do (a held case): closed, followers told kindly."""
    tell_followers(tx, app, case, note(app, case, "reports.dismissed", now), now)
    close(tx, app, case, now)


def mark_unreliable(tx: Tx, reporter_id: str, unreliable: bool = True) -> None:
    """A coordinator's judgement: this person's new cases wait for a coordinator."""
    if not reporter_id:
        return
    reporter = tx.get(REPORTERS, reporter_id) or {}
    reporter["unreliable"] = unreliable
    tx.put(REPORTERS, reporter_id, reporter)


# -- deadlines ---------------------------------------------------------------------------------


def schedule_deadlines(tx: Tx, app: App, case: Doc, now: datetime) -> None:
    """The round's two escalations: the grid's coordinator, then the community's."""
    category = categories(app).get(case["category"])
    tier = category.tier if category else urgency.Tier.YELLOW
    for stage in urgency.ESCALATION_STAGES:
        due = urgency.escalation_due(now, tier, tier_hours(app), stage)
        if stage == 1:
            case["deadline_at"] = to_iso(due)
        key = timer_key("deadline", case["id"], case["round"], stage)
        timers.schedule(
            tx, "reports.deadline", [case["id"], case["round"], stage], due, now, key=key
        )
    tx.put(CASES, case["id"], case)


def stop_deadlines(tx: Tx, case: Doc) -> None:
    """Cancel the escalations still to come."""
    for stage in urgency.ESCALATION_STAGES:
        timers.cancel(tx, timer_key("deadline", case["id"], case["round"], stage))


def escalate(tx: Tx, app: App, case: Doc, round_no: int, stage: int, now: datetime) -> bool:
    """Past the deadline and still not handled: tell the coordinators; whether it did."""
    mark = f"{round_no}:{stage}"
    if int(case["round"]) != round_no or case["stage"] not in urgency.OPEN_STAGES:
        return False
    if mark in case.get("escalated", []):
        return False
    case["escalated"] = [*case.get("escalated", []), mark]
    tx.put(CASES, case["id"], case)
    key = "reports.co_overdue" if stage == 1 else "reports.co_overdue_community"
    tell_coordinators(
        tx, app, case, _coordinator_choices(app, case, key, now), now, community_wide=stage > 1
    )
    log.info("case %s escalated (stage %s)", case["id"], stage)
    return True


# -- coordinators' buttons ---------------------------------------------------------------------


def _coordinator_choices(app: App, case: Doc, key: str, now: datetime) -> Build:
    """A message to coordinators with "dispatch again" and "close" buttons."""

    def choices(tr: Translator) -> tuple[tuple[Choice, ...], ...]:
        return (
            (
                Choice(
                    tr.t("reports.btn_again"), ReportButton(ReportVerb.AGAIN, case["id"]).encode()
                ),
                Choice(
                    tr.t("reports.btn_close"), ReportButton(ReportVerb.CLOSE, case["id"]).encode()
                ),
            ),
        )

    return with_buttons(note(app, case, key, now), choices)


def _held_question(tx: Tx, app: App, case: Doc, now: datetime) -> Build:
    """To coordinators: a report from someone marked unreliable — dispatch it or not?"""

    def choices(tr: Translator) -> tuple[tuple[Choice, ...], ...]:
        return (
            (
                Choice(
                    tr.t("reports.btn_release"),
                    ReportButton(ReportVerb.RELEASE, case["id"]).encode(),
                ),
                Choice(
                    tr.t("reports.btn_dismiss"),
                    ReportButton(ReportVerb.DISMISS, case["id"]).encode(),
                ),
            ),
        )

    return with_buttons(note(app, case, "reports.co_held", now), choices)


def set_anonymous(tx: Tx, reporter_id: str, always: bool) -> None:
    """The reporter's choice: "always anonymous, even to coordinators" (for their new reports)."""
    reporter = tx.get(REPORTERS, reporter_id) or {}
    reporter["always_anonymous"] = bool(always)
    tx.put(REPORTERS, reporter_id, reporter)


def reporter(tx: Tx, reporter_id: str) -> Doc:
    """A reporter's record (empty for someone who never reported)."""
    return tx.get(REPORTERS, reporter_id) or {}
