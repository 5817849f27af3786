"""Answers to offers: first accept wins, declines, a coordinator's assignment, taking a task.

The first accept wins inside one store transaction: the task becomes
``assigned``, the other open offers are edited to "already taken" and the
later waves are cancelled. Every answer checks again, inside that
transaction, that the volunteer may still take the task.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from assistant.clock import from_iso, to_iso
from assistant.domain import dispatch as matching
from assistant.jobs import timers
from assistant.services import people
from assistant.services.dispatch.events import emit
from assistant.services.dispatch.lifecycle import schedule_reminders
from assistant.services.dispatch.messages import (
    post_offer,
    post_offer_edit,
)
from assistant.services.dispatch.records import (
    ASSIGNED,
    OFFER_ACCEPTED,
    OFFER_DECLINED,
    OFFER_OPEN,
    OFFER_TAKEN,
    OFFERS,
    OPEN,
    TASKS,
    AlreadyTaken,
    Busy,
    NotEligible,
    OfferGone,
    busy_times,
    setting,
    wave_key,
)
from assistant.services.people import volunteers
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

from assistant.services.dispatch.offers import (
    close_offers,
    close_own_offers,
    offer_to,
    tell_choices,
)

log = logging.getLogger(__name__)


def accept(tx: Tx, app: App, offer_id: str, person_id: str) -> Doc:
    """First accept wins: assign the task to this volunteer, or raise."""
    offer = tx.get(OFFERS, offer_id)
    if offer is None or offer["person_id"] != person_id:
        raise OfferGone()
    task = tx.require(TASKS, offer["task_id"])
    if offer["status"] == OFFER_ACCEPTED and task.get("assignee_id") == person_id:
        return task  # the same press twice
    if task["status"] != OPEN or int(task["round"]) != int(offer["round"]):
        raise AlreadyTaken()
    if offer["status"] != OFFER_OPEN:
        raise OfferGone()
    now = app.clock.now()
    check_eligible(tx, task, person_id)
    offer["status"] = OFFER_ACCEPTED
    offer["closed_at"] = to_iso(now)
    tx.put(OFFERS, offer_id, offer)
    post_offer_edit(tx, app, task, offer, "dispatch.offer_accepted", now)
    _assign(tx, app, task, person_id, now, by="offer")
    return task


def decline(tx: Tx, app: App, offer_id: str, person_id: str) -> bool:
    """Record a decline; whether it is new. With nobody of this wave left, the next starts now."""
    offer = tx.get(OFFERS, offer_id)
    if offer is None or offer["person_id"] != person_id:
        raise OfferGone()
    if offer["status"] == OFFER_DECLINED:
        return False
    if offer["status"] != OFFER_OPEN:
        raise OfferGone()
    now = app.clock.now()
    task = tx.require(TASKS, offer["task_id"])
    offer["status"] = OFFER_DECLINED
    offer["closed_at"] = to_iso(now)
    tx.put(OFFERS, offer_id, offer)
    task["declined"] = sorted(set(task["declined"]) | {person_id})
    tx.put(TASKS, task["id"], task)
    post_offer_edit(tx, app, task, offer, "dispatch.offer_declined", now)
    if offer.get("asked_by") and task["status"] == OPEN:
        _asker_told(tx, app, task, offer, now)
    wave_on_if_empty(tx, task, now)
    return True


def wave_on_if_empty(tx: Tx, task: Doc, now: datetime) -> None:
    """When nobody of this wave still holds an open offer, start the next wave now."""
    still_open = tx.find(OFFERS, task_id=task["id"], status=OFFER_OPEN)
    if task["status"] == OPEN and not still_open and not task.get("escalated"):
        _next_wave_now(tx, task, now)


def _asker_told(tx: Tx, app: App, task: Doc, offer: Doc, now: datetime) -> None:
    """The volunteer a coordinator asked cannot go: the coordinator gets fresh choices."""
    coordinator = tx.get(people.PEOPLE, str(offer["asked_by"]))
    if coordinator is None:
        return
    log.info("task %s: a volunteer asked by a coordinator cannot go", task["id"])
    tell_choices(tx, app, task, coordinator, now, volunteer=str(offer.get("name", "")))


def _next_wave_now(tx: Tx, task: Doc, now: datetime) -> None:
    """Everyone of this wave said no: start the next wave at once instead of waiting."""
    round_no, wave = int(task["round"]), int(task["wave"]) + 1
    timers.cancel(tx, wave_key(task["id"], round_no, wave))
    timers.schedule(
        tx,
        "dispatch.wave",
        [task["id"], round_no, wave],
        now,
        now,
        key=wave_key(task["id"], round_no, wave) + ":early",
    )


def assign(tx: Tx, app: App, task_id: str, volunteer_id: str, coordinator_id: str) -> Doc:
    """A coordinator asks one of the escalation's volunteers to take the task.

    The volunteer gets "the coordinator asks you to …" with accept / can't
    buttons; the task stays open until they accept (first accept still wins).

    Raises:
        NotEligible: the presser is not a coordinator, or the volunteer was not
            one of the choices given, or can no longer take it.
        AlreadyTaken: the task is not open and escalated any more.
    """
    task = tx.get(TASKS, task_id)
    coordinator = tx.get(people.PEOPLE, coordinator_id)
    if not people.has_role(app, coordinator, people.COORDINATOR):
        raise NotEligible()
    if task is None or task["status"] != OPEN:
        raise AlreadyTaken()
    if not task.get("escalated") or volunteer_id not in task.get("assign_choices", []):
        raise NotEligible()
    check_eligible(tx, task, volunteer_id)
    now = app.clock.now()
    volunteer = tx.require(people.PEOPLE, volunteer_id)
    mine = [
        o
        for o in tx.find(OFFERS, task_id=task_id, person_id=volunteer_id, status=OFFER_OPEN)
        if int(o["round"]) == int(task["round"])
    ]
    if mine:
        offer = mine[0]
        offer["asked_by"] = coordinator_id
        offer["addresses"] = people.reachable_addresses(tx, volunteer)
        tx.put(OFFERS, offer["id"], offer)
        post_offer(tx, app, task, offer, now)
    else:
        offer_to(tx, app, task, volunteer, now, asked_by=coordinator_id)
        task["offered"] = sorted(set(task["offered"]) | {volunteer_id})
        tx.put(TASKS, task_id, task)
    log.info("task %s: a coordinator asked a volunteer", task_id)
    return task


def take(tx: Tx, app: App, task_id: str, person_id: str) -> Doc:
    """A volunteer takes an escalated task from their task list (only escalated ones)."""
    task = tx.get(TASKS, task_id)
    if task is None or task["status"] != OPEN:
        raise AlreadyTaken()
    if not task.get("escalated"):
        raise NotEligible()
    check_eligible(tx, task, person_id)
    _assign(tx, app, task, person_id, app.clock.now(), by="list")
    return task


def check_eligible(tx: Tx, task: Doc, person_id: str) -> None:
    """Raise unless the person is still an approved volunteer with the skill, free, not excluded.

    Checked inside every transaction that gives a task to someone, so a
    volunteer whose role was revoked, or who lost the skill, never gets it.
    """
    person = tx.get(people.PEOPLE, person_id)
    data = volunteers.profile(person) or {}
    if (
        not volunteers.is_active(person)
        or task["skill"] not in data.get("skills", [])
        or person_id in task["declined"]
        or person_id in task["dropped"]
        or person_id == task.get("requester_id")
    ):
        raise NotEligible()
    _check_free(tx, task, person_id)


def _check_free(tx: Tx, task: Doc, person_id: str) -> None:
    """Raise :class:`Busy` if the person holds another active task at an overlapping time."""
    start, end = from_iso(task["starts_at"]), from_iso(task["ends_at"])
    if not matching.is_free(busy_times(tx, person_id, but=task["id"]), start, end):
        raise Busy()


def _assign(tx: Tx, app: App, task: Doc, person_id: str, now: datetime, by: str) -> None:
    """Give the task to the person: close the other offers, stop the waves, set reminders."""
    task["status"] = ASSIGNED
    task["assignee_id"] = person_id
    task["assigned_at"] = to_iso(now)
    task["assigned_by"] = by
    close_own_offers(tx, app, task, person_id, now)
    close_offers(tx, app, task, OFFER_TAKEN, "dispatch.taken", now)
    for wave in range(int(task["wave"]) + 1, int(setting(app, "waves")) + 2):
        timers.cancel(tx, wave_key(task["id"], int(task["round"]), wave))
    volunteers.record_task(tx, person_id, now, float(setting(app, "fairness_days")))
    tx.put(TASKS, task["id"], task)
    schedule_reminders(tx, app, task, now)
    log.info("task %s assigned", task["id"])
    emit(tx, app, task, "assigned")
