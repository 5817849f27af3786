"""The dispatch engine: tasks offered to volunteers in waves, first accept wins.

Used by care bookings now and by produce delivery and report patrols later.
A feature opens a task with :func:`open_task` inside its own transaction; the
first wave is a timer due at once. Each wave offers the task to the next
``wave_size`` best-matched volunteers (see :mod:`assistant.domain.dispatch`),
showing only the service, time, micro-grid and residential complex. The first
volunteer to accept wins inside one store transaction; the other offers are
edited to "already taken". With no acceptance after the last wave, the grid's
group is asked for help (no personal data) and the coordinators get one-tap
"assign to …" choices.

The feature that opened the task hears what happens through a listener (see
:func:`listeners`), called by a durable ``dispatch.event`` timer, at least once.

Collections:
    tasks    one task: what, when, where, for whom (``private``), its status
    offers   one offer of a task to one volunteer in one round of waves
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from assistant.clock import from_iso, to_iso
from assistant.conversation.vocabulary import Choice, Outbound, Reply
from assistant.domain import dispatch as matching
from assistant.errors import Refusal
from assistant.i18n import Translator
from assistant.services import community, outbox, people, timers, volunteers
from assistant.store.base import Doc, Tx, new_id

if TYPE_CHECKING:
    from assistant.bootstrap import App

log = logging.getLogger(__name__)

TASKS = "tasks"
OFFERS = "offers"

OPEN = "open"
ASSIGNED = "assigned"
ON_WAY = "on_way"
ARRIVED = "arrived"
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"
ACTIVE = (ASSIGNED, ON_WAY, ARRIVED)
CLOSED = (DONE, FAILED, CANCELLED)

OFFER_OPEN = "open"
OFFER_ACCEPTED = "accepted"
OFFER_DECLINED = "declined"
OFFER_TAKEN = "taken"
OFFER_WITHDRAWN = "withdrawn"

FAIL_REASONS = ("not_home", "refused", "unwell", "other")
ESCALATION_CHOICES = 5

Listener = Callable[["App", str, str, dict[str, Any]], None]


class DispatchError(Refusal):
    """A dispatch step that cannot be done now; ``key`` is the message to show."""

    key = "dispatch.wrong_step"


class OfferGone(DispatchError):
    """The offer does not exist, is not this person's, or was answered already."""

    key = "dispatch.offer_gone"


class AlreadyTaken(DispatchError):
    """Someone else accepted first (or the task was withdrawn)."""

    key = "dispatch.too_late"


class NotYours(DispatchError):
    """The task is not assigned to this volunteer."""

    key = "dispatch.not_yours"


class WrongStep(DispatchError):
    """The task is not in a state where this step makes sense."""

    key = "dispatch.wrong_step"


class Busy(DispatchError):
    """The volunteer holds another task at the same time."""

    key = "dispatch.busy"


class NotEligible(DispatchError):
    """The volunteer cannot take this task (skill, approval, declined it before)."""

    key = "dispatch.not_eligible"


def setting(app: App, key: str) -> Any:
    """One ``[dispatch]`` setting."""
    return app.settings.get("dispatch", key)


# -- opening, cancelling, moving --------------------------------------------------------------


def open_task(
    tx: Tx,
    app: App,
    *,
    kind: str,
    ref: str,
    skill: str,
    grid_id: str | None,
    starts_at: datetime,
    duration_minutes: int,
    summary: dict[str, str],
    private: dict[str, str],
    requester_id: str,
    wave_minutes: float | None = None,
) -> tuple[str, list[str]]:
    """Create a task and schedule its first wave now. Returns (task_id, timer ids to kick after commit)."""
    if starts_at.tzinfo is None:
        raise ValueError("starts_at must be timezone-aware")
    now = app.clock.now()
    task_id = new_id("tk")
    task: Doc = {
        "kind": kind,
        "ref": ref,
        "skill": skill,
        "grid_id": grid_id,
        "starts_at": to_iso(starts_at),
        "ends_at": to_iso(starts_at + timedelta(minutes=duration_minutes)),
        "duration_minutes": int(duration_minutes),
        "summary": dict(summary),
        "private": dict(private),
        "requester_id": requester_id,
        "wave_minutes": wave_minutes,
        "status": OPEN,
        "round": 1,
        "wave": 0,
        "escalated": False,
        "assignee_id": None,
        "offered": [],
        "declined": [],
        "dropped": [],
        "events": [],
        "created_at": to_iso(now),
    }
    tx.put(TASKS, task_id, task)
    first = timers.schedule(
        tx, "dispatch.wave", [task_id, 1, 1], now, now, key=wave_key(task_id, 1, 1)
    )
    ensure_digest(tx, app)
    log.info("task %s opened (%s, skill %s)", task_id, kind, skill)
    return task_id, [first]


