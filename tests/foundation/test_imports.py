"""Importing households and volunteers: all or nothing, errors that name row and column."""

from __future__ import annotations

import pytest

from assistant.services import people
from assistant.services.people import community, imports
from assistant.store.memory import MemoryStore

NOW = "2026-06-01T00:00:00+00:00"
GOOD = """grid_id,grid_name,complex,building,unit,households
g1,锦绣一,锦绣家园,1,1,20
g1,锦绣一,锦绣家园,1,2,20
g2,山水一,山水湾,5,1,30
"""


def test_households_import_then_reimport_changes_nothing() -> None:
    store = MemoryStore()
    first = imports.import_households(store, GOOD)
    # Counted as people think: households and micro-grids, not records (2 grids + 3 units)
    assert (first.households_added, first.units_added, first.grids_reached) == (70, 3, 2)
    assert str(first) == "added 70 households (3 building units) in 2 micro-grids, 2 of them new"
    again = imports.import_households(store, GOOD)
    assert (again.households_added, again.units_changed, again.units_unchanged) == (0, 0, 3)
    assert str(again) == "3 building units already up to date"
    with store.snapshot() as tx:
        assert community.complexes(tx) == ["锦绣家园", "山水湾"]
        assert community.grid_households(tx, "g1") == 40


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("grid_id,grid_name,complex,building,unit\n", "missing column(s) households"),
        (GOOD + "g3,x,y,1,1,many\n", "row 5, column households"),
        (GOOD + "g3,x,,1,1,3\n", "row 5, column complex: empty"),
        (GOOD + "g1,另一个名字,锦绣家园,9,1,1\n", "row 5, column grid_name"),
        (GOOD + "g1,锦绣一,锦绣家园,1,3,11\n", "micro-grid g1 would hold 51 households"),
        (GOOD + "g2,山水一,山水湾,5,1,3\n", "row 5, column unit"),
    ],
)
def test_a_bad_households_file_imports_nothing(text: str, message: str) -> None:
    store = MemoryStore()
    with pytest.raises(imports.ImportError_) as error:
        imports.import_households(store, text)
    assert message in str(error.value)
    with store.snapshot() as tx:
        assert tx.all(community.GRIDS) == [] and tx.all(community.UNITS) == []


def test_a_grid_cannot_grow_past_fifty_across_imports() -> None:
    store = MemoryStore()
    imports.import_households(store, GOOD)
    more = "grid_id,grid_name,complex,building,unit,households\ng1,锦绣一,锦绣家园,2,1,11\n"
    with pytest.raises(imports.ImportError_, match="at most 50"):
        imports.import_households(store, more)


VOLUNTEERS = """name,address,grid_id,skills,teams,phone
陈建国,telegram:1001,g1,care;escort,老党员志愿服务队,13800000001
黄秀英,console:huang,g2,pharmacy,,
"""


def test_volunteers_import_then_reimport_changes_nothing() -> None:
    store = MemoryStore()
    imports.import_households(store, GOOD)
    first = imports.import_volunteers(store, VOLUNTEERS, NOW)
    assert first.added == 2
    again = imports.import_volunteers(store, VOLUNTEERS, NOW)
    assert (again.added, again.changed, again.unchanged) == (0, 0, 2)
    with store.snapshot() as tx:
        chen = people.person_at(tx, "telegram:1001")
        assert chen is not None and chen["volunteer"]["skills"] == ["care", "escort"]
        # A Telegram user who never opened the bot cannot be written to yet.
        assert people.reachable_addresses(tx, chen) == []
        huang = people.person_at(tx, "console:huang")
        assert huang is not None and people.reachable_addresses(tx, huang) == ["console:huang"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("李,lin,g1,care,,", "row 4, column address"),
        ("李,console:li,g9,care,,", "row 4, column grid_id"),
        ("李,console:li,g1,flying,,", "row 4, column skills"),
        ("李,console:li,g1,care,,call me", "row 4, column phone"),
        ("李,console:huang,g1,care,,", "row 4, column address"),
    ],
)
def test_a_bad_volunteers_file_imports_nothing(line: str, message: str) -> None:
    store = MemoryStore()
    imports.import_households(store, GOOD)
    with pytest.raises(imports.ImportError_) as error:
        imports.import_volunteers(store, VOLUNTEERS + line + "\n", NOW)
    assert message in str(error.value)
    with store.snapshot() as tx:
        assert tx.all(people.PEOPLE) == []


def test_import_summaries_count_households_and_micro_grids() -> None:
    store = MemoryStore()
    one_grid = "grid_id,grid_name,complex,building,unit,households\ng1,锦绣一,锦绣家园,1,1,1\n"
    assert str(imports.import_households(store, one_grid)) == (
        "added 1 household (1 building unit) in 1 micro-grid, 1 of them new"
    )
    more = one_grid + "g1,锦绣一,锦绣家园,1,2,1\n"
    assert str(imports.import_households(store, more)) == (
        "added 1 household (1 building unit) in 1 micro-grid; 1 building unit already up to date"
    )
    renamed = more.replace("锦绣一", "锦绣家园一网格").replace(",1\n", ",2\n", 1)
    assert str(imports.import_households(store, renamed)) == (
        "updated 1 building unit; renamed 1 micro-grid; 1 building unit already up to date"
    )
    fresh = MemoryStore()
    imports.import_households(fresh, GOOD)
    assert str(imports.import_volunteers(fresh, VOLUNTEERS, NOW)) == "added 2 volunteers"
    assert str(imports.import_volunteers(fresh, VOLUNTEERS, NOW)) == (
        "2 volunteers already up to date"
    )
