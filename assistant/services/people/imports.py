"""Importing households and volunteers from CSV files (residents: :mod:`.residents_import`).

A file is checked whole before anything is written: an error names the row
and the column, and a bad file imports nothing. Importing the same file again
changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.conversation.vocabulary import BadAddress, network_of, parse_address
from assistant.domain.catalogue import SKILLS
from assistant.domain.numbers import is_digits
from assistant.errors import AssistantError
from assistant.services import people
from assistant.services.people import community
from assistant.store.base import Doc, Store, Tx

HOUSEHOLD_COLUMNS = ("grid_id", "grid_name", "complex", "building", "unit", "households")
VOLUNTEER_COLUMNS = ("name", "address", "grid_id", "skills", "teams", "phone")
OPTIONAL_COLUMNS = ("birth_year",)
"""Columns a volunteers file may leave out (``birth_year``: activities for elders over an age)."""


class ImportError_(AssistantError, ValueError):
    """A file that cannot be imported; the message names the row and column."""


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


@dataclass(frozen=True)
class ImportResult:
    """What a volunteers (or residents) import did, counted in people."""

    added: int
    changed: int
    unchanged: int
    noun: tuple[str, str] = ("volunteer", "volunteers")

    def __str__(self) -> str:
        one, many = self.noun
        parts = []
        if self.added:
            parts.append("added " + _count(self.added, one, many))
        if self.changed:
            parts.append("updated " + _count(self.changed, one, many))
        if self.unchanged:
            parts.append(_count(self.unchanged, one, many) + " already up to date")
        return "; ".join(parts) or f"the file holds no {many}"


@dataclass(frozen=True)
class HouseholdsResult:
    """What a households import did, in what people count: households and micro-grids.

    A row of the file is one building unit holding some households; ``units_*``
    count rows, ``households_added`` the households in the units that are new,
    ``grids_added`` the micro-grids that are new and ``grids_reached`` the
    micro-grids those new units belong to.
    """

    households_added: int
    units_added: int
    units_changed: int
    units_unchanged: int
    grids_added: int
    grids_renamed: int
    grids_reached: int

    def __str__(self) -> str:
        parts = []
        if self.units_added:
            parts.append(
                f"added {_count(self.households_added, 'household', 'households')} "
                f"({_count(self.units_added, 'building unit', 'building units')}) in "
                f"{_count(self.grids_reached, 'micro-grid', 'micro-grids')}"
                + (f", {self.grids_added} of them new" if self.grids_added else "")
            )
        if self.units_changed:
            parts.append(f"updated {_count(self.units_changed, 'building unit', 'building units')}")
        if self.grids_renamed:
            parts.append(f"renamed {_count(self.grids_renamed, 'micro-grid', 'micro-grids')}")
        if self.units_unchanged:
            parts.append(
                _count(self.units_unchanged, "building unit", "building units")
                + " already up to date"
            )
        return "; ".join(parts) or "the file holds no households"


def csv_rows(
    text: str, columns: tuple[str, ...], optional: tuple[str, ...] = OPTIONAL_COLUMNS
) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [name for name in columns if name not in header]
    if missing:
        raise ImportError_(f"row 1: missing column(s) {', '.join(missing)}")
    unknown = [name for name in header if name not in columns + optional]
    if unknown:
        raise ImportError_(f"row 1: unknown column(s) {', '.join(unknown)}")
    for number, row in enumerate(reader, start=2):
        if None in row:
            raise ImportError_(f"row {number}: more values than columns")
        cleaned = {key.strip(): (value or "").strip() for key, value in row.items() if key}
        if not any(cleaned.values()):
            continue
        yield number, cleaned


def need(number: int, row: dict[str, str], column: str) -> str:
    value = row.get(column, "")
    if not value:
        raise ImportError_(f"row {number}, column {column}: empty")
    if len(value) > 80:
        raise ImportError_(f"row {number}, column {column}: longer than 80 characters")
    return value


def read_file(path: str | Path) -> str:
    """A CSV file's text (UTF-8, with or without BOM)."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ImportError_(f"{path}: not UTF-8 text") from None
    except OSError as error:
        raise ImportError_(f"{path}: {error.strerror}") from None


