"""The dispatch records as typed values: :class:`Task` and :class:`Offer`, and their statuses.

A leaf module (it imports no other part of dispatch and not the app), so that
the task-kind registry can type its listeners with :class:`Task` without an
import cycle. Records are converted at the store edge: ``from_doc`` reads a
stored document, ``to_doc`` gives the document to store — JSON, with the
field names of before, so stored data keeps working. Statuses are
:class:`~enum.StrEnum` members whose values are the stored strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from assistant.clock import from_iso, to_iso


class TaskStatus(StrEnum):
    """Where a task stands (stored as its string value)."""

    OPEN = "open"
    ASSIGNED = "assigned"
    ON_WAY = "on_way"
    ARRIVED = "arrived"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class OfferStatus(StrEnum):
    """Where one offer stands (stored as its string value)."""

    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TAKEN = "taken"
    WITHDRAWN = "withdrawn"


def _rest(doc: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    """The fields of a document that its record does not name (kept, never lost)."""
    return {name: value for name, value in doc.items() if name not in known}


@dataclass(frozen=True)
class Task:
    """One task of any kind, as stored in ``tasks``.

    ``summary`` is what every volunteer offered it may see, ``private`` what
    only the one who accepts it sees, ``payload`` the kind's own data. Fields
    the lifecycle adds later (``assigned_at``, ``reason``, ``reminded`` …) are
    kept in ``extra``, so ``Task.from_doc(doc).to_doc() == doc``.
    """

    id: str
    kind: str
    ref: str
    skill: str
    grid_id: str | None
    starts_at: datetime
    ends_at: datetime
    duration_minutes: int
    summary: Mapping[str, str]
    private: Mapping[str, str]
    requester_id: str
    status: TaskStatus = TaskStatus.OPEN
    payload: Mapping[str, Any] = field(default_factory=dict)
    wave_minutes: float | None = None
    round: int = 1
    wave: int = 0
    escalated: bool = False
    assignee_id: str | None = None
    offered: tuple[str, ...] = ()
    declined: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    events: tuple[Mapping[str, Any], ...] = ()
    created_at: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Task:
        """The task of a stored document."""
        return cls(
            id=str(doc["id"]),
            kind=str(doc["kind"]),
            ref=str(doc["ref"]),
            skill=str(doc["skill"]),
            grid_id=doc.get("grid_id"),
            starts_at=from_iso(doc["starts_at"]),
            ends_at=from_iso(doc["ends_at"]),
            duration_minutes=int(doc["duration_minutes"]),
            summary=dict(doc.get("summary", {})),
            private=dict(doc.get("private", {})),
            requester_id=str(doc.get("requester_id") or ""),
            status=TaskStatus(doc["status"]),
            payload=dict(doc.get("payload", {})),
            wave_minutes=doc.get("wave_minutes"),
            round=int(doc.get("round", 1)),
            wave=int(doc.get("wave", 0)),
            escalated=bool(doc.get("escalated", False)),
            assignee_id=doc.get("assignee_id"),
            offered=tuple(doc.get("offered", ())),
            declined=tuple(doc.get("declined", ())),
            dropped=tuple(doc.get("dropped", ())),
            events=tuple(doc.get("events", ())),
            created_at=str(doc.get("created_at", "")),
            extra=_rest(doc, _TASK_FIELDS),
        )

    def to_doc(self) -> dict[str, Any]:
        """The document to store (JSON; the field names of before)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "ref": self.ref,
            "skill": self.skill,
            "grid_id": self.grid_id,
            "starts_at": to_iso(self.starts_at),
            "ends_at": to_iso(self.ends_at),
            "duration_minutes": self.duration_minutes,
            "summary": dict(self.summary),
            "private": dict(self.private),
            "payload": dict(self.payload),
            "requester_id": self.requester_id,
            "wave_minutes": self.wave_minutes,
            "status": self.status.value,
            "round": self.round,
            "wave": self.wave,
            "escalated": self.escalated,
            "assignee_id": self.assignee_id,
            "offered": list(self.offered),
            "declined": list(self.declined),
            "dropped": list(self.dropped),
            "events": [dict(event) for event in self.events],
            "created_at": self.created_at,
            **self.extra,
        }


_TASK_FIELDS = frozenset(f.name for f in fields(Task)) - {"extra"}


@dataclass(frozen=True)
class Offer:
    """One offer of a task to one volunteer, as stored in ``offers``.

    ``addresses`` are where the offer was sent (so it can be edited there),
    ``asked_by`` the coordinator who asked this volunteer, if one did.
    """

    id: str
    task_id: str
    person_id: str
    round: int
    wave: int
    addresses: tuple[str, ...]
    language: str
    name: str
    status: OfferStatus = OfferStatus.OPEN
    created_at: str = ""
    asked_by: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Offer:
        """The offer of a stored document."""
        return cls(
            id=str(doc["id"]),
            task_id=str(doc["task_id"]),
            person_id=str(doc["person_id"]),
            round=int(doc["round"]),
            wave=int(doc["wave"]),
            addresses=tuple(doc.get("addresses", ())),
            language=str(doc.get("language", "")),
            name=str(doc.get("name", "")),
            status=OfferStatus(doc["status"]),
            created_at=str(doc.get("created_at", "")),
            asked_by=str(doc.get("asked_by") or ""),
            extra=_rest(doc, _OFFER_FIELDS),
        )

    def to_doc(self) -> dict[str, Any]:
        """The document to store; ``asked_by`` only when a coordinator asked."""
        doc: dict[str, Any] = {
            "id": self.id,
            "task_id": self.task_id,
            "person_id": self.person_id,
            "round": self.round,
            "wave": self.wave,
            "status": self.status.value,
            "addresses": list(self.addresses),
            "language": self.language,
            "name": self.name,
            "created_at": self.created_at,
            **self.extra,
        }
        if self.asked_by:
            doc["asked_by"] = self.asked_by
        return doc


_OFFER_FIELDS = frozenset(f.name for f in fields(Offer)) - {"extra"}
