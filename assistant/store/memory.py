"""The in-memory twin of the store, for fast unit tests."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from assistant.store.base import Doc, NotFound, ReadOnly


class _MemoryTx:
    """A unit of work over a private copy of the touched collections."""

    def __init__(self, owner: MemoryStore, writable: bool) -> None:
        self._owner = owner
        self._writable = writable
        self._hot: dict[str, dict[str, Doc]] = {}
        self._cold: dict[str, dict[str, Doc]] = {}
        self.dirty: set[str] = set()

    def _table(self, collection: str, cold: bool = False) -> dict[str, Doc]:
        cache = self._cold if cold else self._hot
        if collection not in cache:
            source = self._owner.cold if cold else self._owner.hot
            cache[collection] = copy.deepcopy(source.get(collection, {}))
        return cache[collection]

    def _check_writable(self) -> None:
        if not self._writable:
            raise ReadOnly("snapshot is read-only")

    def get(self, collection: str, doc_id: str) -> Doc | None:
        doc = self._table(collection).get(doc_id)
        if doc is None:
            doc = self._table(collection, cold=True).get(doc_id)
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
        self._table(collection)[doc_id] = stored
        self.dirty.add(collection)

    def delete(self, collection: str, doc_id: str) -> None:
        self._check_writable()
        if self._table(collection).pop(doc_id, None) is not None:
            self.dirty.add(collection)
        if self._table(collection, cold=True).pop(doc_id, None) is not None:
            self.dirty.add(collection)

    def all(self, collection: str) -> list[Doc]:
        table = self._table(collection)
        return [copy.deepcopy(table[key]) for key in sorted(table)]

    def find(self, collection: str, **equals: Any) -> list[Doc]:
        return [
            doc
            for doc in self.all(collection)
            if all(doc.get(key) == value for key, value in equals.items())
        ]

    def archive(self, collection: str, doc_id: str) -> None:
        self._check_writable()
        doc = self._table(collection).pop(doc_id, None)
        if doc is not None:
            self._table(collection, cold=True)[doc_id] = doc
            self.dirty.add(collection)

    def archived(self, collection: str) -> Iterator[Doc]:
        for doc in self._table(collection, cold=True).values():
            yield copy.deepcopy(doc)

    def commit(self) -> None:
        for collection in self.dirty:
            self._owner.hot[collection] = self._table(collection)
            self._owner.cold[collection] = self._table(collection, cold=True)


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

    def close(self) -> None:
        """Nothing to release."""