def cancel_task(tx: Tx, app: App, task_id: str, reason: str) -> list[str]:
    """Withdraw open offers / tell the assignee; returns timer ids to kick after commit."""
    task = tx.get(TASKS, task_id)
    if task is None or task["status"] in CLOSED:
        return []
    now = app.clock.now()
    kicks = _close_offers(tx, app, task, OFFER_WITHDRAWN, "dispatch.offer_withdrawn", now)
    assignee = _assignee(tx, task)
    if assignee is not None:
        kicks += volunteers.tell(
            tx,
            app,
            assignee,
            lambda tr: Reply(tr.t("dispatch.cancelled", **_public(app, tr, task))),
            now,
        )
    _stop_timers(tx, app, task)
    task["status"] = CANCELLED
    task["reason"] = reason
    task["closed_at"] = to_iso(now)
    tx.put(TASKS, task_id, task)
    log.info("task %s cancelled", task_id)
    return kicks


def reschedule_task(tx: Tx, app: App, task_id: str, starts_at: datetime) -> list[str]:
    """Move a task; open offers are edited and the assignee is told the new time."""
    task = tx.require(TASKS, task_id)
    if task["status"] in CLOSED:
        return []
    now = app.clock.now()
    _stop_reminders(tx, app, task)
    task["starts_at"] = to_iso(starts_at)
    task["ends_at"] = to_iso(starts_at + timedelta(minutes=int(task["duration_minutes"])))
    tx.put(TASKS, task_id, task)
    kicks: list[str] = []
    for offer in tx.find(OFFERS, task_id=task_id, status=OFFER_OPEN):
        kicks += _post_offer(tx, app, task, offer, now, edit=True)
    assignee = _assignee(tx, task)
    if assignee is not None:
        kicks += volunteers.tell(
            tx,
            app,
            assignee,
            lambda tr: Reply(tr.t("dispatch.rescheduled", **_public(app, tr, task))),
            now,
        )
        schedule_reminders(tx, app, task, now)
    return kicks


def listeners() -> dict[str, Listener]:
    """kind → function(app, ref, event, task). Explicit table: {"care": care.on_task_event} imported lazily."""
    table: dict[str, Listener] = {}
    for kind, module_name in (("care", "assistant.services.care"),):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue
        listener = getattr(module, "on_task_event", None)
        if listener is not None:
            table[kind] = listener
    return table


# -- waves -------------------------------------------------------------------------------------


def timer_key(*parts: object) -> str:
    """The idempotency key of a dispatch timer, e.g. ``dispatch:remind:<task>:24``."""
    return ":".join(["dispatch", *(str(part) for part in parts)])


def wave_key(task_id: str, round_no: int, wave: int) -> str:
    """The idempotency key of one wave timer."""
    return timer_key("wave", task_id, round_no, wave)


def wave_minutes(app: App, task: Doc) -> float:
    """How long a wave waits for an answer (the service's own, else the setting)."""
    return float(task.get("wave_minutes") or setting(app, "wave_minutes"))


