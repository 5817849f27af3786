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
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import islice
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
    ESCALATION_CHOICES,
    OFFER_ACCEPTED,
    OFFER_OPEN,
    OFFERS,
    OPEN,
    TASKS,
    busy_times,
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
    picked = best_volunteers(tx, app, task, int(setting(app, "wave_size")), now)
    for chosen in picked:
        offer_to(tx, app, task, chosen.person, now, addresses=chosen.addresses)
    task["offered"] = sorted(set(task["offered"]) | {c.candidate.person_id for c in picked})
    return [chosen.candidate for chosen in picked]


def _schedule_wave(tx: Tx, app: App, task: Doc, round_no: int, wave: int, now: datetime) -> None:
    """Schedule wave ``wave`` of this round after the wave's waiting time."""
    due = now + timedelta(minutes=wave_minutes(app, task))
    key = wave_key(task["id"], round_no, wave)
    timers.schedule(tx, "dispatch.wave", [task["id"], round_no, wave], due, now, key=key)


def need(tx: Tx, task: Doc, *, near: bool = True) -> matching.Need:
    """What the matcher must satisfy for this task now (``near``: with the neighbouring grids)."""
    grid_id = task.get("grid_id")
    excluded = set(task["offered"]) | set(task["declined"]) | set(task["dropped"])
    excluded.add(task.get("requester_id") or "")
    return matching.Need(
        skill=task["skill"],
        grid_id=grid_id,
        neighbours=frozenset(community.neighbours(tx, grid_id))
        if grid_id and near
        else frozenset(),
        starts_at=from_iso(task["starts_at"]),
        ends_at=from_iso(task["ends_at"]),
        excluded=frozenset(excluded),
    )


@dataclass(frozen=True)
class Pick:
    """One volunteer the ranking chose: as the matcher saw them, their record, where to write."""

    candidate: matching.Candidate
    person: Doc
    addresses: tuple[str, ...]


def best_volunteers(
    tx: Tx, app: App, task: Doc, limit: int, now: datetime, *, escalation: bool = False
) -> list[Pick]:
    """The ``limit`` best volunteers for the task now, best first.

    The task's own grid comes first in every ranking, so when its grid has
    ``limit`` eligible volunteers nobody else is read; otherwise every approved
    volunteer is ranked. What costs a question per volunteer (the tasks they
    hold, whether they can be reached) is asked only down the ranking, until
    enough are found. ``escalation``: the choices for a coordinator, who may
    pick anyone who did not decline or drop it, also those offered it already.
    """
    fairness = float(setting(app, "fairness_days"))
    grid_id = task.get("grid_id")
    if grid_id:
        near = _need(tx, task, escalation, near=False)
        own = _ranked_down(tx, volunteers.pool(tx, grid_id), near, now, fairness, grid_id)
        found = list(islice(own, limit))
        if len(found) == limit:
            return found
    wide = _need(tx, task, escalation, near=True)
    return list(islice(_ranked_down(tx, volunteers.pool(tx), wide, now, fairness), limit))


def _need(tx: Tx, task: Doc, escalation: bool, *, near: bool) -> matching.Need:
    """The task's need for a wave, or for a coordinator's choices."""
    base = need(tx, task, near=near)
    if not escalation:
        return base
    excluded = set(task["declined"]) | set(task["dropped"]) | {task.get("requester_id") or ""}
    return replace(base, excluded=frozenset(excluded))


def _ranked_down(
    tx: Tx,
    persons: list[Doc],
    need: matching.Need,
    now: datetime,
    fairness_days: float,
    grid_id: str | None = None,
) -> Iterator[Pick]:
    """Eligible volunteers, best first, each one's costly questions asked when reached.

    ``grid_id``: only the volunteers who live in that grid.
    """
    by_id = {person["id"]: person for person in persons}
    ranked = matching.rank((volunteers.candidate(p, now, fairness_days) for p in persons), need)
    for ranked_one in ranked:
        if grid_id is not None and ranked_one.grid_id != grid_id:
            continue
        person = by_id[ranked_one.person_id]
        addresses = tuple(people.reachable_addresses(tx, person))
        checked = replace(
            ranked_one,
            reachable=bool(addresses),
            busy=tuple(busy_times(tx, ranked_one.person_id)),
        )
        if matching.eligible(checked, need):
            yield Pick(checked, person, addresses)


def offer_to(
    tx: Tx,
    app: App,
    task: Doc,
    person: Doc,
    now: datetime,
    asked_by: str = "",
    addresses: tuple[str, ...] | None = None,
) -> None:
    """Record one offer of the task to one volunteer (asked by a coordinator, or not); send it.

    ``addresses``: where to write, when the caller just asked (else asked here).
    """
    offer = Offer(
        id=new_id("of"),
        task_id=task["id"],
        person_id=person["id"],
        round=task["round"],
        wave=task["wave"],
        addresses=tuple(people.reachable_addresses(tx, person)) if addresses is None else addresses,
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
    picked = best_volunteers(tx, app, task, ESCALATION_CHOICES, now, escalation=True)
    choices = [chosen.candidate for chosen in picked]
    task["assign_choices"] = sorted(
        set(task.get("assign_choices", [])) | {c.person_id for c in choices}
    )
    tx.put(TASKS, task["id"], task)
    grid_names = {g["id"]: str(g.get("name", g["id"])) for g in tx.all(community.GRIDS)}
    names = {c.candidate.person_id: c.person.get("name", "") for c in picked}
    volunteers.tell(
        tx,
        app,
        coordinator,
        lambda tr: escalation_reply(app, tr, task, choices, names, grid_names, volunteer),
        now,
    )
