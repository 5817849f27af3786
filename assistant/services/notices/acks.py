"""Acknowledgements: one tap on "收到" answers for the household; rates per grid; reminders.

A tap writes one small document (the notice's households of the presser's grid), so
taps stay cheap however many people the notice reached. Who may see what of the
silent households: coordinators the full address and the members' names, volunteers
the building and unit only (``docs/NOTICES.md``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.clock import to_iso
from assistant.services import people
from assistant.services.notices.audience import Recipient
from assistant.services.notices.records import (
    HOUSEHOLDS,
    NOTICES,
    NotForYou,
    Notice,
    NoticeGone,
    NoticeStatus,
    household_key,
    households_doc_id,
    households_of,
    require,
)
from assistant.services.notices.sending import post_copy
from assistant.services.people import community
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)


def acknowledge(tx: Tx, app: App, notice_id: str, person: Doc, now: datetime) -> bool:
    """Record that the presser's household got the notice; whether this tap was the first.

    Raises:
        NoticeGone: the notice was cancelled or no longer exists.
        NotForYou: the presser's household was not among those it went to.
    """
    notice = require(tx, notice_id)
    if notice["status"] == NoticeStatus.CANCELLED:
        raise NoticeGone()
    doc, key = _household_of(tx, notice, person)
    if doc is None:
        raise NotForYou()
    return mark(tx, doc, key, str(person["id"]), "chat", now)


def _household_of(tx: Tx, notice: Doc, person: Mapping[str, Any]) -> tuple[Doc | None, str]:
    """The households document holding the person's household, and its key."""
    key = household_key(person)
    grid_id = person.get("grid_id")
    if grid_id in notice.get("grids", []):
        doc = tx.get(HOUSEHOLDS, households_doc_id(notice["id"], str(grid_id)))
        if doc is not None and key in doc["households"]:
            return doc, key
    for doc in households_of(tx, notice):  # moved grids since, or a member listed elsewhere
        for found_key, household in doc["households"].items():
            if key == found_key or person["id"] in household["members"]:
                return doc, found_key
    return None, key


def mark(tx: Tx, doc: Doc, key: str, by: str, via: str, now: datetime) -> bool:
    """Mark one household acknowledged (``via`` chat or door); whether it was silent before."""
    household = doc["households"][key]
    if household.get("acked_by"):
        return False
    household.update(acked_by=by, acked_at=to_iso(now), via=via)
    doc["acked"] = int(doc.get("acked", 0)) + 1
    tx.put(HOUSEHOLDS, doc["id"], doc)
    return True


@dataclass(frozen=True)
class GridRate:
    """How many households of one grid acknowledged a notice."""

    grid_id: str
    grid_name: str
    acked: int
    households: int

    @property
    def percent(self) -> int:
        """The rate, rounded down to a whole percent."""
        return 100 * self.acked // self.households if self.households else 0


def rates(tx: Tx, notice: Doc) -> list[GridRate]:
    """The acknowledgement rate of each grid of a notice."""
    return [
        GridRate(
            grid_id=doc["grid_id"],
            grid_name=community.grid_name(tx, doc["grid_id"]),
            acked=int(doc.get("acked", 0)),
            households=len(doc["households"]),
        )
        for doc in households_of(tx, notice)
    ]


def silent(tx: Tx, notice: Doc) -> list[tuple[str, str, Doc]]:
    """(grid id, household key, household) of every household that has not acknowledged."""
    return [
        (doc["grid_id"], key, household)
        for doc in households_of(tx, notice)
        for key, household in sorted(doc["households"].items())
        if not household.get("acked_by")
    ]


def describe(tx: Tx, household: Mapping[str, Any], chinese: bool, full: bool) -> str:
    """A household as a reader may see it: full address and names, or building and unit only.

    Personal data: never log it.
    """
    home = household.get("home")
    names = [
        str(p.get("name", ""))
        for p in (tx.get(people.PEOPLE, pid) for pid in household.get("members", []))
        if p is not None and not p.get("forgotten")
    ]
    if not home:
        return "、".join(names) if full and chinese else ", ".join(names) if full else "—"
    if full:
        place = community.describe_household(dict(home), chinese)
        return (
            f"{place}（{'、'.join(names)}）"
            if chinese and names
            else (f"{place} ({', '.join(names)})" if names else place)
        )
    unit = {k: v for k, v in home.items() if k != "room"}
    return community.describe_household(unit, chinese)


def remind_job(tx: Tx, app: App, notice_id: str) -> None:
    """Before the deadline: the reachable members of every silent household get the notice again."""
    notice = tx.get(NOTICES, notice_id)
    if notice is None or notice["status"] not in (NoticeStatus.SENT, NoticeStatus.SENDING):
        return
    if notice.get("reminded_at"):
        return
    now = app.clock.now()
    model = Notice.from_doc(notice)
    count = 0
    for grid_id, key, household in silent(tx, notice):
        for person_id in household.get("members", []):
            person = tx.get(people.PEOPLE, person_id)
            if person is None or person.get("forgotten"):
                continue
            addresses = people.reachable_addresses(tx, person)
            if not addresses:
                continue
            language = str(person.get("language") or "zh_CN")
            recipient = Recipient(person_id, addresses[0], language, key, grid_id)
            post_copy(tx, app, model, recipient, now, reminder=True)
            count += 1
    notice["reminded_at"] = to_iso(now)
    notice["reminded"] = count
    tx.put(NOTICES, notice_id, notice)
    log.info("notice %s: %d people of silent households reminded", notice_id, count)