def parse_households(text: str) -> tuple[dict[str, Doc], dict[str, Doc]]:
    """Check a households file; return grids and units by id."""
    grids: dict[str, Doc] = {}
    units: dict[str, Doc] = {}
    totals: dict[str, int] = {}
    for number, row in csv_rows(text, HOUSEHOLD_COLUMNS):
        grid_id = need(number, row, "grid_id")
        grid_name = need(number, row, "grid_name")
        complex_name = need(number, row, "complex")
        building = need(number, row, "building")
        unit = need(number, row, "unit")
        count_text = need(number, row, "households")
        if not is_digits(count_text) or int(count_text) <= 0:
            raise ImportError_(
                f"row {number}, column households: {count_text!r} is not a whole number above 0"
            )
        known = grids.get(grid_id)
        if known is not None and known["name"] != grid_name:
            raise ImportError_(
                f"row {number}, column grid_name: grid {grid_id} was named {known['name']!r} before"
            )
        grids[grid_id] = {"name": grid_name}
        key = community.unit_id(complex_name, building, unit)
        if key in units:
            raise ImportError_(f"row {number}, column unit: {complex_name} {building}-{unit} twice")
        units[key] = {
            "grid_id": grid_id,
            "complex": complex_name,
            "building": building,
            "unit": unit,
            "households": int(count_text),
            "order": number,
        }
        totals[grid_id] = totals.get(grid_id, 0) + int(count_text)
        if totals[grid_id] > community.MAX_HOUSEHOLDS:
            raise ImportError_(
                f"row {number}, column households: micro-grid {grid_id} would hold "
                f"{totals[grid_id]} households; a micro-grid holds at most "
                f"{community.MAX_HOUSEHOLDS}. Split it into two grids."
            )
    return grids, units


def _merge(tx: Tx, collection: str, doc_id: str, fields: Doc) -> str:
    """Write fields into a document; say whether it was added, changed or unchanged."""
    current = tx.get(collection, doc_id)
    if current is None:
        tx.put(collection, doc_id, fields)
        return "added"
    merged = {**current, **fields}
    if merged == current:
        return "unchanged"
    tx.put(collection, doc_id, merged)
    return "changed"


def import_households(store: Store, text: str) -> HouseholdsResult:
    """Import micro-grids and building units (all or nothing)."""
    grids, units = parse_households(text)
    grid_counts = {"added": 0, "changed": 0, "unchanged": 0}
    counts = {"added": 0, "changed": 0, "unchanged": 0}
    households_added = 0
    reached: set[str] = set()
    with store.transaction() as tx:
        for grid_id, grid in grids.items():
            grid_counts[_merge(tx, community.GRIDS, grid_id, grid)] += 1
        for key, unit in units.items():
            existing_total = sum(
                int(u["households"])
                for u in tx.find(community.UNITS, grid_id=unit["grid_id"])
                if u["id"] not in units
            )
            file_total = sum(
                int(u["households"]) for u in units.values() if u["grid_id"] == unit["grid_id"]
            )
            if existing_total + file_total > community.MAX_HOUSEHOLDS:
                raise ImportError_(
                    f"micro-grid {unit['grid_id']} would hold {existing_total + file_total} "
                    f"households with those already imported; at most {community.MAX_HOUSEHOLDS}"
                )
            outcome = _merge(tx, community.UNITS, key, unit)
            counts[outcome] += 1
            if outcome == "added":
                households_added += int(unit["households"])
                reached.add(unit["grid_id"])
    return HouseholdsResult(
        households_added=households_added,
        units_added=counts["added"],
        units_changed=counts["changed"],
        units_unchanged=counts["unchanged"],
        grids_added=grid_counts["added"],
        grids_renamed=grid_counts["changed"],
        grids_reached=len(reached),
    )


def parse_volunteers(text: str, known_grids: set[str]) -> list[Doc]:
    """Check a volunteers file."""
    out: list[Doc] = []
    seen: set[str] = set()
    for number, row in csv_rows(text, VOLUNTEER_COLUMNS):
        name = need(number, row, "name")
        need(number, row, "address")
        address = check_address(number, row, seen)
        grid_id = need(number, row, "grid_id")
        if grid_id not in known_grids:
            raise ImportError_(f"row {number}, column grid_id: no micro-grid {grid_id!r}")
        skills = [s.strip() for s in row.get("skills", "").split(";") if s.strip()]
        if not skills:
            raise ImportError_(f"row {number}, column skills: empty")
        for skill in skills:
            if skill not in SKILLS:
                raise ImportError_(
                    f"row {number}, column skills: {skill!r} is not one of {', '.join(SKILLS)}"
                )
        teams = [t.strip() for t in row.get("teams", "").split(";") if t.strip()]
        phone = check_phone(number, row)
        out.append(
            {
                "name": name,
                "address": address,
                "grid_id": grid_id,
                "skills": skills,
                "teams": teams,
                "phone": phone,
                **birth_year(number, row),
            }
        )
    return out