def run_wave(tx: Tx, app: App, task_id: str, round_no: int, wave: int) -> list[str]:
    """Offer the task to the next best volunteers, once per (round, wave); return kicks."""
    task = tx.get(TASKS, task_id)
    if task is None or task["status"] != OPEN or int(task["round"]) != round_no:
        return []
    if int(task["wave"]) >= wave:
        return []  # this wave ran already (a redelivered job)
    now = app.clock.now()
    task["wave"] = wave
    if wave > int(setting(app, "waves")):
        return _escalate(tx, app, task, now)
    picked = matching.best(
        _candidates(tx, app, now), need(tx, task), int(setting(app, "wave_size"))
    )
    kicks: list[str] = []
    for chosen in picked:
        person = tx.require(people.PEOPLE, chosen.person_id)
        kicks += _offer(tx, app, task, person, now)
    task["offered"] = sorted(set(task["offered"]) | {c.person_id for c in picked})
    if not picked and not tx.find(OFFERS, task_id=task_id, status=OFFER_OPEN):
        return kicks + _escalate(tx, app, task, now)
    tx.put(TASKS, task_id, task)
    due = now + timedelta(minutes=wave_minutes(app, task))
    next_key = wave_key(task_id, round_no, wave + 1)
    timers.schedule(tx, "dispatch.wave", [task_id, round_no, wave + 1], due, now, key=next_key)
    log.info("task %s round %d wave %d: %d offers", task_id, round_no, wave, len(picked))
    return kicks


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
    busy: dict[str, list[matching.Interval]] = {}
    for task in tx.all(TASKS):
        if task["status"] in ACTIVE and task.get("assignee_id"):
            interval = matching.Interval(from_iso(task["starts_at"]), from_iso(task["ends_at"]))
            busy.setdefault(task["assignee_id"], []).append(interval)
    return volunteers.candidates(tx, now, float(setting(app, "fairness_days")), busy)


def _offer(tx: Tx, app: App, task: Doc, person: Doc, now: datetime) -> list[str]:
    offer_id = new_id("of")
    offer: Doc = {
        "task_id": task["id"],
        "person_id": person["id"],
        "round": task["round"],
        "wave": task["wave"],
        "status": OFFER_OPEN,
        "addresses": people.reachable_addresses(tx, person),
        "language": person.get("language") or app.settings.get("community", "language"),
        "name": person.get("name", ""),
        "created_at": to_iso(now),
    }
    tx.put(OFFERS, offer_id, offer)
    offer["id"] = offer_id
    return _post_offer(tx, app, task, offer, now)


def _post_offer(
    tx: Tx, app: App, task: Doc, offer: Doc, now: datetime, edit: bool = False
) -> list[str]:
    from assistant.i18n import translator

    tr = translator(offer["language"])
    text = tr.t("dispatch.offer", name=offer["name"], **_public(app, tr, task))
    reply = Reply(
        text,
        choices=(
            (
                Choice(tr.t("dispatch.accept"), f"a:offer:accept:{offer['id']}"),
                Choice(tr.t("dispatch.decline"), f"a:offer:decline:{offer['id']}"),
            ),
        ),
        key=offer_key(offer["id"]),
        edit=edit,
    )
    return [
        outbox.post(tx, Outbound(address, reply, tr.language), now)
        for address in offer["addresses"]
    ]


def _post_offer_edit(
    tx: Tx, app: App, task: Doc, offer: Doc, message: str, now: datetime
) -> list[str]:
    """Replace an offer's text (and drop its buttons) wherever it was sent."""
    from assistant.i18n import translator

    tr = translator(offer["language"])
    reply = Reply(tr.t(message, **_public(app, tr, task)), key=offer_key(offer["id"]), edit=True)
    return [
        outbox.post(tx, Outbound(address, reply, tr.language), now)
        for address in offer["addresses"]
    ]


def offer_key(offer_id: str) -> str:
    """The message key of an offer, so it can be edited later."""
    return f"offer:{offer_id}"


def _close_offers(
    tx: Tx, app: App, task: Doc, status: str, message: str, now: datetime
) -> list[str]:
    kicks: list[str] = []
    for offer in tx.find(OFFERS, task_id=task["id"], status=OFFER_OPEN):
        offer["status"] = status
        offer["closed_at"] = to_iso(now)
        tx.put(OFFERS, offer["id"], offer)
        kicks += _post_offer_edit(tx, app, task, offer, message, now)
    return kicks


