"""TinyDB adapters: one collection file read once, served from memory, written at commit.

A hot file is an ordinary TinyDB file holding one table named after the
collection and keyed by our own string ids. These adapters let TinyDB work on
it without touching the disk until the store commits: the storage loads the
file at the first read, and the table changes documents in place.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from assistant.store.base import Doc, StoreError, field_value
from assistant.store.files import dumps


def load_hot(path: Path, collection: str) -> dict[str, Doc]:
    """The documents of one collection file; a missing file is an empty collection.

    Raises:
        StoreError: The file is empty, not JSON, or holds no table of that name.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    if not raw.strip():
        raise StoreError(f"collection file {path} is empty; restore it from a backup")
    try:
        data = json.loads(raw)
    except ValueError as error:
        raise StoreError(f"collection file {path} is not valid JSON ({error})") from error
    table = data.get(collection) if isinstance(data, dict) else None
    if not isinstance(table, dict):
        raise StoreError(f"collection file {path} holds no table {collection!r}")
    return table


class CollectionStorage(Storage):
    """TinyDB storage of one collection file: read once, written at commit.

    TinyDB reads and writes its whole database through a storage. This one
    loads the file at the first read, serves later reads from memory and only
    marks itself dirty on write: nothing reaches the disk before the commit.
    """

    def __init__(self, path: Path, collection: str) -> None:
        self.path = path
        self.collection = collection
        self.dirty = False
        self._data: dict[str, dict[str, Any]] | None = None

    def read(self) -> dict[str, dict[str, Any]]:
        if self._data is None:
            self._data = {self.collection: load_hot(self.path, self.collection)}
        return self._data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self._data = data
        self.dirty = True

    def serialise(self) -> bytes:
        """The file's new content, in TinyDB's own layout."""
        return dumps(self.read())


class CollectionTable(Table):
    """A TinyDB table keyed by our own string ids and changed in place.

    TinyDB's table copies the whole table twice on every write to convert its
    integer ids; with string ids there is nothing to convert, so updates go
    straight to the stored dict.
    """

    document_id_class = str  # type: ignore[assignment]  # our ids are strings

    def _update_table(self, updater: Callable[[dict[int, Mapping[Any, Any]]], None]) -> None:
        tables = self._storage.read() or {}
        updater(cast("dict[int, Mapping[Any, Any]]", tables.setdefault(self.name, {})))
        self._storage.write(tables)
        self.clear_cache()

    def doc(self, doc_id: str) -> Doc | None:
        """The stored document itself (not a copy), or ``None``."""
        return cast("Doc | None", self._read_table().get(doc_id))

    def ids(self) -> list[str]:
        """The ids of every document."""
        return list(self._read_table())

    def replace(self, doc_id: str, doc: Doc) -> None:
        """Insert or replace one document."""

        def store(table: dict[Any, Any]) -> None:
            table[doc_id] = doc

        self._update_table(store)

    def pop(self, doc_id: str) -> Doc | None:
        """Remove one document and return it, or ``None`` if it is absent."""
        doc = self.doc(doc_id)

        def remove(table: dict[Any, Any]) -> None:
            del table[doc_id]

        if doc is not None:
            self._update_table(remove)
        return doc


class CollectionDatabase(TinyDB):
    """A TinyDB database whose tables are :class:`CollectionTable`."""

    table_class = CollectionTable


class Equals:
    """A TinyDB query: every field equals its value (a missing field equals ``None``)."""

    def __init__(self, equals: Mapping[str, Any]) -> None:
        self._plain = [(key, wanted) for key, wanted in equals.items() if "." not in key]
        self._paths = [(key, wanted) for key, wanted in equals.items() if "." in key]

    def __call__(self, value: Mapping[str, Any]) -> bool:
        doc = cast(Doc, value)
        return all(doc.get(key) == wanted for key, wanted in self._plain) and all(
            field_value(doc, key) == wanted for key, wanted in self._paths
        )

    def __hash__(self) -> int:
        return id(self)

    def is_cacheable(self) -> bool:
        return False
