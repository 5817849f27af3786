"""What coordinators see and do: open cases by grid, the CSV export, held cases, unreliable reporters.

Coordinators see who reported a case — except a reporter who chose "always
anonymous, even to coordinators" — so they can judge a report; volunteers
never do. Every button is re-checked here, inside the deciding transaction:
the presser must be a coordinator (of the case's grid, or of the whole
community when the grid has none).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import TYPE_CHECKING

from assistant.clock import from_iso
from assistant.i18n import Translator
from assistant.services import people
from assistant.services.reports import loop
from assistant.services.reports.notify import public
from assistant.services.reports.records import (
    CASES,
    CLOSED,
    STAGES,
    CaseGone,
    NotCoordinator,
    deadline,
)
from assistant.services.reports.weekly import cases_between
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

EXPORT_COLUMNS = (
    "number",
    "category",
    "tier",
    "grid_id",
    "place",
    "lat",
    "lon",
    "reports",
    "stage",
    "outcome",
    "round",
    "escalated",
    *(f"{stage}_at" for stage in STAGES),
)
"""The export's columns: no reporter, no note, no photo (a file leaves the system)."""


def grids_of(app: App, person: Doc | None) -> list[str] | None:
    """The grids a coordinator looks after (``None``: every grid); :class:`NotCoordinator` else."""
    if not people.has_role(app, person, people.COORDINATOR, people.ADMIN):
        raise NotCoordinator()
    assert person is not None
    mine = list(person.get("coordinator_grids", []))
    return mine or None


def open_cases(tx: Tx, app: App, person: Doc | None) -> list[Doc]:
    """The coordinator's cases not yet closed, by grid then age."""
    grids = grids_of(app, person)
    found = [
        c
        for c in tx.all(CASES)
        if c["stage"] != CLOSED
        and (grids is None or c.get("grid_id") in grids or not c.get("grid_id"))
    ]
    return sorted(found, key=lambda c: (c.get("grid_name", ""), c["created_at"]))


def line(app: App, tr: Translator, case: Doc, now: datetime) -> str:
    """One case for ``/cases``: number, category, place, stage, age, deadline (overdue marked)."""
    words = public(app, tr, case, now)
    due = deadline(case)
    from assistant.domain import slots

    when = slots.dated(due, app.settings.timezone, tr.is_chinese)
    key = (
        "reports.cases_line_overdue"
        if now >= due and case["stage"] in loop_open()
        else "reports.cases_line"
    )
    return tr.t(key, deadline=when, **words)


def loop_open() -> tuple[str, ...]:
    from assistant.services.reports.records import OPEN_STAGES

    return tuple(OPEN_STAGES)


def reporters_words(tx: Tx, tr: Translator, case: Doc) -> str:
    """Who reported, for a coordinator: names, or "anonymous" for those who asked for it."""
    names: list[str] = []
    for report in case.get("reports", []):
        person = (
            tx.get(people.PEOPLE, report.get("reporter_id") or "")
            if report.get("reporter_id")
            else None
        )
        if report.get("anonymous") or person is None or person.get("forgotten"):
            names.append(tr.t("reports.anonymous"))
        else:
            names.append(str(person.get("name") or tr.t("reports.anonymous")))
    return ("、" if tr.is_chinese else ", ").join(names)


def coordinated_case(tx: Tx, app: App, case_id: str, person: Doc | None) -> Doc:
    """A case the presser coordinates; :class:`NotCoordinator` or :class:`CaseGone` else."""
    grids = grids_of(app, person)
    case = tx.get(CASES, case_id)
    if case is None:
        raise CaseGone()
    if grids is not None and case.get("grid_id") and case["grid_id"] not in grids:
        raise NotCoordinator()
    return case


def release(tx: Tx, app: App, case_id: str, person: Doc | None, now: datetime) -> Doc:
    """Dispatch a held case (or one that two "no"s sent here) again."""
    case = coordinated_case(tx, app, case_id, person)
    if case["stage"] == CLOSED:
        raise CaseGone()
    if case.get("held"):
        loop.release(tx, app, case, now)
    elif case["stage"] not in loop_open():
        loop.reopen(tx, app, case, now)
    return case


def dismiss(tx: Tx, app: App, case_id: str, person: Doc | None, now: datetime) -> Doc:
    """Close a case a coordinator finds nothing to do about."""
    case = coordinated_case(tx, app, case_id, person)
    if case["stage"] != CLOSED:
        loop.dismiss(tx, app, case, now)
    return case


def close(tx: Tx, app: App, case_id: str, person: Doc | None, now: datetime) -> Doc:
    """Close a case (handled by the authorities, or settled otherwise)."""
    case = coordinated_case(tx, app, case_id, person)
    if case["stage"] != CLOSED:
        loop.close(tx, app, case, now)
    return case


def mark_unreliable(tx: Tx, app: App, case_id: str, number: int, person: Doc | None) -> None:
    """The reporter of report ``number`` of the case: their new cases wait for a coordinator."""
    case = coordinated_case(tx, app, case_id, person)
    reports = case.get("reports", [])
    if not 0 < number <= len(reports):
        raise CaseGone()
    loop.mark_unreliable(tx, str(reports[number - 1].get("reporter_id") or ""))


def export(tx: Tx, app: App, start: datetime, end: datetime) -> str:
    """Cases made in ``[start, end)`` as CSV text (no reporter, note or photo)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    zone = app.settings.timezone
    for case in cases_between(tx, start, end):
        stages = case.get("stages", {})
        writer.writerow(
            [
                case["number"],
                case["category"],
                case.get("tier", ""),
                case.get("grid_id") or "",
                case.get("place_zh", ""),
                case.get("lat") if case.get("lat") is not None else "",
                case.get("lon") if case.get("lon") is not None else "",
                len(case.get("reports", [])),
                case["stage"],
                case.get("outcome", ""),
                case.get("round", 1),
                ";".join(case.get("escalated", [])),
                *(
                    from_iso(stages[s]).astimezone(zone).isoformat(timespec="minutes")
                    if stages.get(s)
                    else ""
                    for s in STAGES
                ),
            ]
        )
    return out.getvalue()
