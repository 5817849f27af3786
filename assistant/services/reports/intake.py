"""A report comes in: checked, rate-limited, merged into an open case or made a new one.

:func:`submit` is one decision inside the caller's unit of work (the store's
lock makes it atomic across processes): it reads the reporter's record, the
index entries near the place (:mod:`~assistant.services.reports.index`) and
the few cases listed there, and either adds the report to the nearest
matching case — the reporter becomes a follower — or makes a new case,
indexes it, and hands it to the closed loop (dispatch, or a coordinator first
when the reporter was marked unreliable). Several processes reporting the same
place at once therefore make one case.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from assistant.clock import from_iso, to_iso
from assistant.domain import geo, urgency
from assistant.jobs import timers
from assistant.services.reports import index, loop, places
from assistant.services.reports.notify import grid_name
from assistant.services.reports.records import (
    CASES,
    DISPATCHED,
    HANDLED,
    MAX_NOTE,
    OPEN_STAGES,
    REPORTED,
    REPORTERS,
    ReportError,
    TooMany,
    categories,
    hour_ago,
    next_number,
    set_stage,
    setting,
    tier_hours,
    timer_key,
)
from assistant.store.base import Doc, Tx, new_id

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Draft:
    """One report as the form collected it: a known place *or* a pin, maybe a photo and a note."""

    reporter_id: str
    category: str
    place_id: str = ""
    lat: float | None = None
    lon: float | None = None
    photo: str = ""
    note: str = ""
    home_grid: str | None = None
    """The reporter's own micro-grid, used when a pin is near no known place."""


@dataclass(frozen=True)
class Filed:
    """What came of a report: its case, and whether it joined one already open."""

    case: Doc
    merged: bool

    @property
    def held(self) -> bool:
        """Whether the case waits for a coordinator before dispatch."""
        return bool(self.case.get("held"))


def submit(tx: Tx, app: App, draft: Draft, now: datetime) -> Filed:
    """File a report in one unit of work; return its case.

    Raises:
        TooMany: the reporter sent ``[reports] max_per_hour`` reports in the last hour.
        NoSuchPlace: the place id does not exist.
        ReportError: an unknown category, or coordinates that are no place on Earth.
    """
    category = categories(app).get(draft.category)
    if category is None:
        raise ReportError()
    reporter = _counted(tx, app, draft.reporter_id, now)
    place, where = _where(tx, draft)
    size = float(setting(app, "radius_m"))
    found = _match(tx, app, draft.category, place, where, now)
    report = {
        "reporter_id": draft.reporter_id,
        "at": to_iso(now),
        "note": " ".join(draft.note.split())[:MAX_NOTE],
        "photo": draft.photo,
        "anonymous": bool(reporter.get("always_anonymous")),
    }
    if found is not None:
        _join(tx, app, found, report, reporter, now)
        filed = Filed(found, merged=True)
    else:
        case = _new_case(tx, app, draft, place, where, report, now)
        index.add(tx, index.keys_of(draft.category, case["place_id"], where, size), case["id"], now)
        loop.take_in(tx, app, case, held=bool(reporter.get("unreliable")), now=now)
        filed = Filed(case, merged=False)
    if draft.photo:
        number = len(filed.case["reports"])
        due = now + timedelta(days=int(setting(app, "photo_retention_days")))
        key = timer_key("photo", filed.case["id"], number)
        timers.schedule(tx, "reports.expire_photo", [filed.case["id"], number], due, now, key=key)
    log.info("report filed in case %s (merged=%s)", filed.case["id"], filed.merged)
    return filed


def _counted(tx: Tx, app: App, reporter_id: str, now: datetime) -> Doc:
    """The reporter's record with this report counted; :class:`TooMany` past the hourly limit."""
    reporter = tx.get(REPORTERS, reporter_id) or {}
    since = hour_ago(now)
    recent = [at for at in reporter.get("recent", []) if from_iso(at) > since]
    if len(recent) >= int(setting(app, "max_per_hour")):
        raise TooMany()
    reporter["recent"] = [*recent, to_iso(now)]
    tx.put(REPORTERS, reporter_id, reporter)
    return reporter


def _where(tx: Tx, draft: Draft) -> tuple[Doc | None, geo.Point | None]:
    """The known place and the point of a report."""
    if draft.place_id:
        place = places.require(tx, draft.place_id)
        return place, places.point_of(place)
    where = geo.point(draft.lat, draft.lon)
    if where is None:
        raise ReportError()
    return None, where


def _match(
    tx: Tx, app: App, category: str, place: Doc | None, where: geo.Point | None, now: datetime
) -> Doc | None:
    """The open case this report joins: same category, same place or within the radius.

    Only the cases listed in the index entries around the place are read.
    """
    radius = float(setting(app, "radius_m"))
    place_id = place["id"] if place else ""
    best: tuple[float, str, Doc] | None = None
    for case_id in index.candidates(tx, index.search_keys(category, place_id, where, radius), now):
        case = tx.get(CASES, case_id)
        if case is None or case["category"] != category:
            continue
        if case["stage"] not in (*OPEN_STAGES, HANDLED):
            continue
        if place_id and case.get("place_id") == place_id:
            far = 0.0
        else:
            spot = geo.point(case.get("lat"), case.get("lon"))
            if spot is None or where is None:
                continue
            far = geo.distance_m(where, spot)
            if far > radius:
                continue
        rank = (far, case["created_at"], case)
        if best is None or rank[:2] < best[:2]:
            best = rank
    return best[2] if best else None


def _join(tx: Tx, app: App, case: Doc, report: Doc, reporter: Doc, now: datetime) -> None:
    """Add a report to an open case; its reporter follows the case from now on."""
    case["reports"] = [*case.get("reports", []), report]
    case["last_report_at"] = to_iso(now)
    if report["reporter_id"] not in case.get("followers", []):
        case["followers"] = [*case.get("followers", []), report["reporter_id"]]
    tx.put(CASES, case["id"], case)
    if case.get("held") and not reporter.get("unreliable"):
        loop.release(tx, app, case, now)  # a second, trusted reporter vouches for it
    elif case.get("stage") == DISPATCHED:
        loop.refresh_task(tx, app, case, now)


def _new_case(
    tx: Tx,
    app: App,
    draft: Draft,
    place: Doc | None,
    where: geo.Point | None,
    report: Doc,
    now: datetime,
) -> Doc:
    """A new case from its first report (not yet indexed or dispatched)."""
    category = categories(app)[draft.category]
    near = place or (places.nearest(tx, where) if where else None)
    grid_id = (near or {}).get("grid_id") or draft.home_grid
    case_id = new_id("rc")
    case: Doc = {
        "number": next_number(tx, app, now),
        "category": draft.category,
        "tier": category.tier.value,
        "place_id": place["id"] if place else "",
        "place_zh": places.place_name(near, True) if near else "",
        "place_en": places.place_name(near, False) if near else "",
        "lat": where.lat if where else None,
        "lon": where.lon if where else None,
        "grid_id": grid_id,
        "grid_name": grid_name(tx, grid_id),
        "created_at": to_iso(now),
        "last_report_at": to_iso(now),
        "deadline_at": to_iso(urgency.deadline(now, category.tier, tier_hours(app))),
        "reports": [report],
        "followers": [draft.reporter_id],
        "round": 1,
        "no_count": 0,
        "escalated": [],
        "answers": {},
    }
    set_stage(case, REPORTED, now)
    tx.put(CASES, case_id, case)
    case["id"] = case_id
    return case
