"""Volunteers: signing up, a coordinator's decision, duty, and who can be matched.

A volunteer's data lives in their person record::

    person["volunteer"] = {status: pending|approved|declined, skills, teams,
                           grid_id, hours_per_week, on_duty, since,
                           taken: [ISO times of recent tasks], last_task_at}

and an approved volunteer holds the role ``volunteer``. Only approved
volunteers who are on duty and reachable are ever offered a task.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from assistant.clock import from_iso, to_iso
from assistant.conversation.buttons import VolunteerDecision
from assistant.conversation.vocabulary import Address, Choice, Outbound, Reply
from assistant.domain import dispatch as matching
from assistant.domain.catalogue import SKILLS
from assistant.errors import Refusal
from assistant.i18n import Translator, translator
from assistant.jobs import outbox
from assistant.services import people
from assistant.services.people import community
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

PENDING = "pending"
APPROVED = "approved"
DECLINED = "declined"
HOURS_CHOICES = (2, 4, 6, 10)
MAX_HOURS = 40


class VolunteerError(Refusal):
    """A volunteer action that cannot be done; ``key`` is the message to show."""

    key = "core.refused"


class NotAVolunteer(VolunteerError):
    """The person has no approved volunteer profile."""

    key = "volunteer.not_volunteer"


def profile(person: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The volunteer part of a person, if any."""
    if not person:
        return None
    found = person.get("volunteer")
    return dict(found) if isinstance(found, dict) else None


def is_approved(person: Mapping[str, Any] | None) -> bool:
    """Whether the person's application was approved (see :func:`is_active` for rights)."""
    found = profile(person)
    return bool(found and found.get("status") == APPROVED)


def is_active(person: Mapping[str, Any] | None) -> bool:
    """Whether the person may be given tasks: approved, still holding the role, not forgotten.

    An administrator's ``role revoke`` takes the role away and keeps the
    application record, so both are needed.
    """
    return bool(
        is_approved(person)
        and person is not None
        and people.VOLUNTEER in person.get("roles", [])
        and not person.get("forgotten")
    )


def teams(tx: Tx) -> list[str]:
    """Every volunteer team named by someone, sorted."""
    names: set[str] = set()
    for person in tx.all(people.PEOPLE):
        names.update((person.get("volunteer") or {}).get("teams", []))
    return sorted(names)


def grids(tx: Tx) -> list[tuple[str, str]]:
    """(id, name) of every micro-grid."""
    return [(grid["id"], str(grid.get("name", grid["id"]))) for grid in tx.all(community.GRIDS)]


def tell(
    tx: Tx, app: App, person: Mapping[str, Any], build: Callable[[Translator], Reply], now: datetime
) -> int:
    """Post a message to every reachable address of a person; return to how many."""
    tr = translator(person.get("language") or app.settings.get("community", "language"))
    reply = build(tr)
    addresses = people.reachable_addresses(tx, dict(person))
    for address in addresses:
        outbox.post(tx, Outbound(Address(address), reply, tr.language), now)
    return len(addresses)


def tell_address(
    tx: Tx, app: App, address: str, build: Callable[[Translator], Reply], now: datetime
) -> str:
    """Post a message to one address (a group chat) in the community's language."""
    tr = translator(str(app.settings.get("community", "language")))
    return outbox.post(tx, Outbound(Address(address), build(tr), tr.language), now)


def listed(tr: Translator, items: Iterable[str]) -> str:
    """Words joined as the language lists them (``上门照料、就医陪护`` / ``Home care, Escort``)."""
    return ("、" if tr.is_chinese else ", ").join(items) or tr.t("volunteer.none")


def skill_names(tr: Translator, skills: Iterable[str]) -> str:
    """Skills as words in a language."""
    return listed(tr, (tr.t(f"volunteer.skill_{skill}") for skill in skills))


# -- signing up ------------------------------------------------------------------------------


def apply(
    tx: Tx,
    app: App,
    person_id: str,
    *,
    skills: list[str],
    team_names: list[str],
    grid_id: str | None,
    hours: int,
) -> Doc:
    """Record a volunteer application and ask the grid's coordinators; return the person."""
    unknown = set(skills) - set(SKILLS)
    if not skills or unknown:
        raise ValueError(f"unknown skills: {sorted(unknown)}")
    now = app.clock.now()
    person = tx.require(people.PEOPLE, person_id)
    before = profile(person) or {}
    person["volunteer"] = {
        **before,
        "status": PENDING,
        "skills": sorted(set(skills)),
        "teams": sorted(set(team_names)),
        "grid_id": grid_id,
        "hours_per_week": int(hours),
        "on_duty": True,
        "applied_at": to_iso(now),
    }
    tx.put(people.PEOPLE, person_id, person)
    grid = community.grid_name(tx, grid_id)
    for coordinator in people.coordinators_for(tx, grid_id):
        tell(tx, app, coordinator, lambda tr: _approval_ask(tr, person, grid), now)
    log.info("volunteer application %s filed", person_id)
    return person


