"""The spatial index of open cases: merge decisions read a few small cells, never every case.

A case is kept under ``<category>|p:<place id>`` when it was reported at a
known place and under ``<category>|g<size>:<row>:<column>`` (the cell of its
coordinates, :mod:`assistant.domain.geo`) when it has a point. A search for a
new report reads its place's entry and the 3 × 3 cells around its point, and
then only the cases listed there. A case leaves the index when it is verified
or closed; a handled case stays for ``[reports] merge_window_minutes`` (its
entry carries an ``until``), so a report just after the volunteer left still
joins it. Closed cases are never in the index, so the cost of a merge does not
grow with the number of cases ever made (see ``bench/bench_reports.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from assistant.clock import from_iso, to_iso
from assistant.domain import geo
from assistant.services.reports.records import CELLS
from assistant.store.base import Doc, Tx


def place_key(category: str, place_id: str) -> str:
    """The entry of a known place."""
    return f"{category}|p:{place_id}"


def cell_key(category: str, cell: str) -> str:
    """The entry of a cell."""
    return f"{category}|{cell}"


def keys_of(category: str, place_id: str, where: geo.Point | None, size_m: float) -> list[str]:
    """The entries a case of this place is kept under."""
    keys = [place_key(category, place_id)] if place_id else []
    if where is not None:
        keys.append(cell_key(category, geo.cell(where, size_m)))
    return keys


def search_keys(category: str, place_id: str, where: geo.Point | None, size_m: float) -> list[str]:
    """The entries a report of this place must read to find every case it could join."""
    keys = [place_key(category, place_id)] if place_id else []
    if where is not None:
        keys += [cell_key(category, cell) for cell in geo.cells_near(where, size_m)]
    return keys


def candidates(tx: Tx, keys: Iterable[str], now: datetime) -> list[str]:
    """The case ids listed under these entries whose time there has not run out."""
    found: list[str] = []
    for key in keys:
        entry = tx.get(CELLS, key)
        if entry is None:
            continue
        for case_id, until in entry.get("cases", {}).items():
            if (not until or from_iso(until) > now) and case_id not in found:
                found.append(case_id)
    return found


def add(
    tx: Tx, keys: Iterable[str], case_id: str, now: datetime, until: datetime | None = None
) -> None:
    """List a case under these entries (``until``: only till then); stale ids are dropped."""
    for key in keys:
        entry = tx.get(CELLS, key) or {"cases": {}}
        cases = _fresh(entry.get("cases", {}), now)
        cases[case_id] = to_iso(until) if until else ""
        tx.put(CELLS, key, {"cases": cases})


def remove(tx: Tx, keys: Iterable[str], case_id: str, now: datetime) -> None:
    """Take a case off these entries; an entry left empty is deleted."""
    for key in keys:
        entry = tx.get(CELLS, key)
        if entry is None:
            continue
        cases = _fresh(entry.get("cases", {}), now)
        cases.pop(case_id, None)
        if cases:
            tx.put(CELLS, key, {"cases": cases})
        else:
            tx.delete(CELLS, key)


def _fresh(cases: dict[str, str], now: datetime) -> dict[str, str]:
    """The entries whose time has not run out."""
    return {cid: until for cid, until in cases.items() if not until or from_iso(until) > now}


def entries(tx: Tx) -> list[Doc]:
    """Every entry (for tests and the benchmark)."""
    return tx.all(CELLS)
