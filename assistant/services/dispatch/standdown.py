"""A volunteer who may no longer help: open offers withdrawn, accepted tasks handed back.

When an administrator revokes the ``volunteer`` role (``assistant role revoke``)
or a coordinator declines a volunteer who was approved before, the person keeps
no rights: every open offer they hold is closed and its message edited to "no
longer needed", and every task they accepted goes back to dispatch for a fresh
round of waves without them (the feature hears ``dropped``). Accepting is also
checked again inside the deciding transaction (see
:func:`~assistant.services.dispatch.answers.check_eligible`), so a stale button
pressed later gives them nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from assistant.clock import to_iso
from assistant.conversation.vocabulary import Reply
from assistant.i18n import Translator
from assistant.services import people
from assistant.services.dispatch.answers import wave_on_if_empty
from assistant.services.dispatch.lifecycle import hand_back
from assistant.services.dispatch.messages import post_offer_edit, task_notice
from assistant.services.dispatch.records import (
    ACTIVE,
    OFFER_OPEN,
    OFFER_WITHDRAWN,
    OFFERS,
    TASKS,
)
from assistant.services.people import volunteers
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoodDown:
    """What withdrawing a volunteer did."""

    offers: int
    tasks: int


def withdraw_volunteer(tx: Tx, app: App, person_id: str, reason: str = "revoked") -> StoodDown:
    """Close the person's open offers and hand their tasks back (see :func:`stand_down`)."""
    return stand_down(tx, app, person_id, reason)


def stand_down(tx: Tx, app: App, person_id: str, reason: str = "revoked") -> StoodDown:
    """Close the person's open offers and hand their accepted tasks back to dispatch.

    ``reason`` (``revoked``, ``declined``, ``forgotten``) is kept on each
    withdrawn offer and in the log; it is never shown to anyone.
    """
    now = app.clock.now()
    offers = tx.find(OFFERS, person_id=person_id, status=OFFER_OPEN)
    for offer in offers:
        task = tx.require(TASKS, offer["task_id"])
        offer["status"] = OFFER_WITHDRAWN
        offer["closed_at"] = to_iso(now)
        offer["reason"] = reason
        tx.put(OFFERS, offer["id"], offer)
        post_offer_edit(tx, app, task, offer, "dispatch.offer_not_needed", now)
        wave_on_if_empty(tx, task, now)
    tasks = [t for t in tx.find(TASKS, assignee_id=person_id) if t["status"] in ACTIVE]
    person = tx.get(people.PEOPLE, person_id)
    for task in tasks:
        hand_back(tx, app, task, person_id, now)
        if person is not None:
            volunteers.tell(tx, app, person, partial(_handed_back, app, task), now)
    log.info(
        "volunteer %s stood down (%s): %d offers withdrawn, %d tasks handed back",
        person_id,
        reason,
        len(offers),
        len(tasks),
    )
    return StoodDown(len(offers), len(tasks))


def _handed_back(app: App, task: Doc, tr: Translator) -> Reply:
    return task_notice(app, tr, task, "dispatch.handed_back")


def decide_volunteer(tx: Tx, app: App, person_id: str, approve: bool, coordinator_id: str) -> bool:
    """A coordinator's decision on a volunteer; declining one approved before withdraws them.

    The presser's role is checked again here, inside the deciding transaction.
    """
    if not people.has_role(app, tx.get(people.PEOPLE, coordinator_id), people.COORDINATOR):
        return False
    was_active = volunteers.is_active(tx.get(people.PEOPLE, person_id))
    changed = volunteers.decide(tx, app, person_id, approve, coordinator_id)
    if changed and was_active and not approve:
        stand_down(tx, app, person_id, "declined")
    return changed
