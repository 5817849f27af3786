"""People: profiles, linked chat addresses, roles, proxies, and forgetting.

Collections:
    people      one person: name, language, household, grid, roles, volunteer
    addresses   chat address → person id, and whether the bot can reach it
    proxies     a family helper's request to act for a relative
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from assistant.clock import to_iso
from assistant.store.base import Doc, NotFound, Store, Tx, new_id

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

PEOPLE = "people"
ADDRESSES = "addresses"
PROXIES = "proxies"

RESIDENT = "resident"
VOLUNTEER = "volunteer"
COORDINATOR = "coordinator"
ADMIN = "admin"
ROLES = (RESIDENT, VOLUNTEER, COORDINATOR, ADMIN)

FORGOTTEN_NAME = "—"


def person_at(tx: Tx, address: str) -> Doc | None:
    """The person who uses this chat address, if any."""
    link = tx.get(ADDRESSES, address)
    if link is None:
        return None
    person = tx.get(PEOPLE, link["person_id"])
    if person is None or person.get("forgotten"):
        return None
    return person


def roles_of(app: App, person: Doc | None) -> list[str]:
    """Every role a person has; admin comes from settings."""
    if person is None:
        return []
    roles = list(person.get("roles", []))
    if set(person.get("addresses", [])) & set(app.settings.admins) and ADMIN not in roles:
        roles.append(ADMIN)
    return roles


def has_role(app: App, person: Doc | None, *wanted: str) -> bool:
    """Whether a person holds any of these roles (admins hold every one)."""
    roles = set(roles_of(app, person))
    return bool(roles & set(wanted)) or ADMIN in roles


def create_person(
    tx: Tx,
    *,
    name: str,
    address: str | None,
    language: str,
    now: str,
    roles: Iterable[str] = (RESIDENT,),
    grid_id: str | None = None,
    household: dict[str, str] | None = None,
    phone: str = "",
    person_id: str | None = None,
) -> Doc:
    """Create a person, linking one chat address (refused if it is taken)."""
    if address is not None:
        taken = tx.get(ADDRESSES, address)
        if taken is not None and tx.get(PEOPLE, taken["person_id"]) is not None:
            raise ValueError("address already linked")
    pid = person_id or new_id("p")
    person: Doc = {
        "name": name,
        "language": language,
        "addresses": [address] if address else [],
        "roles": sorted(set(roles)),
        "grid_id": grid_id,
        "household": household,
        "phone": phone,
        "created_at": now,
        "coordinator_grids": [],
    }
    tx.put(PEOPLE, pid, person)
    person["id"] = pid
    if address is not None:
        tx.put(ADDRESSES, address, {"person_id": pid, "reachable": True})
        _take_waiting_roles(tx, person, address)
    return person


WAITING_ROLES = "waiting_roles"
"""address → roles given to a chat before anyone registered there (``assistant vendor add``
naming a staff member's chat): the person who registers at it, or links it, holds them."""


def grant_when_registered(tx: Tx, address: str, role: str) -> None:
    """Give ``role`` to whoever registers at (or links) ``address`` later."""
    waiting = tx.get(WAITING_ROLES, address) or {"roles": []}
    waiting["roles"] = sorted({*waiting["roles"], role})
    tx.put(WAITING_ROLES, address, waiting)


def _take_waiting_roles(tx: Tx, person: Doc, address: str) -> None:
    waiting = tx.get(WAITING_ROLES, address)
    if waiting is None:
        return
    person["roles"] = sorted({*person.get("roles", []), *waiting["roles"]})
    tx.put(PEOPLE, person["id"], person)
    tx.delete(WAITING_ROLES, address)


def link_address(tx: Tx, person_id: str, address: str, reachable: bool = True) -> None:
    """Let a person use one more chat address."""
    person = tx.require(PEOPLE, person_id)
    if address not in person["addresses"]:
        person["addresses"].append(address)
        tx.put(PEOPLE, person_id, person)
    tx.put(ADDRESSES, address, {"person_id": person_id, "reachable": reachable})
    _take_waiting_roles(tx, dict(person, id=person_id), address)


def set_reachable(tx: Tx, address: str, reachable: bool) -> None:
    """Record whether the bot can write to this address."""
    link = tx.get(ADDRESSES, address)
    if link is not None and link.get("reachable") != reachable:
        link["reachable"] = reachable
        tx.put(ADDRESSES, address, link)


def reachable_addresses(tx: Tx, person: Doc) -> list[str]:
    """The address a message to this person goes to: at most one, so a person on two
    networks hears each message once, where they last wrote (:func:`preferred_address`)."""
    found = preferred_address(tx, person)
    return [found] if found else []


# -- one person, several addresses: where messages go ---------------------------------------

PIN = "pin"
"""``Outbound.meta[PIN] == "1"``: the message goes to its very address, not to the one its
person last used (a note to the old chat that a new one was linked)."""


def preferred_address(tx: Tx, person: Doc) -> str | None:
    """The reachable address the person last wrote from.

    Each address link counts its turn of use (``used_seq``, written only when the person
    switches networks, see :func:`switched_to`); with none recorded, the address linked
    last wins (it was linked by writing from it).
    """
    best: str | None = None
    best_seq = -1
    for address in person.get("addresses", []):
        link = tx.get(ADDRESSES, address)
        if link is None or not link.get("reachable", True):
            continue
        seq = int(link.get("used_seq") or 0)
        if seq >= best_seq:
            best, best_seq = address, seq
    return best


def current_address(tx: Tx, address: str) -> str:
    """Where a message meant for the person at ``address`` goes now (the outbox asks at send
    time): their preferred address when they have several, else ``address`` itself."""
    link = tx.get(ADDRESSES, address)
    if link is None:
        return address
    person = tx.get(PEOPLE, link["person_id"])
    if person is None or person.get("forgotten") or len(person.get("addresses", [])) < 2:
        return address
    return preferred_address(tx, person) or address


def switched_to(tx: Tx, address: str, person: Doc | None) -> bool:
    """Whether a private message from ``address`` makes it the person's address in use
    (then :func:`note_use` is due; a person with one address never writes for it)."""
    if person is None or len(person.get("addresses", [])) < 2:
        return False
    return preferred_address(tx, person) != address


def note_use(tx: Tx, address: str, now: str) -> None:
    """Record that the person at ``address`` wrote from it last (after all their others)."""
    link = tx.get(ADDRESSES, address)
    if link is None:
        return
    person = tx.get(PEOPLE, link["person_id"]) or {}
    links = [tx.get(ADDRESSES, other) or {} for other in person.get("addresses", [])]
    seqs = [int(other.get("used_seq") or 0) for other in links]
    link["used_seq"] = max(seqs, default=0) + 1
    link["used_at"] = now
    tx.put(ADDRESSES, address, link)


def set_language(store: Store, person_id: str, language: str) -> None:
    """Remember a person's language."""
    with store.transaction() as tx:
        person = tx.require(PEOPLE, person_id)
        person["language"] = language
        tx.put(PEOPLE, person_id, person)


def update(store: Store, person_id: str, **fields: Any) -> Doc:
    """Change some fields of a person's profile."""
    with store.transaction() as tx:
        person = tx.require(PEOPLE, person_id)
        person.update(fields)
        tx.put(PEOPLE, person_id, person)
        return person


def request_proxy(tx: Tx, helper_id: str, relative_name: str, note: str, now: str) -> Doc:
    """A family helper asks to act for a relative; a coordinator decides."""
    link: Doc = {
        "helper_id": helper_id,
        "relative_name": relative_name,
        "note": note,
        "status": "pending",
        "created_at": now,
    }
    link_id = new_id("px")
    tx.put(PROXIES, link_id, link)
    link["id"] = link_id
    return link


def decide_proxy(tx: Tx, link_id: str, approve: bool, coordinator_id: str) -> Doc:
    """Accept or decline a proxy request; accepting creates the relative's profile."""
    link = tx.require(PROXIES, link_id)
    if link["status"] != "pending":
        return link
    helper = tx.require(PEOPLE, link["helper_id"])
    link["status"] = "approved" if approve else "declined"
    link["decided_by"] = coordinator_id
    if approve:
        relative = create_person(
            tx,
            name=link["relative_name"],
            address=None,
            language=helper.get("language", "zh_CN"),
            now=link["created_at"],
            grid_id=helper.get("grid_id"),
            household=helper.get("household"),
        )
        link["relative_id"] = relative["id"]
    tx.put(PROXIES, link_id, link)
    return link


def relatives_of(tx: Tx, helper_id: str) -> list[Doc]:
    """The relatives a person may act for (accepted proxies)."""
    out = []
    for link in tx.find(PROXIES, helper_id=helper_id, status="approved"):
        relative = tx.get(PEOPLE, link.get("relative_id", ""))
        if relative is not None and not relative.get("forgotten"):
            out.append(relative)
    return out


def grant(tx: Tx, address: str, role: str, grids: Iterable[str] = ()) -> Doc:
    """Give the person at an address a role (coordinators: of some grids)."""
    if role not in (VOLUNTEER, COORDINATOR):
        raise ValueError(f"roles that can be granted: {VOLUNTEER}, {COORDINATOR}")
    person = person_at(tx, address)
    if person is None:
        raise NotFound(f"nobody has registered from {address} yet")
    person["roles"] = sorted(set(person.get("roles", [])) | {role})
    if role == COORDINATOR:
        known = {grid["id"] for grid in tx.all("grids")}
        wanted = set(grids)
        unknown = wanted - known
        if unknown:
            raise ValueError(f"no such micro-grid: {', '.join(sorted(unknown))}")
        person["coordinator_grids"] = sorted(set(person.get("coordinator_grids", [])) | wanted)
    tx.put(PEOPLE, person["id"], person)
    return person


def revoke(tx: Tx, address: str, role: str) -> Doc:
    """Take a role away from the person at an address."""
    person = person_at(tx, address)
    if person is None:
        raise NotFound(f"nobody has registered from {address} yet")
    person["roles"] = sorted(set(person.get("roles", [])) - {role})
    if role == COORDINATOR:
        person["coordinator_grids"] = []
    tx.put(PEOPLE, person["id"], person)
    return person


def coordinators_for(tx: Tx, grid_id: str | None) -> list[Doc]:
    """Coordinators of a grid; all coordinators when the grid has none."""
    everyone = [p for p in tx.all(PEOPLE) if COORDINATOR in p.get("roles", [])]
    mine = [p for p in everyone if grid_id and grid_id in p.get("coordinator_grids", [])]
    return mine or everyone


def now_iso(app: App) -> str:
    """The app's current time as stored."""
    return to_iso(app.clock.now())
