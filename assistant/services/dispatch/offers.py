"""Offers in waves, first accept wins, and escalation when nobody accepts.

Each wave (a durable ``dispatch.wave`` timer) offers an open task to the next
``wave_size`` best-matched volunteers (see :mod:`assistant.domain.dispatch`)
and schedules the following wave; a wave runs at most once per round. The
first accept wins inside one store transaction: the task becomes ``assigned``,
the other open offers are edited to "already taken" and the later waves are
cancelled. After the last wave the grid's group is asked for help (no
personal data) and the coordinators get one-tap "assign to …" choices.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from assistant.clock import from_iso, to_iso
from assistant.domain import dispatch as matching
from assistant.jobs import timers
from assistant.services import people
from assistant.services.dispatch.events import emit
from assistant.services.dispatch.lifecycle import schedule_reminders
from assistant.services.dispatch.messages import (
    escalation_reply,
    post_offer,
    post_offer_edit,
    task_notice,
)
from assistant.services.dispatch.model import Offer
from assistant.services.dispatch.records import (
    ACTIVE,
    ASSIGNED,
    ESCALATION_CHOICES,
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
    setting,
    wave_key,
)
from assistant.services.people import community, volunteers
from assistant.store.base import Doc, Tx, new_id

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)


# -- waves -------------------------------------------------------------------------------------


def wave_minutes(app: App, task: Doc) -> float:
    """How long a wave waits for an answer (the service's own, else the setting)."""
    return float(task.get("wave_minutes") or setting(app, "wave_minutes"))


def run_wave(tx: Tx, app: App, task_id: str, round_no: int, wave: int) -> int:
    """Offer the task to the next best volunteers, once per (round, wave); how many got it."""
    task = tx.get(TASKS, task_id)
    if task is None or task["status"] != OPEN or int(task["round"]) != round_no:
        return 0
    if int(task["wave"]) >= wave:
        return 0  # this wave ran already (a redelivered job)
    now = app.clock.now()
    task["wave"] = wave
    if wave > int(setting(app, "waves")):
        _escalate(tx, app, task, now)
        return 0
    picked = _offer_to_best(tx, app, task, now)
    if not picked and not tx.find(OFFERS, task_id=task_id, status=OFFER_OPEN):
        _escalate(tx, app, task, now)
        return 0
    tx.put(TASKS, task_id, task)
    _schedule_wave(tx, app, task, round_no, wave + 1, now)
    log.info("task %s round %d wave %d: %d offers", task_id, round_no, wave, len(picked))
    return len(picked)


def _offer_to_best(tx: Tx, app: App, task: Doc, now: datetime) -> list[matching.Candidate]:
    """Offer the task to this wave's best volunteers; return them."""
    picked = matching.best(
        _candidates(tx, app, now), need(tx, task), int(setting(app, "wave_size"))
    )
    for chosen in picked:
        person = tx.require(people.PEOPLE, chosen.person_id)
        _offer(tx, app, task, person, now)
    task["offered"] = sorted(set(task["offered"]) | {c.person_id for c in picked})
    return picked


def _schedule_wave(tx: Tx, app: App, task: Doc, round_no: int, wave: int, now: datetime) -> None:
    """Schedule wave ``wave`` of this round after the wave's waiting time."""
    due = now + timedelta(minutes=wave_minutes(app, task))
    key = wave_key(task["id"], round_no, wave)
    timers.schedule(tx, "dispatch.wave", [task["id"], round_no, wave], due, now, key=key)


def need(tx: Tx, task: Doc) -> matching.Need:
    """What the matcher must satisfy for this task now."""
    grid_id = task.get("grid_id")
    excluded = set(task["offered"]) | set(task["declined"]) | set(task["dropped"])
    excluded.add(task.get("requester_id") or "")
    return matching.Need(
        skill=task["skill"],
        grid_id=grid_id,
        neighbours=frozenset(community.neighbours(tx, grid_id)) if grid_id else frozenset(),
        starts_at=from_iso(task["starts_at"]),
        ends_at=from_iso(task["ends_at"]),
        excluded=frozenset(excluded),
    )


def _candidates(tx: Tx, app: App, now: datetime) -> list[matching.Candidate]:
    """Every volunteer as the matcher sees them, with the times they are busy."""
    busy: dict[str, list[matching.Interval]] = {}
    for task in tx.all(TASKS):
        if task["status"] in ACTIVE and task.get("assignee_id"):
            interval = matching.Interval(from_iso(task["starts_at"]), from_iso(task["ends_at"]))
            busy.setdefault(task["assignee_id"], []).append(interval)
    return volunteers.candidates(tx, now, float(setting(app, "fairness_days")), busy)


def _offer(tx: Tx, app: App, task: Doc, person: Doc, now: datetime, asked_by: str = "") -> None:
    """Record one offer of the task to one volunteer (asked by a coordinator, or not); send it."""
    offer = Offer(
        id=new_id("of"),
        task_id=task["id"],
        person_id=person["id"],
        round=task["round"],
        wave=task["wave"],
        addresses=tuple(people.reachable_addresses(tx, person)),
        language=person.get("language") or app.settings.get("community", "language"),
        name=person.get("name", ""),
        created_at=to_iso(now),
        asked_by=asked_by,
    ).to_doc()
    tx.put(OFFERS, offer["id"], offer)
    post_offer(tx, app, task, offer, now)


def close_offers(tx: Tx, app: App, task: Doc, status: str, message: str, now: datetime) -> None:
    """Close every open offer of the task with ``status`` and edit its text to ``message``."""
    for offer in tx.find(OFFERS, task_id=task["id"], status=OFFER_OPEN):
        offer["status"] = status
        offer["closed_at"] = to_iso(now)
        tx.put(OFFERS, offer["id"], offer)
        post_offer_edit(tx, app, task, offer, message, now)


def _close_own_offers(tx: Tx, app: App, task: Doc, person_id: str, now: datetime) -> None:
    """The new assignee's own open offer says "you took it", never "someone else took it"."""
    for offer in tx.find(OFFERS, task_id=task["id"], person_id=person_id, status=OFFER_OPEN):
        offer["status"] = OFFER_ACCEPTED
        offer["closed_at"] = to_iso(now)
        tx.put(OFFERS, offer["id"], offer)
        post_offer_edit(tx, app, task, offer, "dispatch.offer_accepted", now)


# -- escalation --------------------------------------------------------------------------------


def _escalate(tx: Tx, app: App, task: Doc, now: datetime) -> None:
    """Nobody accepted: ask the grid's group and give coordinators one-tap choices."""
    if task.get("escalated"):
        tx.put(TASKS, task["id"], task)
        return
    task["escalated"] = True
    task["escalated_at"] = to_iso(now)
    _call_group(tx, app, task, now)
    _ask_coordinators(tx, app, task, now)
    tx.put(TASKS, task["id"], task)
    emit(tx, app, task, "escalated")
    log.info("task %s escalated after round %d", task["id"], task["round"])


def _call_group(tx: Tx, app: App, task: Doc, now: datetime) -> None:
    """Ask the grid's group chat for help, if it has one (no personal data)."""
    grid = tx.get(community.GRIDS, task["grid_id"]) if task.get("grid_id") else None
    if not (grid and grid.get("group_chat")):
        return
    volunteers.tell_address(
        tx,
        app,
        grid["group_chat"],
        lambda tr: task_notice(app, tr, task, "dispatch.group_call"),
        now,
    )


def _ask_coordinators(tx: Tx, app: App, task: Doc, now: datetime) -> None:
    """Give the grid's coordinators one "assign to …" button per best candidate."""
    for coordinator in people.coordinators_for(tx, task.get("grid_id")):
        _tell_choices(tx, app, task, coordinator, now)


def _tell_choices(
    tx: Tx, app: App, task: Doc, coordinator: Doc, now: datetime, volunteer: str = ""
) -> None:
    """Send one coordinator the best volunteers to ask, remembered on the task for the check."""
    everyone = matching.rank(_candidates(tx, app, now), _escalation_need(tx, task))
    choices = everyone[:ESCALATION_CHOICES]
    task["assign_choices"] = sorted(
        set(task.get("assign_choices", [])) | {c.person_id for c in choices}
    )
    tx.put(TASKS, task["id"], task)
    grid_names = {g["id"]: str(g.get("name", g["id"])) for g in tx.all(community.GRIDS)}
    names = {c.person_id: tx.require(people.PEOPLE, c.person_id).get("name", "") for c in choices}
    volunteers.tell(
        tx,
        app,
        coordinator,
        lambda tr: escalation_reply(app, tr, task, choices, names, grid_names, volunteer),
        now,
    )


def _escalation_need(tx: Tx, task: Doc) -> matching.Need:
    """Coordinators may pick anyone eligible who did not decline or drop it."""
    base = need(tx, task)
    excluded = set(task["declined"]) | set(task["dropped"]) | {task.get("requester_id") or ""}
    return matching.Need(
        skill=base.skill,
        grid_id=base.grid_id,
        neighbours=base.neighbours,
        starts_at=base.starts_at,
        ends_at=base.ends_at,
        excluded=frozenset(excluded),
    )


# -- answers to offers ----------------------------------------------------------------------------


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
    _tell_choices(tx, app, task, coordinator, now, volunteer=str(offer.get("name", "")))


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
        _offer(tx, app, task, volunteer, now, asked_by=coordinator_id)
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
    for other in tx.find(TASKS, assignee_id=person_id):
        if other["status"] in ACTIVE and other["id"] != task["id"]:
            interval = matching.Interval(from_iso(other["starts_at"]), from_iso(other["ends_at"]))
            if interval.overlaps(start, end):
                raise Busy()


def _assign(tx: Tx, app: App, task: Doc, person_id: str, now: datetime, by: str) -> None:
    """Give the task to the person: close the other offers, stop the waves, set reminders."""
    task["status"] = ASSIGNED
    task["assignee_id"] = person_id
    task["assigned_at"] = to_iso(now)
    task["assigned_by"] = by
    _close_own_offers(tx, app, task, person_id, now)
    close_offers(tx, app, task, OFFER_TAKEN, "dispatch.taken", now)
    for wave in range(int(task["wave"]) + 1, int(setting(app, "waves")) + 2):
        timers.cancel(tx, wave_key(task["id"], int(task["round"]), wave))
    volunteers.record_task(tx, person_id, now, float(setting(app, "fairness_days")))
    tx.put(TASKS, task["id"], task)
    schedule_reminders(tx, app, task, now)
    log.info("task %s assigned", task["id"])
    emit(tx, app, task, "assigned")