def _approval_ask(tr: Translator, person: Doc, grid: str) -> Reply:
    data = person["volunteer"]
    return Reply(
        tr.t(
            "volunteer.coordinator_ask",
            name=person.get("name", ""),
            skills=skill_names(tr, data["skills"]),
            teams=listed(tr, data["teams"]),
            grid=grid or tr.t("volunteer.none"),
            hours=data["hours_per_week"],
        ),
        choices=(
            (
                Choice(tr.t("volunteer.approve"), VolunteerDecision(True, person["id"]).encode()),
                Choice(tr.t("volunteer.decline"), VolunteerDecision(False, person["id"]).encode()),
            ),
        ),
    )


def decide(tx: Tx, app: App, person_id: str, approve: bool, coordinator_id: str) -> bool:
    """A coordinator approves or declines a pending application (once), or declines later.

    Declining a volunteer approved before takes the role away; the caller
    withdraws their offers and tasks (``dispatch.decide_volunteer`` does both).
    Returns whether anything changed; the volunteer is told through the outbox.
    """
    person = tx.get(people.PEOPLE, person_id)
    data = profile(person)
    if person is None or data is None:
        return False
    later = data.get("status") == APPROVED and not approve
    if data.get("status") != PENDING and not later:
        return False
    now = app.clock.now()
    data["status"] = APPROVED if approve else DECLINED
    data["decided_by"] = coordinator_id
    data["decided_at"] = to_iso(now)
    roles = set(person.get("roles", []))
    if approve:
        data.setdefault("since", to_iso(now))
        data["on_duty"] = True
        roles.add(people.VOLUNTEER)
    else:
        roles.discard(people.VOLUNTEER)
    person["roles"] = sorted(roles)
    person["volunteer"] = data
    tx.put(people.PEOPLE, person_id, person)
    key = "volunteer.approved" if approve else "volunteer.declined"
    if later:
        key = "volunteer.stood_down"
    name = person.get("name", "")
    log.info("volunteer %s %s", person_id, data["status"])
    tell(tx, app, person, lambda tr: Reply(tr.t(key, name=name)), now)
    return True


def set_duty(tx: Tx, person_id: str, on_duty: bool | None = None) -> bool:
    """Switch duty on or off (``None``: toggle); return the new state."""
    person = tx.require(people.PEOPLE, person_id)
    data = profile(person)
    if data is None or data.get("status") != APPROVED:
        raise NotAVolunteer()
    data["on_duty"] = (not data.get("on_duty", True)) if on_duty is None else on_duty
    person["volunteer"] = data
    tx.put(people.PEOPLE, person_id, person)
    return bool(data["on_duty"])


def record_task(tx: Tx, person_id: str, now: datetime, fairness_days: float) -> None:
    """Remember that a volunteer took a task, for fairness."""
    person = tx.require(people.PEOPLE, person_id)
    data = profile(person) or {}
    horizon = now - timedelta(days=fairness_days)
    taken = [iso for iso in data.get("taken", []) if from_iso(iso) >= horizon]
    taken.append(to_iso(now))
    data["taken"] = taken
    data["last_task_at"] = to_iso(now)
    person["volunteer"] = data
    tx.put(people.PEOPLE, person_id, person)


# -- matching --------------------------------------------------------------------------------


def pool(tx: Tx, grid_id: str | None = None) -> list[Doc]:
    """Approved volunteers' person records: all of them, or those who may live in ``grid_id``.

    A grid's pool is the volunteers who named that grid and the approved people
    of that grid (a profile without a grid falls back to the person's), each an
    indexed question, so a wave reads its own grid's volunteers and not
    everyone. The matcher still decides who of them is in the grid.
    """
    if grid_id is None:
        return tx.find(people.PEOPLE, **{"volunteer.status": APPROVED})
    named = tx.find(people.PEOPLE, **{"volunteer.status": APPROVED, "volunteer.grid_id": grid_id})
    living = tx.find(people.PEOPLE, **{"volunteer.status": APPROVED, "grid_id": grid_id})
    merged = {person["id"]: person for person in named + living}
    return [merged[person_id] for person_id in sorted(merged)]


def candidate(person: Doc, now: datetime, fairness_days: float) -> matching.Candidate:
    """A volunteer as the matcher ranks them, before the questions that cost a read each.

    Whether they can be reached and when they are busy are left at "yes" and
    "never": their addresses and the tasks they hold settle those for the few
    the ranking puts first.
    """
    data = profile(person) or {}
    taken = [from_iso(iso) for iso in data.get("taken", [])]
    recent, latest = matching.recent_count(taken, now, fairness_days)
    last = data.get("last_task_at")
    return matching.Candidate(
        person_id=person["id"],
        grid_id=data.get("grid_id") or person.get("grid_id"),
        skills=frozenset(data.get("skills", [])),
        approved=data.get("status") == APPROVED
        and people.VOLUNTEER in person.get("roles", [])
        and not person.get("forgotten"),
        on_duty=bool(data.get("on_duty", True)),
        recent_tasks=recent,
        last_task_at=from_iso(last) if last else latest,
    )
