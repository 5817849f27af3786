"""Offers in waves, and escalation when nobody accepts.

Each wave (a durable ``dispatch.wave`` timer) offers an open task to the next
``wave_size`` best-matched volunteers (see :mod:`assistant.domain.dispatch`)
and schedules the following wave; a wave runs at most once per round. After
the last wave the grid's group is asked for help (no personal data) and the
coordinators get one-tap "assign to …" choices. What volunteers and
coordinators answer is :mod:`~assistant.services.dispatch.answers`.
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
from assistant.services.dispatch.messages import (
    escalation_reply,
    post_offer,
    post_offer_edit,
    task_notice,
)
from assistant.services.dispatch.model import Offer
from assistant.services.dispatch.records import (
    ACTIVE,
    ESCALATION_CHOICES,
    OFFER_ACCEPTED,
    OFFER_OPEN,
    OFFERS,
    OPEN,
    TASKS,
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
        offer_to(tx, app, task, person, now)
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


def offer_to(tx: Tx, app: App, task: Doc, person: Doc, now: datetime, asked_by: str = "") -> None:
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


def close_own_offers(tx: Tx, app: App, task: Doc, person_id: str, now: datetime) -> None:
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
        tell_choices(tx, app, task, coordinator, now)


def tell_choices(
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
