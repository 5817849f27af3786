"""The notice records: vocabulary, collections, households, and the refusals.

Collections:
    notices            one notice: author, grids, text (and its English twin), whether
                       it needs acknowledging, deadline, status, counts, fan-out cursor
    notice_batches     the people a notice goes to, 50 a document (``<notice>|<0000>``),
                       archived once handed to the outbox
    notice_households  per notice and micro-grid (``<notice>|<grid>``): its households,
                       their members and who acknowledged for them, and when
    knock_rounds       one door-knock round (敲门行动): the silent households of one
                       building, its dispatch task and what the volunteer found

A household is the people who share a household address (``complex|building|unit|room``);
someone registered without one is a household of their own (``p:<person>``). Labels
of households are personal data: never logged.

Statuses::

    notice:  sending ─► sent ─► closed (deadline passed; rounds opened)
                │          └──► cancelled is only possible while sending
                └─► cancelled
    round:   open ─► assigned ─► closed
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from assistant.clock import from_iso
from assistant.errors import Refusal
from assistant.store.base import Doc, Tx

NOTICES = "notices"
BATCHES = "notice_batches"
HOUSEHOLDS = "notice_households"
ROUNDS = "knock_rounds"
BATCH_SIZE = 50
KIND = "knock"
"""The dispatch task kind of a door-knock round."""


class NoticeStatus(StrEnum):
    """Where a notice stands (stored as its string value)."""

    SENDING = "sending"
    SENT = "sent"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Check(StrEnum):
    """What a volunteer found at a door (stored on the round's household)."""

    PENDING = "pending"
    WELL = "well"
    AWAY = "away"
    HELP = "help"
    TOLD = "told"


REACHED = (Check.WELL, Check.TOLD, Check.HELP)
"""Checks that count as the household told, in person."""


class NoticeError(Refusal):
    """A notice change that cannot be made; ``key`` is the message to reply with."""

    key = "notice.refused"


class NoticeGone(NoticeError):
    """The notice was cancelled, or no longer exists."""

    key = "notice.gone"


class NotForYou(NoticeError):
    """The presser's household was not among those the notice went to."""

    key = "notice.not_for_you"


class NotSending(NoticeError):
    """The notice has already gone out (or was cancelled): too late to cancel it."""

    key = "notice.not_sending"


class NotYourRound(NoticeError):
    """Only the volunteer who took the door-knock round may record its checks."""

    key = "knock.not_yours"


class NotCoordinator(NoticeError):
    """Only a coordinator of every chosen micro-grid (or an admin) may send a notice to them."""

    key = "notice.not_allowed"


class NoAudience(NoticeError):
    """The chosen micro-grids hold nobody who can be told."""

    key = "notice.no_audience"


@dataclass(frozen=True)
class Draft:
    """A notice as the coordinator's form collected it, before it is confirmed."""

    author_id: str
    grids: tuple[str, ...]
    text: str
    text_en: str = ""
    needs_ack: bool = True
    deadline: str | None = None
    photo: str = ""  # a media reference (``media:<id>``), shown with every copy


@dataclass(frozen=True)
class Notice:
    """One notice, as stored in ``notices`` (converted at the store edge)."""

    id: str
    author_id: str
    grids: tuple[str, ...]
    text: str
    status: NoticeStatus
    created_at: str
    text_en: str = ""
    needs_ack: bool = True
    deadline: datetime | None = None
    people: int = 0
    households: int = 0
    batches: int = 0
    posted: int = 0
    photo: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Notice:
        """The notice of a stored document."""
        deadline = doc.get("deadline")
        return cls(
            id=str(doc["id"]),
            author_id=str(doc["author_id"]),
            grids=tuple(doc.get("grids", ())),
            text=str(doc.get("text", "")),
            status=NoticeStatus(doc["status"]),
            created_at=str(doc.get("created_at", "")),
            text_en=str(doc.get("text_en", "")),
            needs_ack=bool(doc.get("needs_ack", True)),
            deadline=from_iso(deadline) if deadline else None,
            people=int(doc.get("people", 0)),
            households=int(doc.get("households", 0)),
            batches=int(doc.get("batches", 0)),
            posted=int(doc.get("posted", 0)),
            photo=str(doc.get("photo") or ""),
            extra={k: v for k, v in doc.items() if k not in _NOTICE_FIELDS},
        )

    def text_for(self, language: str) -> str:
        """The text in a reader's language (the English twin when there is one)."""
        return self.text_en if language == "en" and self.text_en else self.text


_NOTICE_FIELDS = frozenset(f.name for f in fields(Notice)) - {"extra"}


def household_key(person: Mapping[str, Any]) -> str:
    """The household a person belongs to: their household address, else themselves."""
    home = person.get("household") or {}
    if home.get("complex") and home.get("room"):
        parts = (home["complex"], home.get("building", ""), home.get("unit", ""), home["room"])
        return "|".join(str(p).strip() for p in parts)
    return f"p:{person['id']}"


def building_of(person: Mapping[str, Any]) -> str:
    """``complex|building`` of a person's household, or ``""``."""
    home = person.get("household") or {}
    if not home.get("complex"):
        return ""
    return f"{home['complex']}|{home.get('building', '')}"


def households_doc_id(notice_id: str, grid_id: str) -> str:
    """The id of a notice's households in one grid."""
    return f"{notice_id}|{grid_id}"


def require(tx: Tx, notice_id: str) -> Doc:
    """The notice, or :class:`NoticeGone`."""
    notice = tx.get(NOTICES, notice_id)
    if notice is None:
        raise NoticeGone()
    return notice


def households_of(tx: Tx, notice: Mapping[str, Any]) -> list[Doc]:
    """The households documents of a notice, one per grid, in the notice's grid order."""
    found = []
    for grid_id in notice.get("grids", []):
        doc = tx.get(HOUSEHOLDS, households_doc_id(str(notice["id"]), grid_id))
        if doc is not None:
            found.append(doc)
    return found


def building_label(building: str, chinese: bool) -> str:
    """``complex|building`` as a reader says it: 锦绣家园 1栋, or Jinxiu Jiayuan, building 1."""
    complex_name, _, number = building.partition("|")
    return f"{complex_name} {number}栋" if chinese else f"{complex_name}, building {number}"
