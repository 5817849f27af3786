"""The community's shape: micro-grids and the building units in them.

Collections:
    grids   a micro-grid (at most 50 households): name, neighbours, group chat
    units   one building unit of a residential complex, in one grid
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.i18n import Translator

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


MARKERS = {
    "building": ("号楼", "栋", "幢", "楼"),
    "unit": ("单元",),
    "room": ("室", "号", "房"),
}
"""Chinese words people type after a number ("808室"): the description says them itself."""


def _part(household: dict[str, Any], field: str) -> str:
    """One part of an address without its Chinese marker, full-width digits made plain."""
    text = unicodedata.normalize("NFKC", str(household.get(field, ""))).strip()
    for marker in MARKERS[field]:
        if text.endswith(marker) and len(text) > len(marker):
            return text[: -len(marker)].strip()
    return text


def describe_household(household: dict[str, Any] | None, chinese: bool) -> str:
    """A household address as residents write it (personal data: never log it).

    Names of places stay as they are (锦绣家园); in English the words around
    them are English: "锦绣家园, building 1, unit 2, room 808", never "808室".
    """
    if not household:
        return ""
    building, unit, room = (_part(household, f) for f in ("building", "unit", "room"))
    if chinese:
        return f"{household['complex']} {building}栋 {unit}单元 {room}".strip()
    text = f"{household['complex']}, building {building}, unit {unit}"
    return f"{text}, room {room}" if room else text


def centre_name(settings: Settings, chinese: bool) -> str:
    """The neighbourhood centre's name in one language (``[community] centre``/``centre_en``)."""
    return str(settings.get("community", "centre" if chinese else "centre_en"))


def community_name(settings: Settings, chinese: bool) -> str:
    """The community's name in one language (``[community] name``/``name_en``)."""
    return str(settings.get("community", "name" if chinese else "name_en"))


def how_to_reach(settings: Settings, tr: Translator) -> str:
    """How to reach the centre for what chat cannot do yet: its phone if set, else a visit."""
    centre = centre_name(settings, tr.is_chinese)
    phone = str(settings.get("community", "phone")).strip()
    if phone:
        return tr.t("core.reach_phone", phone=phone, centre=centre)
    return tr.t("core.reach_visit", centre=centre)


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