def _escalate(tx: Tx, app: App, task: Doc, now: datetime) -> list[str]:
    """Nobody accepted: ask the grid's group and give coordinators one-tap choices."""
    if task.get("escalated"):
        tx.put(TASKS, task["id"], task)
        return []
    task["escalated"] = True
    task["escalated_at"] = to_iso(now)
    kicks: list[str] = []
    grid = tx.get(community.GRIDS, task["grid_id"]) if task.get("grid_id") else None
    if grid and grid.get("group_chat"):
        kicks.append(
            volunteers.tell_address(
                tx,
                app,
                grid["group_chat"],
                lambda tr: Reply(tr.t("dispatch.group_call", **_public(app, tr, task))),
                now,
            )
        )
    everyone = matching.rank(_candidates(tx, app, now), _escalation_need(tx, task))
    choices = everyone[:ESCALATION_CHOICES]
    grid_names = {g["id"]: str(g.get("name", g["id"])) for g in tx.all(community.GRIDS)}
    names = {c.person_id: tx.require(people.PEOPLE, c.person_id).get("name", "") for c in choices}

    def build(tr: Translator) -> Reply:
        buttons = tuple(
            (
                Choice(
                    tr.t(
                        "dispatch.assign_to",
                        name=names[c.person_id],
                        grid=grid_names.get(c.grid_id or "", ""),
                    ),
                    f"a:assign:{task['id']}:{c.person_id}",
                ),
            )
            for c in choices
        )
        text = tr.t("dispatch.coordinator_escalated", **_public(app, tr, task))
        if not choices:
            text += "\n" + tr.t("dispatch.no_candidates")
        return Reply(text, choices=buttons)

    for coordinator in people.coordinators_for(tx, task.get("grid_id")):
        kicks += volunteers.tell(tx, app, coordinator, build, now)
    tx.put(TASKS, task["id"], task)
    kicks += emit(tx, app, task, "escalated")
    log.info("task %s escalated after round %d", task["id"], task["round"])
    return kicks


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


def accept(tx: Tx, app: App, offer_id: str, person_id: str) -> tuple[Doc, list[str]]:
    """First accept wins: assign the task to this volunteer, or raise."""
    offer = tx.get(OFFERS, offer_id)
    if offer is None or offer["person_id"] != person_id:
        raise OfferGone()
    task = tx.require(TASKS, offer["task_id"])
    if offer["status"] == OFFER_ACCEPTED and task.get("assignee_id") == person_id:
        return task, []  # the same press twice
    if task["status"] != OPEN or int(task["round"]) != int(offer["round"]):
        raise AlreadyTaken()
    if offer["status"] != OFFER_OPEN:
        raise OfferGone()
    now = app.clock.now()
    _check_free(tx, task, person_id)
    offer["status"] = OFFER_ACCEPTED
    offer["closed_at"] = to_iso(now)
    tx.put(OFFERS, offer_id, offer)
    kicks = _post_offer_edit(tx, app, task, offer, "dispatch.offer_accepted", now)
    kicks += _assign(tx, app, task, person_id, now, by="offer")
    return task, kicks


def decline(tx: Tx, app: App, offer_id: str, person_id: str) -> list[str]:
    """Record a decline; when nobody of this wave is left, the next wave starts now."""
    offer = tx.get(OFFERS, offer_id)
    if offer is None or offer["person_id"] != person_id:
        raise OfferGone()
    if offer["status"] == OFFER_DECLINED:
        return []
    if offer["status"] != OFFER_OPEN:
        raise OfferGone()
    now = app.clock.now()
    task = tx.require(TASKS, offer["task_id"])
    offer["status"] = OFFER_DECLINED
    offer["closed_at"] = to_iso(now)
    tx.put(OFFERS, offer_id, offer)
    task["declined"] = sorted(set(task["declined"]) | {person_id})
    tx.put(TASKS, task["id"], task)
    kicks = _post_offer_edit(tx, app, task, offer, "dispatch.offer_declined", now)
    still_open = tx.find(OFFERS, task_id=task["id"], status=OFFER_OPEN)
    if task["status"] == OPEN and not still_open and not task.get("escalated"):
        round_no, wave = int(task["round"]), int(task["wave"]) + 1
        timers.cancel(tx, wave_key(task["id"], round_no, wave))
        kicks.append(
            timers.schedule(
                tx,
                "dispatch.wave",
                [task["id"], round_no, wave],
                now,
                now,
                key=wave_key(task["id"], round_no, wave) + ":early",
            )
        )
    return kicks


