"""``assistant import residents``: the centre's own list, checked whole, found again, and used.

Given / When / Then:
- a file of residents in imported building units is stored (phone, birth year, living alone),
  and importing it again changes nothing; a changed row updates its resident;
- a row whose chat address the centre learned later gives the record found by home and name
  that address, so the resident is the same person when they write;
- a bad file imports nothing, and its error names the row and column;
- an elder living alone from the file is in the next wellbeing round.
"""

from __future__ import annotations

import pytest

from assistant.bootstrap import build_for_tests
from assistant.services import people
from assistant.services.notices import wellbeing
from assistant.services.people import imports, residents_import
from assistant.store.memory import MemoryStore

NOW = "2026-06-01T00:00:00+00:00"
UNITS = """grid_id,grid_name,complex,building,unit,households
ssw-1,山水湾一网格,山水湾,6,1,12
ssw-1,山水湾一网格,山水湾,6,2,12
"""
HEAD = "name,grid_id,complex,building,unit,room,phone,birth_year,lives_alone\n"
RESIDENTS = HEAD + (
    "何奶奶,ssw-1,山水湾,6,1,302,13800000001,1941,是\n周爷爷,ssw-1,山水湾,6,2,101,,1938,否\n"
)


def store_with_units() -> MemoryStore:
    store = MemoryStore()
    imports.import_households(store, UNITS)
    return store


def residents(store: MemoryStore) -> dict[str, dict[str, object]]:
    with store.snapshot() as tx:
        return {p["name"]: p for p in tx.all(people.PEOPLE)}


def test_residents_import_then_reimport_changes_nothing_and_a_change_updates() -> None:
    store = store_with_units()
    first = residents_import.import_residents(store, RESIDENTS, NOW)
    assert str(first) == "added 2 residents"
    he = residents(store)["何奶奶"]
    assert he["household"] == {"complex": "山水湾", "building": "6", "unit": "1", "room": "302"}
    assert (he["phone"], he["birth_year"], he["lives_alone"], he["addresses"]) == (
        "13800000001",
        1941,
        True,
        [],
    )
    assert residents(store)["周爷爷"]["lives_alone"] is False
    again = residents_import.import_residents(store, RESIDENTS, NOW)
    assert str(again) == "2 residents already up to date"
    changed = RESIDENTS.replace(
        "周爷爷,ssw-1,山水湾,6,2,101,,1938,否", "周爷爷,ssw-1,山水湾,6,2,101,,1938,是"
    )
    assert str(residents_import.import_residents(store, changed, NOW)) == (
        "updated 1 resident; 1 resident already up to date"
    )
    assert residents(store)["周爷爷"]["lives_alone"] is True


def test_an_address_learned_later_goes_to_the_record_found_by_home_and_name() -> None:
    store = store_with_units()
    residents_import.import_residents(store, RESIDENTS, NOW)
    with_address = (
        "name,grid_id,complex,building,unit,room,address\n何奶奶,ssw-1,山水湾,6,1,302,console:he\n"
    )
    assert str(residents_import.import_residents(store, with_address, NOW)).startswith("updated 1")
    with store.snapshot() as tx:
        found = people.person_at(tx, "console:he")
    # and the columns that file left out stay as they were
    assert found is not None and found["name"] == "何奶奶" and found["phone"] == "13800000001"
    assert found["lives_alone"] is True and found["birth_year"] == 1941
    assert len(residents(store)) == 2  # the same person, not a second 何奶奶


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("何奶奶,ssw-1,山水湾,6,9,302,,,", "row 2, column unit: no building unit 山水湾 6-9"),
        ("何奶奶,ssw-2,山水湾,6,1,302,,,", "in micro-grid 'ssw-2'"),
        ("何奶奶,ssw-1,山水湾,6,1,302,abc,,", "row 2, column phone"),
        ("何奶奶,ssw-1,山水湾,6,1,302,,1800,", "row 2, column birth_year"),
        ("何奶奶,ssw-1,山水湾,6,1,302,,,也许", "row 2, column lives_alone"),
        (",ssw-1,山水湾,6,1,302,,,", "row 2, column name: empty"),
        ("何奶奶,ssw-1,山水湾,6,1,,,,", "row 2, column room: empty"),
    ],
)
def test_a_bad_residents_file_imports_nothing(line: str, message: str) -> None:
    store = store_with_units()
    text = HEAD + line + "\n" + "周爷爷,ssw-1,山水湾,6,2,101,,1938,否\n"
    with pytest.raises(imports.ImportError_, match=message):
        residents_import.import_residents(store, text, NOW)
    assert residents(store) == {}


def test_the_same_resident_twice_and_an_unknown_column_are_refused() -> None:
    store = store_with_units()
    twice = HEAD + "何奶奶,ssw-1,山水湾,6,1,302,,,\n" * 2
    with pytest.raises(imports.ImportError_, match="row 3, column name: 何奶奶 of this home"):
        residents_import.import_residents(store, twice, NOW)
    odd = "name,grid_id,complex,building,unit,room,mood\n何奶奶,ssw-1,山水湾,6,1,302,好\n"
    with pytest.raises(imports.ImportError_, match="unknown column"):
        residents_import.import_residents(store, odd, NOW)


def test_an_elder_living_alone_from_the_file_is_in_the_wellbeing_round() -> None:
    store = store_with_units()
    residents_import.import_residents(store, RESIDENTS, NOW)
    app = build_for_tests(store=store)
    with store.transaction() as tx:
        coordinator = people.create_person(
            tx, name="网格员", address="console:grid", language="zh_CN", now=NOW, grid_id="ssw-1"
        )
        people.grant(tx, "console:grid", people.COORDINATOR, grids=["ssw-1"])
        coordinator = tx.require(people.PEOPLE, coordinator["id"])
    with store.snapshot() as tx:
        picked = wellbeing.chosen(tx, app, coordinator, wellbeing.ALONE)
    rooms = [h.get("home", {}).get("room") for found in picked.values() for _, h in found]
    assert rooms == ["302"]  # 何奶奶, and not 周爷爷, who does not live alone


def test_a_new_resident_with_a_telegram_address_waits_to_be_reachable() -> None:
    store = store_with_units()
    row = (
        "name,grid_id,complex,building,unit,room,address\n何奶奶,ssw-1,山水湾,6,1,302,telegram:55\n"
    )
    assert str(residents_import.import_residents(store, row, NOW)) == "added 1 resident"
    assert (
        str(residents_import.import_residents(store, row, NOW)) == "1 resident already up to date"
    )
    with store.snapshot() as tx:
        found = people.person_at(tx, "telegram:55")
        link = tx.get(people.ADDRESSES, "telegram:55")
    assert found is not None and found["addresses"] == ["telegram:55"]
    assert link is not None and link["reachable"] is False  # until she opens the bot
