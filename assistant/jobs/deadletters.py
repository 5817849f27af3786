"""Telling the admins, once, that a timer is dead.

The message names the job, the timer id and the error's class — nothing a
job's arguments hold, since those can carry names, addresses and health notes.
It goes through the outbox to every address of ``[roles] admins``, in the
community's language (``[community] language``), keyed by the timer so that it
is posted once per death; a dead report is never reported in turn.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from assistant.conversation.vocabulary import Address, Outbound, Reply
from assistant.i18n import translator
from assistant.jobs import outbox
from assistant.jobs.timers import Timer
from assistant.store.base import Tx

if TYPE_CHECKING:
    from assistant.app import App

REPORT_KEY = "jobs.dead:"


def report(tx: Tx, app: App, timer: Timer, now: datetime) -> int:
    """Post the dead-timer notice to each admin address; return how many were posted."""
    tr = translator(str(app.settings.get("community", "language")))
    text = tr.t(
        "jobs.dead_report",
        job=timer.job,
        timer=timer.id,
        error=timer.extra.get("error") or "?",
        attempts=timer.attempts,
    )
    posted = 0
    for address in app.settings.admins:
        message = Outbound(to=Address(address), reply=Reply(text), language=tr.language)
        outbox.post(tx, message, now, key=f"{REPORT_KEY}{timer.id}:{address}")
        posted += 1
    return posted
