"""Known places: the grid's buildings, gates, the market, the clinic, the bus stop.

A resident who cannot share a location pin picks a known place from buttons.
Places are imported from CSV (``assistant import places FILE.csv``, columns
``id,grid_id,name_zh,name_en,kind,lat,lon``; ``lat``/``lon`` may be empty) or
added by a coordinator in chat. A place with coordinates also tells which
micro-grid a nearby pin belongs to.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime

from assistant.clock import to_iso
from assistant.domain import geo
from assistant.errors import AssistantError
from assistant.services.people import community
from assistant.services.reports.records import PLACES, NoSuchPlace
from assistant.store.base import Doc, Store, Tx, new_id

COLUMNS = ("id", "grid_id", "name_zh", "name_en", "kind", "lat", "lon")
MAX_NAME = 40
NEAR_M = 500.0
"""A pin this near a known place with coordinates belongs to that place's grid."""


class PlacesFileError(AssistantError, ValueError):
    """A places file that cannot be imported; the message names the row and column."""


def place_name(place: Doc, chinese: bool) -> str:
    """A place's name in the reader's language (the Chinese name when there is no English one)."""
    if chinese:
        return str(place.get("name_zh") or place.get("name_en") or "")
    return str(place.get("name_en") or place.get("name_zh") or "")


def of_grid(tx: Tx, grid_id: str | None) -> list[Doc]:
    """The known places of a grid, by name."""
    if not grid_id:
        return []
    return sorted(tx.find(PLACES, grid_id=grid_id), key=lambda p: (p.get("name_zh", ""), p["id"]))


def require(tx: Tx, place_id: str) -> Doc:
    """A known place, or :class:`NoSuchPlace`."""
    place = tx.get(PLACES, place_id) if place_id else None
    if place is None:
        raise NoSuchPlace()
    return place


def point_of(place: Doc) -> geo.Point | None:
    """A place's coordinates, when it has them."""
    return geo.point(place.get("lat"), place.get("lon"))


def nearest(tx: Tx, where: geo.Point) -> Doc | None:
    """The known place with coordinates nearest to a pin, within :data:`NEAR_M`."""
    best: tuple[float, Doc] | None = None
    for place in tx.all(PLACES):
        spot = point_of(place)
        if spot is None:
            continue
        far = geo.distance_m(where, spot)
        if far <= NEAR_M and (best is None or far < best[0]):
            best = (far, place)
    return best[1] if best else None


def add(
    tx: Tx,
    *,
    grid_id: str,
    name_zh: str,
    name_en: str = "",
    kind: str = "",
    where: geo.Point | None = None,
    now: datetime,
    place_id: str = "",
) -> Doc:
    """Add (or replace) a known place of a grid; return it."""
    place_id = place_id or new_id("pl")
    place: Doc = {
        "grid_id": grid_id,
        "name_zh": name_zh[:MAX_NAME],
        "name_en": name_en[:MAX_NAME],
        "kind": kind,
        "lat": where.lat if where else None,
        "lon": where.lon if where else None,
        "added_at": to_iso(now),
    }
    tx.put(PLACES, place_id, place)
    return place


def import_places(store: Store, text: str, now: datetime) -> str:
    """Import a places file, checked whole first; say what changed.

    Raises:
        PlacesFileError: a bad header, an unknown grid, a bad coordinate; nothing is imported.
    """
    rows = list(_rows(text))
    with store.transaction() as tx:
        grids = {g["id"] for g in tx.all(community.GRIDS)}
        for number, row in rows:
            if row["grid_id"] not in grids:
                raise PlacesFileError(f"row {number}, column grid_id: unknown micro-grid")
        added = changed = 0
        for _, row in rows:
            before = tx.get(PLACES, str(row["id"]))
            where = geo.point(row["lat"], row["lon"]) if row["lat"] is not None else None
            fields = {
                "grid_id": row["grid_id"],
                "name_zh": row["name_zh"],
                "name_en": row["name_en"],
                "kind": row["kind"],
                "lat": where.lat if where else None,
                "lon": where.lon if where else None,
            }
            if before is not None and all(before.get(k) == v for k, v in fields.items()):
                continue
            added += before is None
            changed += before is not None
            add(tx, now=now, place_id=str(row["id"]), where=where, **_names(fields))
    unchanged = len(rows) - added - changed
    return f"added {added}, updated {changed}, {unchanged} already up to date"


def _names(fields: dict[str, object]) -> dict[str, str]:
    return {k: str(fields[k] or "") for k in ("grid_id", "name_zh", "name_en", "kind")}


def _rows(text: str) -> Iterable[tuple[int, dict[str, object]]]:
    """The file's rows, checked; each with its row number (the header is row 1)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise PlacesFileError(f"row 1: the columns must be {','.join(COLUMNS)}")
    seen: set[str] = set()
    for number, raw in enumerate(reader, start=2):
        row = {key: (raw.get(key) or "").strip() for key in COLUMNS}
        for key in ("id", "grid_id", "name_zh"):
            if not row[key]:
                raise PlacesFileError(f"row {number}, column {key}: empty")
        if row["id"] in seen:
            raise PlacesFileError(f"row {number}, column id: {row['id']!r} twice")
        seen.add(row["id"])
        if len(row["name_zh"]) > MAX_NAME or len(row["name_en"]) > MAX_NAME:
            raise PlacesFileError(f"row {number}: a name longer than {MAX_NAME}")
        out: dict[str, object] = dict(row)
        if row["lat"] or row["lon"]:
            try:
                lat, lon = float(row["lat"]), float(row["lon"])
            except ValueError:
                raise PlacesFileError(f"row {number}, columns lat,lon: not numbers") from None
            if geo.point(lat, lon) is None:
                raise PlacesFileError(f"row {number}, columns lat,lon: not a place on Earth")
            out["lat"], out["lon"] = lat, lon
        else:
            out["lat"] = out["lon"] = None
        yield number, out
