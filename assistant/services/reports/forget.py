"""``/forget`` for reports: a reporter's traces leave every case, hot and archived.

The case stays (its place, category and stages count for the centre), but the
person's reports lose who made them, their note and their photo (the media
record is deleted too), and the person no longer follows the case. Their
reporter record (recent report times, flags, preferences) goes. Every change
is a ``tx.purge``, so no earlier version stays in an archive file.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from assistant.services.reports.records import CASES, MEDIA, REPORTERS
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App


def forget(tx: Tx, app: App, person_id: str, addresses: frozenset[str], now: datetime) -> None:
    """Purge a person from every case and drop their reporter record."""
    seen: set[str] = set()
    for case in [*tx.all(CASES), *tx.archived(CASES)]:
        if case["id"] in seen:
            continue
        seen.add(case["id"])
        if _scrub(tx, case, person_id):
            tx.purge(CASES, case["id"], case)
    if tx.get(REPORTERS, person_id) is not None:
        tx.purge(REPORTERS, person_id)


def _scrub(tx: Tx, case: Doc, person_id: str) -> bool:
    """Remove the person from one case; whether anything changed."""
    changed = person_id in case.get("followers", [])
    case["followers"] = [f for f in case.get("followers", []) if f != person_id]
    for report in case.get("reports", []):
        if report.get("reporter_id") != person_id:
            continue
        changed = True
        if report.get("photo"):
            tx.purge(MEDIA, str(report["photo"]).removeprefix("media:"))
        report.update(reporter_id="", note="", photo="", anonymous=True)
    for answers in case.get("answers", {}).values():
        if person_id in answers:
            answers.pop(person_id)
            changed = True
    if case.get("assignee_id") == person_id:
        case["assignee_id"] = ""
        changed = True
    return changed
