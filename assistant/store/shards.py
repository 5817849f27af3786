"""Which hot file holds a document: one file per collection, or shards by a hash of the id.

A collection that never closes (people, addresses, conversations) grows with
the community, and every write rewrites the hot file it touches. Such a
collection is split into ``<collection>.<NNN>.json`` files, ordinary TinyDB
files like the others, and a document lives in shard ``crc32(id) % count``: a
read or write by id touches one small file whatever the number of people.

The layout is recorded in the store folder (``.layout.json``) the first time a
collection is split, so every process that opens the folder uses it, even one
built without it. A shard count never changes once recorded.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Mapping
from pathlib import Path

from assistant.store.base import StoreError
from assistant.store.files import dumps, fsync_dir, write_temp

LAYOUT_FILE = ".layout.json"
MAX_SHARDS = 1000

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*\Z")
_SHARD = re.compile(r"(?P<collection>[A-Za-z0-9_][A-Za-z0-9_-]*)\.(?P<index>[0-9]{3})\Z")


def check_name(collection: str) -> None:
    """Refuse a collection name that is not a plain file name."""
    if not _NAME.match(collection):
        raise StoreError(f"bad collection name {collection!r}")


class Layout:
    """The hot files of every collection of one store folder.

    Args:
        directory: The store folder.
        shards: Shard counts by collection; empty: every collection is one file.
    """

    def __init__(self, directory: Path, shards: Mapping[str, int]) -> None:
        self.directory = directory
        self.shards = dict(shards)

    @classmethod
    def settle(cls, directory: Path, wanted: Mapping[str, int]) -> Layout:
        """The folder's recorded layout, extended durably with ``wanted`` (the lock is held).

        Raises:
            StoreError: A count is out of range, or differs from the recorded one.
        """
        recorded = cls._read(directory / LAYOUT_FILE)
        for collection, count in wanted.items():
            check_name(collection)
            if not 1 < count <= MAX_SHARDS:
                raise StoreError(f"{collection}: a shard count must be 2..{MAX_SHARDS}")
            if recorded.get(collection, count) != count:
                raise StoreError(
                    f"{collection} is split into {recorded[collection]} shards in {directory};"
                    f" it cannot change to {count}"
                )
        layout = {**recorded, **wanted}
        if layout != recorded:
            path = directory / LAYOUT_FILE
            data = dumps({"shards": dict(sorted(layout.items()))})
            write_temp(path, data).replace(path)
            fsync_dir(directory)
        return cls(directory, layout)

    @staticmethod
    def _read(path: Path) -> dict[str, int]:
        try:
            raw = json.loads(path.read_bytes())
            return {str(name): int(count) for name, count in raw["shards"].items()}
        except FileNotFoundError:
            return {}
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise StoreError(f"store layout {path} is unreadable") from error

    def is_sharded(self, collection: str) -> bool:
        """Whether the collection is split into shards."""
        return collection in self.shards

    def file_of(self, collection: str, doc_id: str) -> Path:
        """The hot file that holds (or would hold) this document."""
        check_name(collection)
        count = self.shards.get(collection)
        if count is None:
            return self.directory / f"{collection}.json"
        index = zlib.crc32(doc_id.encode("utf-8", "surrogatepass")) % count
        return self.shard(collection, index)

    def files_of(self, collection: str) -> list[Path]:
        """Every hot file of the collection, existing or not."""
        check_name(collection)
        count = self.shards.get(collection)
        if count is None:
            return [self.directory / f"{collection}.json"]
        return [self.shard(collection, index) for index in range(count)]

    def shard(self, collection: str, index: int) -> Path:
        """The file of one shard."""
        return self.directory / f"{collection}.{index:03d}.json"

    def plain(self, collection: str) -> Path:
        """The one-file form of a collection (what a sharded collection was split from)."""
        return self.directory / f"{collection}.json"

    def collection_of(self, path: Path) -> str | None:
        """The collection a hot file belongs to, or ``None`` if it is no hot file."""
        stem = path.name.removesuffix(".json")
        if _NAME.match(stem):
            return stem
        shard = _SHARD.match(stem)
        if shard and int(shard["index"]) < self.shards.get(shard["collection"], 0):
            return shard["collection"]
        return None
