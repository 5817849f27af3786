"""What the activities context registers from the composition root: its job and its forgetter.

activities.remind   the reminder the day before (see :mod:`.signups`)
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from assistant.jobs import timers
from assistant.jobs.table import JobSpec
from assistant.services.activities import signups
from assistant.services.activities.records import LIVE, SESSIONS, SIGNUPS, SignupStatus
from assistant.store.base import Tx

if TYPE_CHECKING:
    from assistant.app import App

JOBS: dict[str, JobSpec] = {
    signups.REMIND: JobSpec(signups.remind_job, max_retries=5, in_unit=True),
    signups.ARCHIVE: JobSpec(signups.archive_session_job, max_retries=5, in_unit=True),
}


def forget(tx: Tx, app: App, person_id: str, addresses: frozenset[str], now: datetime) -> None:
    """``/forget``: places still to come are given back (the waiting list moves up), and every
    sign-up of the person, archived ones too, keeps no trace of who it was."""
    for signup in [*tx.all(SIGNUPS), *tx.archived(SIGNUPS)]:
        if person_id not in (signup["person_id"], signup["booked_by"]):
            continue
        if signup["status"] in LIVE and signup["person_id"] == person_id:
            timers.cancel(tx, f"act-remind:{signup['id']}")
            session = tx.get(SESSIONS, signup["session_id"])
            if session is not None:
                session["waiting"] = [w for w in session["waiting"] if w != signup["id"]]
                if signup["status"] == SignupStatus.BOOKED:
                    session["count"] = max(0, int(session["count"]) - 1)
                    signups._promote(tx, app, session, now)
                tx.put(SESSIONS, signup["session_id"], session)
            signup["status"] = SignupStatus.CANCELLED.value
        for field in ("person_id", "booked_by", "cancelled_by", "marked_by"):
            if signup.get(field) == person_id:
                signup[field] = "—"
        tx.purge(SIGNUPS, signup["id"], signup)
