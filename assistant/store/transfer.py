"""Moving a community between stores, and backing one up: ``assistant db copy`` and ``db backup``.

Every record of a store is one :class:`Record`: its collection, whether it is
hot or archived, its id and its document. :func:`records` reads them all in
one consistent view (TinyDB: under the store lock; PostgreSQL: one REPEATABLE
READ snapshot), :func:`copy` writes them into an empty store in one unit of
work, and :func:`tally` sums up a store per collection and part, with a
count and a checksum that do not depend on the order of keys or records, so a
copy is verified by reading the target back and comparing the two tallies.

A backup is a JSON-lines file: a header line, one line per record
(``{"collection", "part", "id", "doc"}``) and a closing line with the tally, so
a backup cut short is recognised; :func:`read_backup` reads one back as a
source for :func:`copy`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from assistant.store.base import Doc, Store, StoreError, Tx
from assistant.store.files import PRIVATE_FILE

HOT = "hot"
ARCHIVED = "archived"
BACKUP_FORMAT = "neighbourhood-assistant-backup"


@dataclass(frozen=True)
class Record:
    """One record of a store, hot or archived."""

    collection: str
    part: str
    id: str
    doc: Doc


@dataclass
class Part:
    """The count and checksum of one collection's hot or archived records."""

    count: int = 0
    digest: int = 0  # the sum of the records' hashes modulo 2**128: independent of order

    def add(self, record: Record) -> None:
        self.count += 1
        self.digest = (self.digest + _hash(record)) % (1 << 128)

    @property
    def checksum(self) -> str:
        return f"{self.digest:032x}"


Tally = dict[tuple[str, str], Part]


def _hash(record: Record) -> int:
    text = json.dumps(
        [record.collection, record.part, record.id, record.doc],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:16], "big")


def tally(records: Iterable[Record]) -> Tally:
    """The count and checksum of every (collection, part)."""
    parts: Tally = {}
    for record in records:
        parts.setdefault((record.collection, record.part), Part()).add(record)
    return parts


def collections_of(store: Store, tx: Tx) -> list[str]:
    """The names of a store's collections (each store knows its own way)."""
    from assistant.store.memory import MemoryStore
    from assistant.store.tinydb_store import TinyDbStore

    if isinstance(store, TinyDbStore):
        names = {store.layout.collection_of(path) for path in store.directory.glob("*.json")}
        names |= {
            path.name.removesuffix(".archive.jsonl")
            for path in store.directory.glob("*.archive.jsonl")
        }
        return sorted(name for name in names if name)
    if isinstance(store, MemoryStore):
        return sorted(set(store.hot) | set(store.cold))
    collections = getattr(tx, "collections", None)
    if collections is None:
        raise StoreError(f"cannot list the collections of a {type(store).__name__}")
    return list(collections())


def records(store: Store) -> Iterator[Record]:
    """Every record of a store, read in one consistent view."""
    from assistant.store.tinydb_store import TinyDbStore

    # TinyDB's snapshots are consistent per file only: its lock gives one view of them all.
    view = store.transaction() if isinstance(store, TinyDbStore) else store.snapshot()
    with view as tx:
        for collection in collections_of(store, tx):
            for doc in tx.all(collection):
                yield Record(collection, HOT, str(doc["id"]), doc)
            for doc in tx.archived(collection):
                yield Record(collection, ARCHIVED, str(doc["id"]), doc)


def copy(source: Iterable[Record], target: Store) -> Tally:
    """Write every record into ``target``, which must be empty, in one unit of work.

    Returns the tally of what was written. A failure writes nothing.
    """
    written: Tally = {}
    with target.transaction() as tx:
        if collections_of(target, tx):
            raise StoreError("the target store is not empty; copy only into an empty one")
        for record in source:
            tx.put(record.collection, record.id, record.doc)
            if record.part == ARCHIVED:
                tx.archive(record.collection, record.id)
            written.setdefault((record.collection, record.part), Part()).add(record)
    return written


def differences(expected: Tally, found: Tally) -> list[str]:
    """What differs between two tallies, one line each (empty when they agree)."""
    lines = []
    for key in sorted(set(expected) | set(found)):
        want, got = expected.get(key, Part()), found.get(key, Part())
        if (want.count, want.digest) != (got.count, got.digest):
            lines.append(
                f"{key[0]} ({key[1]}): expected {want.count} records ({want.checksum}), "
                f"found {got.count} ({got.checksum})"
            )
    return lines


def write_backup(source: Iterable[Record], path: Path, origin: str, at: str) -> Tally:
    """Write a JSON-lines backup to ``path`` (private, fsynced, renamed into place)."""
    temp = path.with_name(f".{path.name}.tmp")
    written: Tally = {}
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            _line(out, {"format": BACKUP_FORMAT, "version": 1, "source": origin, "at": at})
            for record in source:
                _line(
                    out,
                    {
                        "collection": record.collection,
                        "part": record.part,
                        "id": record.id,
                        "doc": record.doc,
                    },
                )
                written.setdefault((record.collection, record.part), Part()).add(record)
            _line(out, {"end": _tally_json(written)})
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return written


def read_backup(path: Path) -> Iterator[Record]:
    """The records of a backup file; :class:`StoreError` if it is not whole or not a backup."""
    with path.open(encoding="utf-8") as lines:
        try:
            header = json.loads(next(lines))
        except (StopIteration, ValueError):
            header = None
        if not isinstance(header, dict) or header.get("format") != BACKUP_FORMAT:
            raise StoreError(f"{path} is not a backup of this program")
        seen: Tally = {}
        for number, text in enumerate(lines, start=2):
            try:
                entry = json.loads(text)
            except ValueError:
                raise StoreError(f"{path}: line {number} is damaged") from None
            if "end" in entry:
                if _tally_json(seen) != entry["end"]:
                    raise StoreError(f"{path}: the records do not match the closing tally")
                return
            record = Record(entry["collection"], entry["part"], entry["id"], entry["doc"])
            seen.setdefault((record.collection, record.part), Part()).add(record)
            yield record
    raise StoreError(f"{path} ends before its closing line: the backup was cut short")


def _tally_json(parts: Tally) -> dict[str, Any]:
    return {
        f"{collection}/{part}": {"count": value.count, "checksum": value.checksum}
        for (collection, part), value in sorted(parts.items())
    }


def _line(out: IO[str], value: Any) -> None:
    out.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")
