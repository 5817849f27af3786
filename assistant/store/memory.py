"""The in-memory twin of the store, for fast unit tests.

A unit of work copies only the documents it reads or writes, so its cost does
not grow with the size of a collection (except ``all`` and ``find``).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from assistant.store.base import Doc, NotFound, ReadOnly, due_of, field_value

_GONE = None


class _MemoryTx:
    """A unit of work that copies only the documents it touches (copy on write)."""

    def __init__(self, owner: MemoryStore, writable: bool) -> None:
        self._owner = owner
        self._writable = writable
        self._hot: dict[str, dict[str, Doc | None]] = {}
        self._cold: dict[str, dict[str, Doc | None]] = {}
        self.due_timers: list[str] = []

    def _check_writable(self) -> None:
        if not self._writable:
            raise ReadOnly("snapshot is read-only")

    def _find(self, collection: str, doc_id: str, cold: bool = False) -> Doc | None:
        writes = (self._cold if cold else self._hot).get(collection, {})
        if doc_id in writes:
            return writes[doc_id]
        source = self._owner.cold if cold else self._owner.hot
        return source.get(collection, {}).get(doc_id)

    def _merged(self, collection: str, cold: bool = False) -> dict[str, Doc]:
        source = self._owner.cold if cold else self._owner.hot
        merged: dict[str, Doc | None] = dict(source.get(collection, {}))
        merged.update((self._cold if cold else self._hot).get(collection, {}))
        return {key: doc for key, doc in merged.items() if doc is not None}

    def _write(self, collection: str, doc_id: str, doc: Doc | None, cold: bool = False) -> None:
        (self._cold if cold else self._hot).setdefault(collection, {})[doc_id] = doc

    def get(self, collection: str, doc_id: str) -> Doc | None:
        doc = self._find(collection, doc_id)
        if doc is None:
            doc = self._find(collection, doc_id, cold=True)
        return copy.deepcopy(doc) if doc is not None else None

    def require(self, collection: str, doc_id: str) -> Doc:
        doc = self.get(collection, doc_id)
        if doc is None:
            raise NotFound(f"{collection}/{doc_id}")
        return doc

    def put(self, collection: str, doc_id: str, doc: Doc) -> None:
        self._check_writable()
        stored = copy.deepcopy(doc)
        stored["id"] = doc_id
        self._write(collection, doc_id, stored)

    def delete(self, collection: str, doc_id: str) -> None:
        self._check_writable()
        if self._find(collection, doc_id) is not None:
            self._write(collection, doc_id, _GONE)
        if self._find(collection, doc_id, cold=True) is not None:
            self._write(collection, doc_id, _GONE, cold=True)

    def all(self, collection: str) -> list[Doc]:
        table = self._merged(collection)
        return [copy.deepcopy(table[key]) for key in sorted(table)]

    def find(self, collection: str, **equals: Any) -> list[Doc]:
        table = self._merged(collection)
        return [
            copy.deepcopy(table[key])
            for key in sorted(table)
            if all(field_value(table[key], field) == value for field, value in equals.items())
        ]

    keeps_due_index = False

    def due(self, collection: str, upto: str, limit: int) -> list[Doc]:
        return due_of(self.all(collection), upto, limit)

    def archive(self, collection: str, doc_id: str, final: Doc | None = None) -> None:
        self._check_writable()
        if final is not None:
            self.put(collection, doc_id, final)
        doc = self._find(collection, doc_id)
        if doc is not None:
            self._write(collection, doc_id, _GONE)
            self._write(collection, doc_id, doc, cold=True)

    def purge(self, collection: str, doc_id: str, replacement: Doc | None = None) -> None:
        self._check_writable()
        stored = None
        if replacement is not None:
            stored = copy.deepcopy(replacement)
            stored["id"] = doc_id
        hot = self._find(collection, doc_id) is not None
        cold = self._find(collection, doc_id, cold=True) is not None
        if hot or not cold:
            self._write(collection, doc_id, stored)
            if cold:
                self._write(collection, doc_id, _GONE, cold=True)
        else:
            self._write(collection, doc_id, stored, cold=True)

    def archived(self, collection: str) -> Iterator[Doc]:
        for doc in self._merged(collection, cold=True).values():
            yield copy.deepcopy(doc)

    def commit(self) -> None:
        for writes, target in ((self._hot, self._owner.hot), (self._cold, self._owner.cold)):
            for collection, docs in writes.items():
                table = target.setdefault(collection, {})
                for doc_id, doc in docs.items():
                    if doc is None:
                        table.pop(doc_id, None)
                    else:
                        table[doc_id] = doc


class MemoryStore:
    """Collections in a dict, with the same transaction rules as the real store."""

    def __init__(self) -> None:
        self.hot: dict[str, dict[str, Doc]] = {}
        self.cold: dict[str, dict[str, Doc]] = {}
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[_MemoryTx]:
        with self._lock:
            tx = _MemoryTx(self, writable=True)
            yield tx
            tx.commit()

    @contextmanager
    def snapshot(self) -> Iterator[_MemoryTx]:
        with self._lock:
            yield _MemoryTx(self, writable=False)

    def read(self, collection: str, doc_id: str) -> Doc | None:
        with self.snapshot() as tx:
            return tx.get(collection, doc_id)

    def close(self) -> None:
        """Nothing to release."""
