"""The patrol case's side of dispatch: what the case hears, and the volunteer's outcome.

Dispatch calls :func:`heard` — the listener of the "patrol case" task kind
(``reports.TASK_KIND``) — inside its ``dispatch.event`` job's unit of work,
at least once. On ``assigned`` the volunteer gets the notes and photos (never
who reported) with the outcome buttons: persuaded, dispersed, fixed, not found,
needs the authorities. The outcome (:func:`record_outcome`) closes the task
through dispatch in the same unit of work; a volunteer who used dispatch's own
"done" / "could not complete" buttons instead is heard as "handled" / "not
found". Events of an older round, or heard before, change nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.conversation.buttons import ReportButton, ReportVerb
from assistant.conversation.vocabulary import Choice, Reply
from assistant.i18n import Translator
from assistant.services.reports import loop
from assistant.services.reports.notify import Build, note, public, tell, tell_followers
from assistant.services.reports.records import (
    CASES,
    DISPATCHED,
    CaseGone,
    NotAssignee,
    Outcome,
)
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

HANDLED_PLAIN = "handled"
"""The outcome of a volunteer who pressed dispatch's plain "done"."""


def heard(tx: Tx, app: App, case_id: str, event: str, task: dict[str, Any]) -> None:
    """The patrol case's listener: follow the task of the case's current round."""
    case = tx.get(CASES, case_id)
    if case is None or case.get("task_id") != task.get("id"):
        return
    now = app.clock.now()
    if event == "assigned":
        _assigned(tx, app, case, str(task.get("assignee_id") or ""), now)
    elif event == "dropped":
        case["assignee_id"] = ""
        tx.put(CASES, case_id, case)
    elif event in ("done", "failed") and case["stage"] == DISPATCHED:
        outcome = HANDLED_PLAIN if event == "done" else Outcome.NOT_FOUND.value
        loop.handled(tx, app, case, outcome, now)
    log.debug("case %s heard %s", case_id, event)


def _assigned(tx: Tx, app: App, case: Doc, volunteer_id: str, now: datetime) -> None:
    """A volunteer took the case: they get notes, photos and outcome buttons; followers hear."""
    if not volunteer_id or case.get("assignee_id") == volunteer_id or case["stage"] != DISPATCHED:
        return
    case["assignee_id"] = volunteer_id
    case["assigned_at"] = now.isoformat()
    tx.put(CASES, case["id"], case)
    tell(tx, app, volunteer_id, patrol_details(app, case, now), now)
    for report in case.get("reports", []):
        if report.get("photo"):
            tell(
                tx,
                app,
                volunteer_id,
                note(app, case, "reports.photo_caption", now),
                now,
                report["photo"],
            )
    tell_followers(tx, app, case, note(app, case, "reports.assigned", now), now)


def patrol_details(app: App, case: Doc, now: datetime) -> Build:
    """The assignee's message: what, where, the notes, and the outcome buttons."""

    def build(tr: Translator) -> Reply:
        notes = [r["note"] for r in case.get("reports", []) if r.get("note")]
        text = tr.t(
            "reports.patrol_details",
            notes="\n".join(f"· {n}" for n in notes) or tr.t("reports.no_notes"),
            **public(app, tr, case, now),
        )
        return Reply(text, choices=outcome_buttons(tr, case))

    return build


def outcome_buttons(tr: Translator, case: Doc) -> tuple[tuple[Choice, ...], ...]:
    """已劝导 / 已疏散 / 已修好 // 没找到 / 需要有关部门."""

    def button(outcome: Outcome) -> Choice:
        value = ReportButton(ReportVerb.OUTCOME, case["id"], (outcome.value,)).encode()
        return Choice(tr.t(f"reports.btn_{outcome.value}"), value)

    return (
        (button(Outcome.PERSUADED), button(Outcome.DISPERSED), button(Outcome.FIXED)),
        (button(Outcome.NOT_FOUND), button(Outcome.AUTHORITIES)),
    )


def record_outcome(tx: Tx, app: App, case_id: str, person_id: str, word: str, now: datetime) -> Doc:
    """The assignee's outcome: the case handled, the task closed through dispatch; return the case.

    Pressing it again is harmless. Raises :class:`NotAssignee` for anyone but
    the volunteer holding the case's task, :class:`CaseGone` for a closed case.
    """
    from assistant.services import dispatch

    try:
        outcome = Outcome(word)
    except ValueError:
        raise CaseGone() from None
    case = tx.get(CASES, case_id)
    if case is None:
        raise CaseGone()
    if not person_id or case.get("assignee_id") != person_id:
        raise NotAssignee()
    if case["stage"] != DISPATCHED:
        if case.get("outcome"):
            return case  # pressed twice
        raise CaseGone()
    task_id = str(case["task_id"])
    loop.handled(tx, app, case, outcome.value, now)
    resolved = outcome in (Outcome.PERSUADED, Outcome.DISPERSED, Outcome.FIXED)
    try:
        if resolved:
            dispatch.step(tx, app, task_id, person_id, "done")
        else:
            dispatch.step(tx, app, task_id, person_id, "fail", "other")
    except dispatch.DispatchError:
        log.info("case %s: task %s was already closed", case_id, task_id)
    return case
