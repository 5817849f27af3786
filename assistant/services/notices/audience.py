"""Who a notice reaches: the households of some micro-grids, their reachable members, the groups.

The preview and the confirmed notice use the same :func:`gather`, so the counts the
coordinator confirms are the counts that go out. Each person gets one copy, at their
first reachable address; a household with nobody reachable is counted as such and
is among the first a door-knock round visits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from assistant.services import people
from assistant.services.notices.records import household_key
from assistant.services.people import community
from assistant.store.base import Doc, Tx


@dataclass(frozen=True)
class Recipient:
    """One person a notice copy goes to."""

    person_id: str
    address: str
    language: str
    household: str
    grid_id: str


@dataclass
class Audience:
    """Everyone a notice to some grids would reach, and how they group into households."""

    grids: tuple[str, ...]
    recipients: list[Recipient] = field(default_factory=list)
    households: dict[str, dict[str, Doc]] = field(default_factory=dict)
    """grid id → household key → ``{"home", "members", "reachable"}``."""
    groups: dict[str, str] = field(default_factory=dict)
    """grid id → the address of its neighbours' group."""
    unregistered: int = 0
    """Households the grids hold (by the imported counts) with nobody registered."""

    @property
    def household_count(self) -> int:
        """Households known by their members."""
        return sum(len(found) for found in self.households.values())

    @property
    def unreachable(self) -> int:
        """Known households with nobody the assistant can write to."""
        return sum(
            1 for found in self.households.values() for h in found.values() if not h["reachable"]
        )


def every_grid(tx: Tx) -> list[str]:
    """Every micro-grid of the community, in id order."""
    return [str(grid["id"]) for grid in tx.all(community.GRIDS)]


def known_grids(tx: Tx, wanted: Iterable[str]) -> tuple[str, ...]:
    """The wanted grids that exist, in the order given, each once."""
    known = set(every_grid(tx))
    return tuple(dict.fromkeys(g for g in wanted if g in known))


def gather(tx: Tx, grids: Iterable[str]) -> Audience:
    """The audience of a notice to these grids, read in one pass over people."""
    chosen = known_grids(tx, grids)
    audience = Audience(grids=chosen, households={g: {} for g in chosen})
    wanted = set(chosen)
    for person in tx.all(people.PEOPLE):
        grid_id = person.get("grid_id")
        if grid_id not in wanted or person.get("forgotten"):
            continue
        _add(tx, audience, person, str(grid_id))
    for grid_id in chosen:
        grid = tx.get(community.GRIDS, grid_id) or {}
        if grid.get("group_chat"):
            audience.groups[grid_id] = str(grid["group_chat"])
        imported = community.grid_households(tx, grid_id)
        homes = sum(1 for h in audience.households[grid_id].values() if h["home"])
        audience.unregistered += max(0, imported - homes)
    return audience


def _add(tx: Tx, audience: Audience, person: Mapping[str, Any], grid_id: str) -> None:
    """Count one person in their household, and as a recipient when reachable."""
    key = household_key(person)
    home = person.get("household") or None
    found = audience.households[grid_id].setdefault(
        key, {"home": dict(home) if home and home.get("room") else None, "members": []}
    )
    found["members"].append(str(person["id"]))
    addresses = people.reachable_addresses(tx, dict(person))
    found["reachable"] = bool(found.get("reachable")) or bool(addresses)
    if addresses:
        audience.recipients.append(
            Recipient(
                person_id=str(person["id"]),
                address=addresses[0],
                language=str(person.get("language") or "zh_CN"),
                household=key,
                grid_id=grid_id,
            )
        )