def assign(
    tx: Tx, app: App, task_id: str, volunteer_id: str, coordinator_id: str
) -> tuple[Doc, list[str]]:
    """A coordinator gives an open task to a volunteer; the volunteer gets the details."""
    task = tx.get(TASKS, task_id)
    if task is None or task["status"] != OPEN:
        raise AlreadyTaken()
    _check_eligible(tx, task, volunteer_id)
    now = app.clock.now()
    kicks = _assign(tx, app, task, volunteer_id, now, by=coordinator_id)
    volunteer = tx.require(people.PEOPLE, volunteer_id)
    kicks += volunteers.tell(
        tx,
        app,
        volunteer,
        lambda tr: details_reply(app, tr, task, intro="dispatch.assigned_intro"),
        now,
    )
    return task, kicks


def take(tx: Tx, app: App, task_id: str, person_id: str) -> tuple[Doc, list[str]]:
    """A volunteer takes an escalated task from their task list."""
    task = tx.get(TASKS, task_id)
    if task is None or task["status"] != OPEN:
        raise AlreadyTaken()
    _check_eligible(tx, task, person_id)
    return task, _assign(tx, app, task, person_id, app.clock.now(), by="list")


def _check_eligible(tx: Tx, task: Doc, person_id: str) -> None:
    person = tx.get(people.PEOPLE, person_id)
    data = volunteers.profile(person) or {}
    if (
        not volunteers.is_approved(person)
        or task["skill"] not in data.get("skills", [])
        or person_id in task["declined"]
        or person_id in task["dropped"]
    ):
        raise NotEligible()
    _check_free(tx, task, person_id)


def _check_free(tx: Tx, task: Doc, person_id: str) -> None:
    start, end = from_iso(task["starts_at"]), from_iso(task["ends_at"])
    for other in tx.find(TASKS, assignee_id=person_id):
        if other["status"] in ACTIVE and other["id"] != task["id"]:
            interval = matching.Interval(from_iso(other["starts_at"]), from_iso(other["ends_at"]))
            if interval.overlaps(start, end):
                raise Busy()


def _assign(tx: Tx, app: App, task: Doc, person_id: str, now: datetime, by: str) -> list[str]:
    task["status"] = ASSIGNED
    task["assignee_id"] = person_id
    task["assigned_at"] = to_iso(now)
    task["assigned_by"] = by
    kicks = _close_offers(tx, app, task, OFFER_TAKEN, "dispatch.taken", now)
    for wave in range(int(task["wave"]) + 1, int(setting(app, "waves")) + 2):
        timers.cancel(tx, wave_key(task["id"], int(task["round"]), wave))
    volunteers.record_task(tx, person_id, now, float(setting(app, "fairness_days")))
    tx.put(TASKS, task["id"], task)
    schedule_reminders(tx, app, task, now)
    log.info("task %s assigned", task["id"])
    return kicks + emit(tx, app, task, "assigned")


# -- the volunteer's steps ---------------------------------------------------------------------------

STEPS: dict[str, tuple[tuple[str, ...], str]] = {
    "on_way": ((ASSIGNED,), ON_WAY),
    "arrived": ((ASSIGNED, ON_WAY), ARRIVED),
    "done": ((ASSIGNED, ON_WAY, ARRIVED), DONE),
    "fail": ((ASSIGNED, ON_WAY, ARRIVED), FAILED),
    "drop": ((ASSIGNED, ON_WAY), OPEN),
}


def step(
    tx: Tx, app: App, task_id: str, person_id: str, name: str, reason: str = ""
) -> tuple[Doc, list[str]]:
    """Move a task one step of its lifecycle for its assignee; return it and kicks.

    Pressing the same step twice is harmless: the second press changes nothing.
    """
    if name not in STEPS:
        raise WrongStep()
    task = tx.get(TASKS, task_id)
    if task is None:
        raise NotYours()
    before, after = STEPS[name]
    if name != "drop" and task["status"] == after and task.get("assignee_id") == person_id:
        return task, []
    if name == "drop" and person_id in task["dropped"]:
        return task, []
    if task.get("assignee_id") != person_id:
        raise NotYours()
    if task["status"] not in before:
        raise WrongStep()
    now = app.clock.now()
    if name == "drop":
        return task, _drop(tx, app, task, person_id, now)
    task["status"] = after
    task[f"{after}_at"] = to_iso(now)
    kicks: list[str] = []
    if after == ARRIVED:
        kicks += schedule_safety(tx, app, task, now)
    if after in CLOSED:
        task["closed_at"] = to_iso(now)
        task["reason"] = reason if after == FAILED else ""
        _stop_timers(tx, app, task)
    tx.put(TASKS, task_id, task)
    if after in (ON_WAY, ARRIVED, DONE, FAILED):
        kicks += emit(tx, app, task, "failed" if after == FAILED else after)
    return task, kicks


