"""The storage port: collections of JSON documents under our own string ids.

Every unit of work is a :class:`Tx` taken from :meth:`Store.transaction`: it
holds the store's lock, sees the files as they are now (never a stale cache),
and commits all its writes atomically when the ``with`` block ends without an
exception; an exception discards them. :meth:`Store.snapshot` gives a read-only
view without taking the lock.

Closed records leave the hot collections with :meth:`Tx.archive`, so that the
files rewritten on every write stay small whatever the history;
:meth:`Tx.purge` rewrites a record so that no earlier version of it is kept.

Exceptions::

    StoreError
     ├── NotFound        a document that must exist does not
     └── ReadOnly        a write through a snapshot
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

from assistant.errors import AssistantError

Doc = dict[str, Any]
T = TypeVar("T")


class StoreError(AssistantError):
    """Base of every storage error."""


class NotFound(StoreError):
    """A document that must exist does not."""


class ReadOnly(StoreError):
    """A write was attempted through a read-only snapshot."""


def new_id(prefix: str) -> str:
    """A fresh id that sorts by creation time: ``prefix-<ms base36><random>``."""
    if _SEQUENCE is not None:
        return _SEQUENCE.next(prefix)
    stamp = _base36(int(time.time() * 1000))
    return f"{prefix}-{stamp}{secrets.token_hex(3)}"


class _Sequence:
    """Ids from a seeded sequence: the same ids in the same order on every run."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.count = 0

    def next(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}-{self.count:09d}{self.random.getrandbits(24):06x}"


_SEQUENCE: _Sequence | None = None


def seed_ids(seed: int | None) -> None:
    """Make :func:`new_id` reproducible from ``seed`` (``None``: back to clock and chance).

    For tests that replay a seeded walk and must meet the same ids each run;
    the product never calls it.
    """
    global _SEQUENCE
    _SEQUENCE = None if seed is None else _Sequence(seed)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"


class Tx(Protocol):
    """One unit of work over the collections."""

    due_timers: list[str]
    """Ids of timers scheduled in this unit of work that are due at once.

    The jobs core adds to it; :func:`assistant.jobs.unit.unit_of_work` hands
    them to the queue after the commit. The store itself never reads it.
    """

    def get(self, collection: str, doc_id: str) -> Doc | None:
        """The document with this id (hot first, then archived), or ``None``."""

    def require(self, collection: str, doc_id: str) -> Doc:
        """Like :meth:`get` but raises :class:`NotFound`."""

    def put(self, collection: str, doc_id: str, doc: Doc) -> None:
        """Insert or replace a hot document; ``doc["id"]`` is set to ``doc_id``."""

    def delete(self, collection: str, doc_id: str) -> None:
        """Remove a document (hot or archived); missing is not an error."""

    def all(self, collection: str) -> list[Doc]:
        """Every hot document of a collection, in id order."""

    def find(self, collection: str, **equals: Any) -> list[Doc]:
        """Hot documents whose fields equal the given values.

        A field may be a dotted path into nested objects, passed as
        ``**{"volunteer.status": "approved"}``; a missing field, or a path that
        stops early, equals ``None`` (see :func:`field_value`).
        """

    keeps_due_index: bool
    """Whether :meth:`due` is served by an index of the store's own (PostgreSQL's).

    Where it is not, :meth:`due` reads the whole collection, and the jobs core
    keeps its own index of timers by due time with the port's other calls.
    """

    def due(self, collection: str, upto: str, limit: int) -> list[Doc]:
        """Hot documents whose ``next_at`` (a stored ISO time, UTC) is at most ``upto``.

        Soonest first, at most ``limit``; documents without ``next_at`` are
        never returned. It takes no lock in any store: what a unit of work
        decides on, it reads again by id.
        """

    def archive(self, collection: str, doc_id: str, final: Doc | None = None) -> None:
        """Move a closed document out of the hot file into the archive.

        ``final``: the version to archive, as if put first (one step instead of two).
        """

    def archived(self, collection: str) -> Iterator[Doc]:
        """Every archived document of a collection (slow; for reports)."""

    def purge(self, collection: str, doc_id: str, replacement: Doc | None = None) -> None:
        """Replace a document with ``replacement`` (``None``: remove it), leaving no old copy.

        A hot document stays hot and an archived one stays archived; unlike
        :meth:`put` and :meth:`delete`, no earlier version of an archived
        document remains in any file after the commit. Slow for archives (each
        one touched is rewritten whole): meant for forgetting a person.
        """


class Store(Protocol):
    """A set of collections with atomic units of work."""

    def transaction(self) -> AbstractContextManager[Tx]:
        """Lock, read fresh, and commit atomically on success."""

    def snapshot(self) -> AbstractContextManager[Tx]:
        """A read-only view that takes no lock."""

    def read(self, collection: str, doc_id: str) -> Doc | None:
        """One document as committed now (hot first, then archived), outside any unit of work.

        What a snapshot's one ``get`` gives; a database answers it in one round trip
        instead of three (begin, read, end).
        """

    def close(self) -> None:
        """Release whatever the store holds open."""


def field_value(doc: Doc, path: str) -> Any:
    """The value at a dotted ``path`` of a document (``None`` where the path stops early)."""
    value: Any = doc
    for step in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value


def due_of(documents: list[Doc], upto: str, limit: int) -> list[Doc]:
    """:meth:`Tx.due` over documents already read (the stores without an index of their own)."""
    found = [doc for doc in documents if isinstance(doc.get("next_at"), str)]
    found = [doc for doc in found if doc["next_at"] <= upto]
    return sorted(found, key=lambda doc: (doc["next_at"], str(doc["id"])))[:limit]


def atomically(store: Store, work: Callable[[Tx], T]) -> T:
    """Run ``work`` inside one transaction and return its result."""
    with store.transaction() as tx:
        return work(tx)


async def run_atomically(store: Store, work: Callable[[Tx], T]) -> T:
    """:func:`atomically` off the event loop, so async callers never block."""
    return await asyncio.to_thread(atomically, store, work)
