"""Activities defined in ``settings.toml`` (``[[activities.programme]]``), written at start-up.

Each checked table (:mod:`assistant.domain.programme`) becomes the activity
``ac-<code>``: created when missing, updated in place when its settings changed,
left alone when they did not, so loading twice changes nothing. Its sessions and
sign-ups are never touched; an activity removed from the settings stays as it is
(retire it in chat), because people may hold places at it. A lower capacity applies
to places not yet taken.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assistant.clock import to_iso
from assistant.domain import programme
from assistant.services.activities.define import Plan, add
from assistant.services.activities.records import ACTIVITIES, Kind, Who
from assistant.store.base import Store

log = logging.getLogger(__name__)

ORGANISER = "settings"
"""The organiser of an activity defined in the settings file."""
FIELDS = programme.FIELDS


@dataclass(frozen=True)
class Loaded:
    """What loading the settings' activities did."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0


def activity_id(code: str) -> str:
    """The stable id of the activity of a settings code."""
    return f"ac-{code}"


def load(store: Store, programme: Sequence[Mapping[str, Any]], now: datetime) -> Loaded:
    """Create or update the settings' activities in one unit of work; say what changed."""
    added = changed = unchanged = 0
    with store.transaction() as tx:
        for spec in programme:
            found_id = activity_id(str(spec["code"]))
            wanted = {key: spec[key] for key in FIELDS}
            doc = tx.get(ACTIVITIES, found_id)
            if doc is None:
                add(tx, _plan(wanted), ORGANISER, now, activity_id=found_id)
                doc = tx.require(ACTIVITIES, found_id)
                doc["code"] = spec["code"]
                tx.put(ACTIVITIES, found_id, doc)
                added += 1
            elif {key: doc.get(key) for key in FIELDS} != wanted or doc.get("retired"):
                doc.update(wanted, code=spec["code"], updated_at=to_iso(now))
                doc.pop("retired", None)
                tx.put(ACTIVITIES, found_id, doc)
                changed += 1
            else:
                unchanged += 1
    if added or changed:
        log.info("activities from settings: %d added, %d changed", added, changed)
    return Loaded(added, changed, unchanged)


def _plan(spec: Mapping[str, Any]) -> Plan:
    return Plan(
        name_zh=str(spec["name_zh"]),
        name_en=str(spec["name_en"]),
        kind=Kind(spec["kind"]),
        place=str(spec["place"]),
        capacity=int(spec["capacity"]),
        at=str(spec["at"]),
        weekdays=tuple(spec["weekdays"]),
        day=str(spec["day"]),
        who=Who(spec["who"]),
        price=str(spec["price"]),
        duration_minutes=int(spec["duration_minutes"]),
        min_age=int(spec["min_age"]),
    )
