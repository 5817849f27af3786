"""What the notices context registers from the composition root: jobs, task kind, forgetter.

    notices.fanout       one round of a notice going out (see :mod:`.sending`)
    notices.remind       the reminder to silent households before the deadline
    notices.deadline     silent households become door-knock rounds (see :mod:`.knock`)
    notices.knock_again  a "not home" household's card again the next day
    notices.tidy         daily: finished notices move to the archive (see :mod:`.archive`)

``TASK_KIND`` is the "door-knock round" (``kind="knock"``) opened with dispatch;
its listener is :func:`.knock.heard`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from assistant.jobs import timers
from assistant.jobs.table import JobSpec
from assistant.services.dispatch.kinds import TaskKind
from assistant.services.notices import acks, archive, knock, sending
from assistant.services.notices.records import BATCHES, HOUSEHOLDS, KIND, NOTICES, ROUNDS
from assistant.store.base import Tx

if TYPE_CHECKING:
    from assistant.app import App

JOBS: dict[str, JobSpec] = {
    sending.FANOUT: JobSpec(sending.fanout_job, max_retries=8, in_unit=True),
    sending.REMIND: JobSpec(acks.remind_job, max_retries=5, in_unit=True),
    sending.DEADLINE: JobSpec(knock.deadline_job, max_retries=5, in_unit=True),
    knock.AGAIN: JobSpec(knock.again_job, max_retries=5, in_unit=True),
    archive.TIDY: JobSpec(archive.tidy_job, max_retries=5, in_unit=True),
}

TASK_KIND = TaskKind(
    name=KIND, title_zh="敲门行动", title_en="Door-knock round", listener=knock.heard
)


def forget(tx: Tx, app: App, person_id: str, addresses: frozenset[str], now: datetime) -> None:
    """``/forget``: no copy still to come, and no trace of the person in any notice record.

    Copies and reminders waiting in the outbox are withdrawn; the person leaves
    the recipients, the households' members and acknowledgements (the household
    keeps "acknowledged", anonymously), and the door-knock rounds; notices they
    wrote keep their text but no author.
    """
    for timer in tx.all(timers.TIMERS):
        key = str(timer.get("key", ""))
        if (
            timer["status"] in timers.LIVE
            and key.startswith("nt:")
            and key.split(":")[2] == person_id
        ):
            timers.cancel(tx, key)
    for batch in [*tx.all(BATCHES), *tx.archived(BATCHES)]:
        kept = [p for p in batch["people"] if p["person_id"] != person_id]
        if len(kept) != len(batch["people"]):
            tx.purge(BATCHES, batch["id"], {**batch, "people": kept})
    for doc in [*tx.all(HOUSEHOLDS), *tx.archived(HOUSEHOLDS)]:
        if _scrub_households(doc["households"].values(), person_id):
            tx.purge(HOUSEHOLDS, doc["id"], doc)
    for found in [*tx.all(ROUNDS), *tx.archived(ROUNDS)]:
        if (
            _scrub_households(found["households"], person_id)
            or found.get("assignee_id") == person_id
        ):
            if found.get("assignee_id") == person_id:
                found["assignee_id"] = None
            tx.purge(ROUNDS, found["id"], found)
    for notice in [*tx.all(NOTICES), *tx.archived(NOTICES)]:
        if person_id in (notice.get("author_id"), notice.get("cancelled_by")):
            if notice.get("author_id") == person_id:
                notice["author_id"] = ""
            if notice.get("cancelled_by") == person_id:
                notice["cancelled_by"] = ""
            tx.purge(NOTICES, notice["id"], notice)


def _scrub_households(households: object, person_id: str) -> bool:
    changed = False
    for household in households:  # type: ignore[attr-defined]
        if person_id in household.get("members", []):
            household["members"] = [m for m in household["members"] if m != person_id]
            if not household["members"]:
                household["home"] = None  # nobody left whose address it was
            changed = True
        if household.get("acked_by") == person_id:
            household["acked_by"] = "—"
            changed = True
    return changed