def _drop(tx: Tx, app: App, task: Doc, person_id: str, now: datetime) -> list[str]:
    """The assignee gives the task up: a fresh round of waves, without them."""
    _stop_timers(tx, app, task)
    task["dropped"] = sorted(set(task["dropped"]) | {person_id})
    task.update(
        status=OPEN,
        assignee_id=None,
        round=int(task["round"]) + 1,
        wave=0,
        offered=[],
        escalated=False,
    )
    tx.put(TASKS, task["id"], task)
    round_no = int(task["round"])
    first = timers.schedule(
        tx,
        "dispatch.wave",
        [task["id"], round_no, 1],
        now,
        now,
        key=wave_key(task["id"], round_no, 1),
    )
    log.info("task %s dropped by its volunteer; round %d", task["id"], round_no)
    return [first, *emit(tx, app, task, "dropped", volunteer_id=person_id)]


def ask_help(tx: Tx, app: App, task_id: str, person_id: str) -> list[str]:
    """The assignee needs help: alert the coordinators with the address."""
    task = tx.get(TASKS, task_id)
    if task is None or task.get("assignee_id") != person_id or task["status"] not in ACTIVE:
        raise NotYours()
    return alert_coordinators(tx, app, task, "dispatch.help_coordinator", app.clock.now())


def alert_coordinators(tx: Tx, app: App, task: Doc, message: str, now: datetime) -> list[str]:
    """Tell the task's coordinators about its volunteer (staff may see the address)."""
    volunteer = _assignee(tx, task) or {}
    kicks: list[str] = []
    for coordinator in people.coordinators_for(tx, task.get("grid_id")):
        kicks += volunteers.tell(
            tx,
            app,
            coordinator,
            lambda tr: Reply(
                tr.t(
                    message,
                    volunteer=volunteer.get("name", ""),
                    volunteer_phone=volunteer.get("phone") or tr.t("dispatch.no_phone"),
                    address=_address(tr, task),
                    **_public(app, tr, task),
                )
            ),
            now,
        )
    return kicks


# -- timers tied to a task ------------------------------------------------------------------------


def schedule_reminders(tx: Tx, app: App, task: Doc, now: datetime) -> None:
    """One reminder per ``reminder_hours`` before the start, if still ahead."""
    starts = from_iso(task["starts_at"])
    for hours in setting(app, "reminder_hours"):
        due = starts - timedelta(hours=float(hours))
        if due > now:
            timers.schedule(
                tx,
                "dispatch.remind",
                [task["id"], task["assignee_id"], task["starts_at"], hours],
                due,
                now,
                key=timer_key("remind", task["id"], hours),
            )


def schedule_safety(tx: Tx, app: App, task: Doc, now: datetime) -> list[str]:
    """The safety check after arriving: duration plus the safety margin."""
    margin = timedelta(minutes=int(setting(app, "safety_margin_minutes")))
    due = now + timedelta(minutes=int(task["duration_minutes"])) + margin
    timers.schedule(
        tx, "dispatch.safety", [task["id"], 1], due, now, key=timer_key("safety", task["id"], 1)
    )
    return []


def _stop_reminders(tx: Tx, app: App, task: Doc) -> None:
    for hours in setting(app, "reminder_hours"):
        timers.cancel(tx, timer_key("remind", task["id"], hours))


def _stop_timers(tx: Tx, app: App, task: Doc) -> None:
    _stop_reminders(tx, app, task)
    for stage in (1, 2):
        timers.cancel(tx, timer_key("safety", task["id"], stage))
    for wave in range(1, int(setting(app, "waves")) + 2):
        timers.cancel(tx, wave_key(task["id"], int(task["round"]), wave))


