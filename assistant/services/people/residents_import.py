"""``assistant import residents FILE.csv``: the centre's own list of residents, from a spreadsheet.

The centre knows its elders living alone, and their phone numbers, long before
they ever write to the assistant. A row is one resident of a household that
the households import made (the micro-grid and its building unit must exist);
the file is checked whole first, and importing it again changes nothing.

Columns: ``name, grid_id, complex, building, unit, room`` and, each optional,
``phone``, ``birth_year`` (activities for elders over an age), ``lives_alone``
(是/否, yes/no, 1/0: picked by ``/wellbeing``), ``language`` (``zh_CN`` or
``en``) and ``address`` (a chat address, when the centre knows it). A resident
is found again by that address, else by their home and name. A column the file
leaves out leaves that field of a resident found again as it was; an empty cell
clears it.

A resident without a chat address is a record for door-knocks, wellbeing
rounds and phone calls. When the centre learns their chat address, it adds it
to the row and imports the file again: the record found by home and name gets
that address (the centre's own list is trusted; a resident's word in chat is
not, so registering in chat never takes over an imported record).
"""

from __future__ import annotations

from typing import Any

from assistant.conversation.vocabulary import network_of
from assistant.services import people
from assistant.services.people import community
from assistant.services.people.imports import (
    ImportError_,
    ImportResult,
    birth_year,
    check_address,
    check_phone,
    csv_rows,
    need,
)
from assistant.store.base import Doc, Store, Tx

COLUMNS = ("name", "grid_id", "complex", "building", "unit", "room")
OPTIONAL = ("phone", "birth_year", "lives_alone", "language", "address")
YES = {"是", "yes", "y", "1", "true"}
NO = {"", "否", "no", "n", "0", "false"}
LANGUAGES = ("zh_CN", "en")


def parse(text: str, units: dict[str, Doc]) -> list[Doc]:
    """Check a residents file against the building units known (``units`` by id)."""
    out: list[Doc] = []
    seen_addresses: set[str] = set()
    seen_people: set[tuple[str, ...]] = set()
    for number, row in csv_rows(text, COLUMNS, OPTIONAL):
        name = need(number, row, "name")
        grid_id = need(number, row, "grid_id")
        home = {k: need(number, row, k) for k in ("complex", "building", "unit", "room")}
        unit = units.get(community.unit_id(home["complex"], home["building"], home["unit"]))
        if unit is None or unit.get("grid_id") != grid_id:
            raise ImportError_(
                f"row {number}, column unit: no building unit {home['complex']} "
                f"{home['building']}-{home['unit']} in micro-grid {grid_id!r} "
                "(import households first)"
            )
        key = (grid_id, *home.values(), name)
        if key in seen_people:
            raise ImportError_(f"row {number}, column name: {name} of this home appears twice")
        seen_people.add(key)
        alone = row.get("lives_alone", "").lower()
        if alone not in YES | NO:
            raise ImportError_(f"row {number}, column lives_alone: {alone!r} is not 是 or 否")
        language = row.get("language", "") or "zh_CN"
        if language not in LANGUAGES:
            raise ImportError_(f"row {number}, column language: {language!r} is not zh_CN or en")
        found: Doc = {
            "name": name,
            "grid_id": grid_id,
            "household": home,
            "language": language,
            "address": check_address(number, row, seen_addresses),
            **birth_year(number, row),
        }
        # a column the file leaves out leaves the resident's field as it is
        if "phone" in row:
            found["phone"] = check_phone(number, row)
        if "lives_alone" in row:
            found["lives_alone"] = alone in YES
        out.append(found)
    return out


def _existing(tx: Tx, row: Doc) -> Doc | None:
    """The resident a row means: by chat address, else by home and name (not one forgotten)."""
    if row["address"]:
        link = tx.get(people.ADDRESSES, row["address"])
        person = tx.get(people.PEOPLE, link["person_id"]) if link else None
        if person is not None and not person.get("forgotten"):
            return person
    home = row["household"]
    found = tx.find(
        people.PEOPLE, **{f"household.{k}": v for k, v in home.items()}, name=row["name"]
    )
    return next((p for p in found if not p.get("forgotten")), None)


def _fields(row: Doc) -> dict[str, Any]:
    """What a row sets on its resident: the home, and each optional column the file has."""
    kept: dict[str, Any] = {"grid_id": row["grid_id"], "household": row["household"]}
    kept.update({k: row[k] for k in ("phone", "lives_alone", "birth_year") if k in row})
    return kept


def import_residents(store: Store, text: str, now: str) -> ImportResult:
    """Import residents (all or nothing); how many were added, updated, already up to date."""
    with store.snapshot() as tx:
        units = {unit["id"]: unit for unit in tx.all(community.UNITS)}
    rows = parse(text, units)
    counts = {"added": 0, "changed": 0, "unchanged": 0}
    with store.transaction() as tx:
        for row in rows:
            person = _existing(tx, row)
            added = person is None
            if person is None:
                person = people.create_person(
                    tx,
                    name=row["name"],
                    address=None,  # linked below, as for a resident found again
                    language=row["language"],
                    now=now,
                    grid_id=row["grid_id"],
                    household=row["household"],
                    phone=row.get("phone", ""),
                )
            before = dict(person)
            if row["address"] and row["address"] not in person.get("addresses", []):
                telegram = network_of(row["address"]) == "telegram"  # until they open the bot
                people.link_address(tx, person["id"], row["address"], reachable=not telegram)
                person = tx.require(people.PEOPLE, person["id"])
            person.update(_fields(row))
            if added or person != before:
                tx.put(people.PEOPLE, person["id"], person)
            counts["added" if added else "changed" if person != before else "unchanged"] += 1
    noun = ("resident", "residents")
    return ImportResult(counts["added"], counts["changed"], counts["unchanged"], noun)
