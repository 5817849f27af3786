"""A wellbeing round (敲门关怀) without a notice: households the coordinator picks, visited.

A coordinator picks the elders living alone of their micro-grids (people whose
record carries ``lives_alone``), or every household of one building, and starts
door-knock rounds on them directly: the same task kind, cards and checks as the
rounds at a notice's deadline (:mod:`.knock`). The rounds hang on a record in
``notices`` of ``kind="wellbeing"`` that is closed from the start (nothing is sent,
nobody taps "收到"), so ``/notices`` lists it with its rounds' progress and the
author gets each round's summary.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from assistant.clock import to_iso
from assistant.i18n import translator
from assistant.services import people
from assistant.services.notices.archive import ensure_tidy
from assistant.services.notices.audience import gather
from assistant.services.notices.knock import open_round
from assistant.services.notices.records import (
    NOTICES,
    NoAudience,
    NotCoordinator,
    NoticeStatus,
    building_label,
)
from assistant.services.notices.sending import may_send, sendable_grids
from assistant.store.base import Doc, Tx, new_id

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

WELLBEING = "wellbeing"
ALONE = "alone"
BUILDING = "b:"
"""A pick is :data:`ALONE` or ``b:<grid>|<complex>|<building>``."""

Households = dict[tuple[str, str], list[tuple[str, Doc]]]
"""(grid, ``complex|building``) → [(household key, household)]."""


@dataclass(frozen=True)
class Pick:
    """One group of households a coordinator may start a round on, with its size."""

    value: str
    households: int
    building: str = ""
    """``complex|building`` of a building pick; empty for the elders living alone."""


def _homes(tx: Tx, grids: Iterable[str]) -> Households:
    """The households with a known address of these grids, by building."""
    audience = gather(tx, grids)
    found: Households = defaultdict(list)
    for grid_id, households in audience.households.items():
        for key, household in sorted(households.items()):
            home = household.get("home")
            if home:
                building = f"{home['complex']}|{home.get('building', '')}"
                found[(grid_id, building)].append((key, household))
    return found


def _alone(tx: Tx, household: Doc) -> bool:
    """Whether someone of the household lives alone (the flag on their record)."""
    members = [tx.get(people.PEOPLE, pid) for pid in household.get("members", [])]
    return any(m is not None and m.get("lives_alone") for m in members)


def chosen(tx: Tx, app: App, person: Doc, pick: str) -> Households:
    """The households of a pick, among the grids the person may send to."""
    homes = _homes(tx, sendable_grids(tx, app, person))
    if pick == ALONE:
        picked = {
            place: [(k, h) for k, h in found if _alone(tx, h)] for place, found in homes.items()
        }
        return {place: found for place, found in picked.items() if found}
    if pick.startswith(BUILDING):
        grid_id, _, building = pick[len(BUILDING) :].partition("|")
        found = homes.get((grid_id, building))
        return {(grid_id, building): found} if found else {}
    return {}


def picks(tx: Tx, app: App, person: Doc) -> list[Pick]:
    """What the person may pick: the elders living alone (if any), then each building."""
    homes = _homes(tx, sendable_grids(tx, app, person))
    alone = sum(1 for found in homes.values() for _, h in found if _alone(tx, h))
    offered = [Pick(ALONE, alone)] if alone else []
    offered += [
        Pick(f"{BUILDING}{grid_id}|{building}", len(found), building)
        for (grid_id, building), found in sorted(homes.items())
    ]
    return offered


def start(tx: Tx, app: App, author_id: str, pick: str, now: datetime) -> Doc:
    """Open the door-knock rounds of a pick, one per building; return the wellbeing record.

    Raises:
        NotCoordinator: the person is not a coordinator of those grids.
        NoAudience: the pick holds no household with a known address (any more).
    """
    author = tx.get(people.PEOPLE, author_id)
    if author is None or not people.has_role(app, author, people.COORDINATOR):
        raise NotCoordinator()
    households = chosen(tx, app, author, pick)
    grids = sorted({grid_id for grid_id, _ in households})
    if not households:
        raise NoAudience()
    if not may_send(app, author, grids):
        raise NotCoordinator()
    tr = translator(author.get("language") or "zh_CN")
    if pick == ALONE:
        title = tr.t("wellbeing.title_alone")
    else:
        [(_, building)] = households
        title = tr.t("wellbeing.title_building", place=building_label(building, tr.is_chinese))
    record_id = new_id("wb")
    record: Doc = {
        "kind": WELLBEING,
        "author_id": author_id,
        "grids": grids,
        "text": title,
        "needs_ack": False,
        "status": NoticeStatus.CLOSED.value,
        "created_at": to_iso(now),
        "closed_at": to_iso(now),
        "households": sum(len(found) for found in households.values()),
        "people": 0,
        "pick": pick,
    }
    record["id"] = record_id
    record["rounds"] = [
        open_round(tx, app, record, grid_id, building, found, now)["id"]
        for (grid_id, building), found in sorted(households.items())
    ]
    tx.put(NOTICES, record_id, record)
    ensure_tidy(tx, app)
    log.info("wellbeing %s: %d rounds", record_id, len(record["rounds"]))
    return record
