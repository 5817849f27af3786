"""What the reports context registers from the composition root: its jobs and its task kind.

    reports.deadline      a round's deadline (stage 1: the grid's coordinator) and twice it
                          (stage 2: the community's), if the case is still not handled
    reports.check         "is it resolved now?" to the followers, after the outcome
    reports.expire_photo  a report's photo deleted (media record and case) after the retention
    reports.archive       a closed case leaves the hot file a day later
    reports.weekly        Monday's chart of last week's reports to each coordinator
    reports.expire_chart  a weekly chart deleted (media record, bytes, file) after the retention

Every job runs in its timer's unit of work and re-checks the case first, so a
job delivered twice, or late, changes nothing. ``TASK_KIND`` is the "patrol
case" (``kind="patrol"``); its listener is :func:`~.events.heard`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from assistant.jobs.table import JobSpec
from assistant.services.dispatch.kinds import TaskKind
from assistant.services.reports import followups, loop, weekly
from assistant.services.reports.events import heard
from assistant.services.reports.records import CASES, CLOSED, KIND, MEDIA
from assistant.store.base import Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)


def deadline_job(tx: Tx, app: App, case_id: str, round_no: int, stage: int) -> None:
    """Escalate a case that is past its deadline and still not handled."""
    case = tx.get(CASES, case_id)
    if case is not None:
        loop.escalate(tx, app, case, int(round_no), int(stage), app.clock.now())


def expire_photo_job(tx: Tx, app: App, case_id: str, number: int) -> None:
    """Delete report ``number``'s photo: the media record and the reference, leaving no copy."""
    case = tx.get(CASES, case_id)
    if case is None or not 0 < int(number) <= len(case.get("reports", [])):
        return
    report = case["reports"][int(number) - 1]
    ref = str(report.get("photo") or "")
    if not ref:
        return
    tx.purge(MEDIA, ref.removeprefix("media:"))
    report["photo"] = ""
    report["photo_expired"] = True
    tx.purge(CASES, case_id, case)
    log.info("case %s: photo of report %s deleted", case_id, number)


def archive_job(tx: Tx, app: App, case_id: str) -> None:
    """Move a case that is still closed to the archive."""
    case = tx.get(CASES, case_id)
    if case is None or case["stage"] != CLOSED:
        return
    hot = {c["id"] for c in tx.find(CASES, id=case_id)}
    if case_id in hot:
        tx.archive(CASES, case_id)


JOBS: dict[str, JobSpec] = {
    "reports.deadline": JobSpec(deadline_job, max_retries=5, in_unit=True),
    "reports.check": JobSpec(followups.check_job, max_retries=5, in_unit=True),
    "reports.expire_photo": JobSpec(expire_photo_job, max_retries=10, in_unit=True),
    "reports.archive": JobSpec(archive_job, max_retries=5, in_unit=True),
    "reports.weekly": JobSpec(weekly.weekly_job, max_retries=3, in_unit=True),
    "reports.expire_chart": JobSpec(weekly.expire_chart_job, max_retries=10, in_unit=True),
}

TASK_KIND = TaskKind(name=KIND, title_zh="巡护劝导", title_en="Patrol case", listener=heard)
