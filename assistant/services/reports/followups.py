"""Closing the loop with the followers: "is it resolved now?" an hour after the outcome.

The ``reports.check`` timer (``[reports] check_after_minutes`` after the
outcome) asks every follower with one tap: yes / no / partly. The first "yes"
verifies and closes the case. A "no" (or "partly") reopens it and dispatches it
again; the case's second "no" goes to the coordinator instead. Each follower
answers once per round, so a repeated press or a late button changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from assistant.conversation.buttons import ReportButton, ReportVerb
from assistant.conversation.vocabulary import Choice
from assistant.i18n import Translator
from assistant.services.reports import loop
from assistant.services.reports.notify import note, tell, with_buttons
from assistant.services.reports.records import (
    CASES,
    CLOSED,
    HANDLED,
    VERIFIED,
    CaseGone,
    Check,
    NotFollower,
)
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

NOS_TO_COORDINATOR = 2


def check_job(tx: Tx, app: App, case_id: str, round_no: int) -> None:
    """Ask every follower whether it is resolved, once per round, while the case is handled."""
    case = tx.get(CASES, case_id)
    if case is None or int(case["round"]) != int(round_no) or case["stage"] != HANDLED:
        return
    if int(round_no) in case.get("checked", []):
        return
    case["checked"] = [*case.get("checked", []), int(round_no)]
    tx.put(CASES, case_id, case)
    now = app.clock.now()

    def choices(tr: Translator) -> tuple[tuple[Choice, ...], ...]:
        def button(answer: Check) -> Choice:
            value = ReportButton(ReportVerb.CHECK, case_id, (str(round_no), answer.value)).encode()
            return Choice(tr.t(f"reports.check_{answer.value}"), value)

        return ((button(Check.YES), button(Check.NO), button(Check.PARTLY)),)

    ask = with_buttons(note(app, case, "reports.check_question", now), choices)
    for follower in case.get("followers", []):
        tell(tx, app, follower, ask, now)


def answer(
    tx: Tx, app: App, case_id: str, person_id: str, round_no: int, word: str, now: datetime
) -> str:
    """A follower's answer; return what came of it (``closed``, ``reopened``, ``coordinator``, ``noted``).

    Raises:
        CaseGone: the case is archived or the button is of another round.
        NotFollower: the presser does not follow the case.
    """
    try:
        said = Check(word)
    except ValueError:
        raise CaseGone() from None
    case = tx.get(CASES, case_id)
    if case is None or int(case["round"]) != int(round_no):
        raise CaseGone()
    if person_id not in case.get("followers", []):
        raise NotFollower()
    answers = case.setdefault("answers", {}).setdefault(str(round_no), {})
    if person_id in answers:
        return "noted"
    answers[person_id] = said.value
    tx.put(CASES, case_id, case)
    if said is Check.YES:
        if case["stage"] == HANDLED:
            loop.verify(tx, app, case, now)
            return "closed"
        return "noted"
    if case["stage"] not in (HANDLED, VERIFIED, CLOSED):
        return "noted"  # another follower's "no" already reopened it
    case["no_count"] = int(case.get("no_count", 0)) + 1
    if int(case["no_count"]) >= NOS_TO_COORDINATOR:
        loop.to_coordinator(tx, app, case, now)
        return "coordinator"
    loop.reopen(tx, app, case, now)
    log.info("case %s reopened by a follower", case_id)
    return "reopened"


def is_follower(case: Doc, person_id: str) -> bool:
    """Whether someone follows a case."""
    return person_id in case.get("followers", [])