def check_phone(number: int, row: dict[str, str]) -> str:
    """The optional ``phone`` column: empty, or digits with ``+``, ``-`` and spaces."""
    phone = row.get("phone", "")
    if phone and not phone.replace("+", "").replace("-", "").replace(" ", "").isdigit():
        raise ImportError_(f"row {number}, column phone: not a phone number")
    return phone


def check_address(number: int, row: dict[str, str], seen: set[str]) -> str:
    """A chat address column, once in the file (empty when ``row`` has none)."""
    raw = row.get("address", "")
    if not raw:
        return ""
    try:
        address = parse_address(raw)
    except BadAddress:
        raise ImportError_(
            f"row {number}, column address: {raw!r} is not a chat address "
            "like telegram:123456 or matrix:@name:server"
        ) from None
    if address in seen:
        raise ImportError_(f"row {number}, column address: {address} appears twice")
    seen.add(address)
    return address


def birth_year(number: int, row: dict[str, str]) -> dict[str, int]:
    """``{"birth_year": 1950}`` when the optional column holds a year, ``{}`` when empty."""
    text = row.get("birth_year", "")
    if not text:
        return {}
    if not is_digits(text) or not 1900 <= int(text) <= 2100:
        raise ImportError_(f"row {number}, column birth_year: {text!r} is not a year like 1950")
    return {"birth_year": int(text)}


def volunteer_profile(row: Doc, now: str) -> dict[str, Any]:
    """The volunteer part of a person imported from a file (already approved)."""
    return {
        "status": "approved",
        "skills": sorted(row["skills"]),
        "teams": sorted(row["teams"]),
        "grid_id": row["grid_id"],
        "hours_per_week": 4,
        "on_duty": True,
        "since": now,
    }


def import_volunteers(store: Store, text: str, now: str) -> ImportResult:
    """Import approved volunteers (all or nothing)."""
    with store.snapshot() as tx:
        known = {grid["id"] for grid in tx.all(community.GRIDS)}
    rows = parse_volunteers(text, known)
    counts = {"added": 0, "changed": 0, "unchanged": 0}
    with store.transaction() as tx:
        for row in rows:
            link = tx.get(people.ADDRESSES, row["address"])
            person = tx.get(people.PEOPLE, link["person_id"]) if link else None
            if person is None or person.get("forgotten"):
                person = people.create_person(
                    tx,
                    name=row["name"],
                    address=row["address"],
                    language="zh_CN",
                    now=now,
                    roles=(people.RESIDENT, people.VOLUNTEER),
                    grid_id=row["grid_id"],
                    phone=row["phone"],
                )
                person["volunteer"] = volunteer_profile(row, now)
                person.update({k: row[k] for k in OPTIONAL_COLUMNS if k in row})
                tx.put(people.PEOPLE, person["id"], person)
                # Telegram lets a bot write only to people who opened it first.
                if network_of(row["address"]) == "telegram":
                    people.set_reachable(tx, row["address"], False)
                counts["added"] += 1
                continue
            before = dict(person)
            volunteer = dict(person.get("volunteer") or volunteer_profile(row, now))
            volunteer.update(
                skills=sorted(row["skills"]), teams=sorted(row["teams"]), grid_id=row["grid_id"]
            )
            person.update(name=row["name"], phone=row["phone"], volunteer=volunteer)
            person.update({k: row[k] for k in OPTIONAL_COLUMNS if k in row})
            person["roles"] = sorted(set(person.get("roles", [])) | {people.VOLUNTEER})
            if person == before:
                counts["unchanged"] += 1
            else:
                tx.put(people.PEOPLE, person["id"], person)
                counts["changed"] += 1
    return ImportResult(counts["added"], counts["changed"], counts["unchanged"])
