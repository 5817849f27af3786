"""The reports context's records: collections, stages, outcomes, errors and settings.

Every other ``reports`` module imports this one and nothing imports them back.

Collections::

    cases            one case: category, place, stage times, its reports, followers, task
    report_cells     the spatial index of open cases: ``<category>|<cell or place>`` → case ids
    reporters        one per person who reported: recent report times, flags, preferences
    places           known places (buildings, gates, the market, the clinic, the bus stop)
    report_counters  one per local day: the last case number given

A case keeps its reports inside it (``reports``: who, when, note, photo), so a
merge is one read and one write of a small open-cases file. Closed cases leave
it for the archive a day after closing, so merge cost does not grow with history.

Errors (each a :class:`assistant.errors.Refusal`, ``key`` = message id)::

    ReportError
     ├── TooMany          more reports this hour than ``[reports] max_per_hour``
     ├── NoSuchPlace      a place id that does not exist (a stale or forged button)
     ├── CaseGone         the case is closed, archived or never was
     ├── NotAssignee      an outcome pressed by someone not holding the case's task
     ├── NotFollower      "is it resolved?" answered by someone who does not follow it
     └── NotCoordinator   a coordinator's button pressed by someone else
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from assistant.clock import from_iso, to_iso
from assistant.domain import urgency
from assistant.domain.catalogue import SKILLS
from assistant.domain.urgency import Category, Stage, Tier
from assistant.errors import Refusal
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

CASES = "cases"
CELLS = "report_cells"
REPORTERS = "reporters"
PLACES = "places"
COUNTERS = "report_counters"
MEDIA = "media"
"""The media port's collection (photos people sent), where a report's photo is kept."""

KIND = "patrol"
"""The dispatch task kind of a case ("patrol case")."""

REPORTED = Stage.REPORTED
ACCEPTED = Stage.ACCEPTED
DISPATCHED = Stage.DISPATCHED
HANDLED = Stage.HANDLED
VERIFIED = Stage.VERIFIED
CLOSED = Stage.CLOSED
OPEN_STAGES = urgency.OPEN_STAGES
STAGES = tuple(Stage)

MAX_NOTE = 200


class Outcome(StrEnum):
    """What the patrol volunteer found and did."""

    PERSUADED = "persuaded"
    DISPERSED = "dispersed"
    FIXED = "fixed"
    NOT_FOUND = "not_found"
    AUTHORITIES = "authorities"


RESOLVED = (Outcome.PERSUADED, Outcome.DISPERSED, Outcome.FIXED)


class Check(StrEnum):
    """A follower's answer to "is it resolved now?"."""

    YES = "yes"
    NO = "no"
    PARTLY = "partly"


class ReportError(Refusal):
    """A report step that cannot be done now; ``key`` is the message to show."""

    key = "reports.cannot"


class TooMany(ReportError):
    """More reports this hour than ``[reports] max_per_hour``."""

    key = "reports.too_many"


class NoSuchPlace(ReportError):
    """A place id that does not exist (a stale or forged button)."""

    key = "reports.no_such_place"


class CaseGone(ReportError):
    """The case is closed, archived or never was."""

    key = "reports.case_gone"


class NotAssignee(ReportError):
    """An outcome pressed by someone who does not hold the case's task."""

    key = "reports.not_assignee"


class NotFollower(ReportError):
    """ "Is it resolved?" answered by someone who does not follow the case."""

    key = "reports.not_follower"


class NotCoordinator(ReportError):
    """A coordinator's button pressed by someone else."""

    key = "reports.not_coordinator"


# -- settings ------------------------------------------------------------------------------


def setting(app: App, key: str) -> Any:
    """One ``[reports]`` setting."""
    return app.settings.get("reports", key)


def categories(app: App) -> dict[str, Category]:
    """The categories of the settings, by code (checked at start-up)."""
    return urgency.categories(setting(app, "categories"), SKILLS)


def tier_hours(app: App) -> dict[str, float]:
    """Deadline hours per tier."""
    return {tier.value: float(setting(app, f"{tier.value}_hours")) for tier in Tier}


# -- cases ---------------------------------------------------------------------------------


def set_stage(case: Doc, stage: Stage, now: datetime) -> None:
    """Move a case to ``stage`` and time-stamp it (the latest time of each stage is kept)."""
    case["stage"] = stage.value
    case.setdefault("stages", {})[stage.value] = to_iso(now)
    case.setdefault("history", []).append({"stage": stage.value, "at": to_iso(now)})


def is_open(case: Doc) -> bool:
    """Whether a case still waits for someone to deal with it."""
    return case.get("stage") in OPEN_STAGES


def followers(case: Doc) -> list[str]:
    """The people who reported it (each once), in the order they did."""
    return list(case.get("followers", []))


def reporters_of(case: Doc) -> list[str]:
    """Whoever reported the case, one entry per report (forgotten ones are empty)."""
    return [str(r.get("reporter_id") or "") for r in case.get("reports", [])]


def created(case: Doc) -> datetime:
    """When the case's first report came."""
    return from_iso(case["created_at"])


def deadline(case: Doc) -> datetime:
    """When the case must be handled."""
    return from_iso(case["deadline_at"])


def next_number(tx: Tx, app: App, now: datetime) -> str:
    """The next case number of the local day: ``0601-003`` (month, day, count)."""
    local = now.astimezone(app.settings.timezone)
    day = local.date().isoformat()
    counter = tx.get(COUNTERS, day) or {"n": 0}
    counter["n"] = int(counter["n"]) + 1
    tx.put(COUNTERS, day, counter)
    return f"{local:%m%d}-{int(counter['n']):03d}"


def timer_key(*parts: object) -> str:
    """The idempotency key of a reports timer, e.g. ``reports:deadline:<case>:1:2``."""
    return ":".join(["reports", *(str(part) for part in parts)])


def hour_ago(now: datetime) -> datetime:
    """The start of the rate limit's window."""
    return now - timedelta(hours=1)
