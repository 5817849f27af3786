"""The community's shape: micro-grids and the building units in them.

Collections:
    grids   a micro-grid (at most 50 households): name, neighbours, group chat
    units   one building unit of a residential complex, in one grid
"""

from __future__ import annotations

from typing import Any

from assistant.store.base import Doc, Tx

GRIDS = "grids"
UNITS = "units"
MAX_HOUSEHOLDS = 50


def unit_id(complex_name: str, building: str, unit: str) -> str:
    """The stable id of a building unit."""
    return f"{complex_name}|{building}|{unit}"


def complexes(tx: Tx) -> list[str]:
    """Residential complexes, in the order first imported."""
    seen: dict[str, None] = {}
    for unit in sorted(tx.all(UNITS), key=lambda u: u.get("order", 0)):
        seen.setdefault(unit["complex"], None)
    return list(seen)


def buildings(tx: Tx, complex_name: str) -> list[str]:
    """Buildings of a complex."""
    seen: dict[str, None] = {}
    for unit in sorted(tx.find(UNITS, complex=complex_name), key=lambda u: u.get("order", 0)):
        seen.setdefault(unit["building"], None)
    return list(seen)


def units(tx: Tx, complex_name: str, building: str) -> list[Doc]:
    """Units of a building."""
    found = tx.find(UNITS, complex=complex_name, building=building)
    return sorted(found, key=lambda u: u.get("order", 0))


def grid_households(tx: Tx, grid_id: str) -> int:
    """How many households a grid holds."""
    return sum(int(u["households"]) for u in tx.find(UNITS, grid_id=grid_id))


def neighbours(tx: Tx, grid_id: str) -> list[str]:
    """Grids next to this one: declared neighbours and grids of the same complexes."""
    grid = tx.get(GRIDS, grid_id)
    declared = list(grid.get("neighbours", [])) if grid else []
    mine = {u["complex"] for u in tx.find(UNITS, grid_id=grid_id)}
    shared = {u["grid_id"] for u in tx.all(UNITS) if u["complex"] in mine}
    return sorted((set(declared) | shared) - {grid_id})


def grid_name(tx: Tx, grid_id: str | None) -> str:
    """A grid's name, or an empty string."""
    if not grid_id:
        return ""
    grid = tx.get(GRIDS, grid_id)
    return str(grid.get("name", grid_id)) if grid else ""


def describe_household(household: dict[str, Any] | None, chinese: bool) -> str:
    """A household address as residents write it (personal data: never log it)."""
    if not household:
        return ""
    room = household.get("room", "")
    if chinese:
        text = f"{household['complex']} {household['building']}栋 {household['unit']}单元 {room}"
        return text.strip()
    text = f"{household['complex']}, building {household['building']}, unit {household['unit']}"
    return f"{text}, room {room}" if room else text


def coarse_place(household: dict[str, Any] | None) -> str:
    """Only the complex: what may be shown before a task is accepted."""
    return str(household["complex"]) if household else ""


def link_group(tx: Tx, grid_id: str, chat: str) -> None:
    """Make a group chat the neighbours' group of a grid."""
    grid = tx.require(GRIDS, grid_id)
    grid["group_chat"] = chat
    tx.put(GRIDS, grid_id, grid)


def unlink_group(tx: Tx, chat: str) -> str | None:
    """Forget a group chat the bot can no longer write to; return its grid's id."""
    grid = grid_of_group(tx, chat)
    if grid is None:
        return None
    grid["group_chat"] = None
    tx.put(GRIDS, grid["id"], grid)
    return str(grid["id"])


def grid_of_group(tx: Tx, chat: str) -> Doc | None:
    """The grid whose neighbours' group is this chat."""
    found = tx.find(GRIDS, group_chat=chat)
    return found[0] if found else None
