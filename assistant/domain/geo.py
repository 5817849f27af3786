"""Places on the ground: valid coordinates, distances, and grid cells for a spatial index.

A report's place is a pin (latitude, longitude) or a known place that may have
one. Merging looks for open cases *near* a place without reading every case:
the ground is cut into square cells about ``size`` metres wide, a case is kept
under the cell of its place, and a search reads the 3 × 3 cells around the
point, which cover every point within ``size`` metres. Standard library only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_000.0
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180.0
MAX_ABS_LAT = 85.0
"""Cells are not cut nearer the poles than this (no community lives there)."""


@dataclass(frozen=True)
class Point:
    """A place on the ground, in degrees (WGS 84)."""

    lat: float
    lon: float


def valid(lat: object, lon: object) -> bool:
    """Whether these are real coordinates: finite numbers, −90..90 and −180..180."""
    if isinstance(lat, bool) or isinstance(lon, bool):
        return False
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return False
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return False
    return -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0


def point(lat: object, lon: object) -> Point | None:
    """A :class:`Point`, or ``None`` for coordinates that cannot be (lat 999, NaN, text)."""
    if not valid(lat, lon):
        return None
    return Point(float(lat), float(lon))  # type: ignore[arg-type]


def distance_m(a: Point, b: Point) -> float:
    """The great-circle distance between two points, in metres (haversine)."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi = phi2 - phi1
    dlmb = math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _row(lat: float, size_m: float) -> int:
    return math.floor(lat * METRES_PER_DEGREE / size_m)


def _row_width_deg(row: int, size_m: float) -> float:
    """How many degrees of longitude a cell of this row spans (wider toward the poles).

    Measured at the row's edge nearer the pole, so a cell is at least ``size_m``
    wide everywhere in the row.
    """
    edges = (row * size_m / METRES_PER_DEGREE, (row + 1) * size_m / METRES_PER_DEGREE)
    poleward = min(MAX_ABS_LAT, max(abs(edge) for edge in edges))
    return size_m / (METRES_PER_DEGREE * math.cos(math.radians(poleward)))


def _column(lon: float, row: int, size_m: float) -> int:
    return math.floor((lon + 180.0) / _row_width_deg(row, size_m))


def cell(p: Point, size_m: float) -> str:
    """The key of the cell holding ``p``: ``g<size>:<row>:<column>``."""
    row = _row(p.lat, size_m)
    return f"g{int(size_m)}:{row}:{_column(p.lon, row, size_m)}"


def cells_near(p: Point, size_m: float) -> list[str]:
    """The keys of the cells that hold every point within ``size_m`` metres of ``p``.

    Each row is cut on its own width, so the columns of the row above and
    below are found by the point's longitude in *that* row, then ±1.
    """
    row = _row(p.lat, size_m)
    keys: list[str] = []
    for r in (row - 1, row, row + 1):
        column = _column(p.lon, r, size_m)
        keys += [f"g{int(size_m)}:{r}:{c}" for c in (column - 1, column, column + 1)]
    return keys
