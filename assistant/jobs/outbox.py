"""The outbox: messages to people, written with the change that causes them.

A service that must tell someone something (an offer, a reminder, a note to
a coordinator) calls :func:`post` inside its unit of work. The message becomes
a timer due now, handed to the workers when the change has committed, retried
by the scheduler if sending fails or a queue message or worker is lost, and
sent once: the timer is marked done right after the network accepted it.

A sent (or cancelled) message keeps no body: its timer goes to the archive
with only what an audit needs — to whom, in which language, from which
message template, and when — because bodies carry names, addresses and
health notes that must not outlive their delivery.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from assistant.conversation.vocabulary import (
    Address,
    Outbound,
    outbound_from_dict,
    outbound_to_dict,
)
from assistant.i18n import template_of
from assistant.jobs import timers
from assistant.jobs.audit import OUTBOX_JOB
from assistant.jobs.audit import message as audit
from assistant.jobs.table import JobSpec
from assistant.store.base import Tx

if TYPE_CHECKING:
    from datetime import datetime

    from assistant.app import App

log = logging.getLogger(__name__)


def post(
    tx: Tx, message: Outbound, now: datetime, due: datetime | None = None, key: str = ""
) -> str:
    """Queue a message inside the caller's unit of work; return its timer id.

    A message due now is handed to the workers after the commit by the unit of
    work; a later one (``due``) by the scheduler.
    """
    payload = outbound_to_dict(message)
    payload["template"] = template_of(message.reply.text)
    return timers.schedule(tx, OUTBOX_JOB, [payload], due or now, now, key=key)


def deliver_job(app: App, payload: dict[str, Any]) -> None:
    """Send one queued message through the delivery port."""
    message = outbound_from_dict(payload)
    app.delivery.deliver(addressed_now(app, message))


def addressed_now(app: App, message: Outbound) -> Outbound:
    """The message to the address its person uses now (one person on two networks).

    Resolved at send time, so a person who wrote on Matrix after the message was
    queued gets it there. A message bound to its address stays: a keyed message or
    an edit (it must reach the chat where its first version went) and one pinned
    by ``meta["pin"]``.
    """
    from assistant.services.people import persons

    if message.reply.key or message.reply.edit or message.meta.get(persons.PIN) == "1":
        return message
    with app.store.snapshot() as tx:
        now_to = persons.current_address(tx, message.to)
    return message if now_to == message.to else replace(message, to=Address(now_to))


JOBS: dict[str, JobSpec] = {
    OUTBOX_JOB: JobSpec(deliver_job, max_retries=8, audit=audit),
}
"""The outbox's job, registered by the composition root with the jobs core."""
