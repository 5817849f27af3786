"""Finished notices leave the hot files: a durable daily job moves them to the store's archive.

Every store write rewrites the hot files it touches, so records that no longer change
must not stay there. Once a day (``notices.tidy``, a durable timer keyed by date, at
``[notices] tidy_hour``) a notice that is finished — cancelled, sent without asking for
"收到", past its deadline with every door-knock round closed, or a wellbeing round whose
rounds are all closed —
for ``[notices] keep_days`` moves to the archive (``tx.archive``) with its households
(one document per grid) and its rounds; its recipients' batches went there as they
were posted. ``tx.get`` still finds archived records by id, so a notice's rate, its
silent households and its rounds read the same; ``/notices`` lists the latest
archived ones from a small index (``notice_archive|recent``), never by scanning the
archive. ``forget`` already purges archived records too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from assistant.clock import from_iso
from assistant.jobs import timers
from assistant.services.notices.records import (
    HOUSEHOLDS,
    NOTICES,
    ROUNDS,
    NoticeStatus,
    households_doc_id,
)
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

TIDY = "notices.tidy"
INDEX = "notice_archive"
RECENT = "recent"
KEPT_IN_INDEX = 20


def _setting(app: App, key: str) -> Any:
    return app.settings.get("notices", key)


def ensure_tidy(tx: Tx, app: App) -> None:
    """Make sure the next daily tidy is scheduled (idempotent: keyed by its date)."""
    now = app.clock.now()
    local = now.astimezone(app.settings.timezone)
    due = local.replace(hour=int(_setting(app, "tidy_hour")), minute=0, second=0, microsecond=0)
    if due <= local:
        due += timedelta(days=1)
    day = due.date().isoformat()
    timers.schedule(tx, TIDY, [day], due, now, key=f"notices-tidy:{day}")


def finished_at(tx: Tx, notice: Mapping[str, Any]) -> datetime | None:
    """When a notice stopped changing (its deadline, its last round closed), or ``None``."""
    status = notice["status"]
    if status == NoticeStatus.CANCELLED:
        return from_iso(str(notice.get("cancelled_at") or notice["created_at"]))
    if status == NoticeStatus.SENT and not notice.get("needs_ack"):
        return from_iso(str(notice.get("sent_at") or notice["created_at"]))
    if status != NoticeStatus.CLOSED:
        return None
    moments = [from_iso(str(notice.get("closed_at") or notice["created_at"]))]
    if notice.get("deadline"):
        moments.append(from_iso(notice["deadline"]))
    for round_id in notice.get("rounds", []):
        found = tx.get(ROUNDS, round_id)
        if found is None:
            continue
        if found["status"] != "done":
            return None  # a volunteer is still knocking
        moments.append(from_iso(str(found.get("done_at") or found["created_at"])))
    return max(moments)


def tidy_job(tx: Tx, app: App, day: str) -> None:
    """Archive the notices finished ``keep_days`` ago, with their records; tomorrow again."""
    now = app.clock.now()
    keep = timedelta(days=float(_setting(app, "keep_days")))
    moved = [n for n in tx.all(NOTICES) if _due(tx, n, now, keep)]
    for notice in moved:
        archive_notice(tx, notice)
    if moved:
        _index(tx, moved)
        log.info("archived %d finished notices", len(moved))
    if tx.all(NOTICES):
        ensure_tidy(tx, app)


def _due(tx: Tx, notice: Doc, now: datetime, keep: timedelta) -> bool:
    finished = finished_at(tx, notice)
    return finished is not None and finished + keep <= now


def archive_notice(tx: Tx, notice: Doc) -> None:
    """Move one notice, its households and its rounds to the archive."""
    for grid_id in notice.get("grids", []):
        doc_id = households_doc_id(str(notice["id"]), str(grid_id))
        if tx.get(HOUSEHOLDS, doc_id) is not None:
            tx.archive(HOUSEHOLDS, doc_id)
    for round_id in notice.get("rounds", []):
        tx.archive(ROUNDS, round_id)
    tx.archive(NOTICES, str(notice["id"]))


def _index(tx: Tx, moved: list[Doc]) -> None:
    """Keep the ids of the latest archived notices, newest first, for ``/notices``."""
    index = tx.get(INDEX, RECENT) or {"notices": []}
    entries = {str(n["id"]): str(n["created_at"]) for n in moved}
    entries.update({e["id"]: e["created_at"] for e in index["notices"]})
    newest = sorted(entries.items(), key=lambda item: item[1], reverse=True)[:KEPT_IN_INDEX]
    index["notices"] = [{"id": i, "created_at": at} for i, at in newest]
    tx.put(INDEX, RECENT, index)


def archived_recent(tx: Tx) -> list[Doc]:
    """The latest archived notices (read by id from the archive), newest first."""
    index = tx.get(INDEX, RECENT) or {"notices": []}
    found = [tx.get(NOTICES, entry["id"]) for entry in index["notices"]]
    return [n for n in found if n is not None]