def emit(tx: Tx, app: App, task: Doc, event: str, **detail: str) -> list[str]:
    """Record an event and schedule the listener call (at least once, durably)."""
    now = app.clock.now()
    task["events"] = [*task.get("events", []), {"event": event, "at": to_iso(now), **detail}]
    tx.put(TASKS, task["id"], task)
    number = len(task["events"])
    return [
        timers.schedule(
            tx,
            "dispatch.event",
            [task["id"], number],
            now,
            now,
            key=timer_key("event", task["id"], number),
        )
    ]


def ensure_digest(tx: Tx, app: App) -> None:
    """Make sure the next daily digest is scheduled (idempotent, keyed by date)."""
    now = app.clock.now()
    zone = app.settings.timezone
    local = now.astimezone(zone)
    hour = int(setting(app, "digest_hour"))
    due = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if due <= local:
        due += timedelta(days=1)
    day = due.date().isoformat()
    timers.schedule(tx, "dispatch.digest", [day], due, now, key=timer_key("digest", day))


# -- words -----------------------------------------------------------------------------------


def when(app: App, tr: Translator, moment: datetime | str) -> str:
    """A time as residents read it, in the community's time zone."""
    if isinstance(moment, str):
        moment = from_iso(moment)
    local = moment.astimezone(app.settings.timezone)
    weekday = tr.t(f"dispatch.weekday_{local.weekday()}")
    return tr.t(
        "dispatch.when",
        month=local.month,
        day=local.day,
        weekday=weekday,
        time=local.strftime("%H:%M"),
    )


def _public(app: App, tr: Translator, task: Doc) -> dict[str, str]:
    """What anyone offered the task may see: service, time, grid, complex."""
    summary = task.get("summary", {})
    title = summary.get("title_zh" if tr.is_chinese else "title_en") or summary.get("title_zh", "")
    return {
        "title": title,
        "when": when(app, tr, task["starts_at"]),
        "grid": summary.get("grid_name", ""),
        "place": summary.get("place", ""),
    }


def _address(tr: Translator, task: Doc) -> str:
    private = task.get("private", {})
    return str(
        private.get("address_zh" if tr.is_chinese else "address_en")
        or private.get("address_zh", "")
    )


def details_reply(app: App, tr: Translator, task: Doc, intro: str = "") -> Reply:
    """The private details for the assigned volunteer, with the next-step buttons."""
    private = task.get("private", {})
    text = tr.t(
        "dispatch.details",
        name=private.get("name", ""),
        address=_address(tr, task),
        phone=private.get("phone") or tr.t("dispatch.no_phone"),
        notes=private.get("notes") or tr.t("dispatch.no_notes"),
        **_public(app, tr, task),
    )
    if intro:
        text = tr.t(intro) + "\n" + text
    return Reply(text, choices=step_buttons(tr, task))


def step_buttons(tr: Translator, task: Doc) -> tuple[tuple[Choice, ...], ...]:
    """The buttons for the next steps of an assigned task."""
    task_id = task["id"]
    status = task["status"]
    row: list[Choice] = []
    if status == ASSIGNED:
        row.append(Choice(tr.t("dispatch.on_way"), f"a:task:on_way:{task_id}"))
    if status in (ASSIGNED, ON_WAY):
        row.append(Choice(tr.t("dispatch.arrived"), f"a:task:arrived:{task_id}"))
    if status in ACTIVE:
        row.append(Choice(tr.t("dispatch.done"), f"a:task:done:{task_id}"))
    second: list[Choice] = []
    if status in ACTIVE:
        second.append(Choice(tr.t("dispatch.fail"), f"a:task:fail:{task_id}"))
    if status in (ASSIGNED, ON_WAY):
        second.append(Choice(tr.t("dispatch.drop"), f"a:task:drop:{task_id}"))
    return tuple(r for r in (tuple(row), tuple(second)) if r)


def _assignee(tx: Tx, task: Doc) -> Doc | None:
    if not task.get("assignee_id"):
        return None
    return tx.get(people.PEOPLE, task["assignee_id"])


def public_words(app: App, tr: Translator, task: Doc) -> dict[str, str]:
    """Service, time, grid and complex of a task, for messages (no personal data)."""
    return _public(app, tr, task)


def address_words(tr: Translator, task: Doc) -> str:
    """The street address of a task (personal data: only for the assignee and staff)."""
    return _address(tr, task)
