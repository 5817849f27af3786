"""The real store: TinyDB files that several processes share safely.

Each collection is one TinyDB JSON file, ``<collection>.json``, holding one
table named after the collection and keyed by our own string ids. Closed
records move to ``<collection>.archive.jsonl``, an append-only file, so the
hot files that every write rewrites stay small whatever the history.

A transaction holds one exclusive lock for the whole store (a thread lock and
a file lock), reads each collection it touches fresh from disk, keeps its
writes in memory and, when its block ends without an exception:

1. writes every changed hot file to a temporary file, flushed and fsynced;
2. appends the archived records and tombstones to the archive files, fsynced;
3. when more than one hot file changed, records the planned renames in a
   journal, so that a crash during step 4 is completed by the next lock holder;
4. renames each temporary file over its hot file and fsyncs the directory.

A snapshot takes no lock: renames are atomic, so it always reads whole files.
``docs/STORAGE.md`` gives the reasons and the limits.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast

from filelock import FileLock, Timeout
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from assistant.store.base import Doc, NotFound, ReadOnly, StoreError

_LOG = logging.getLogger(__name__)

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*\Z")
_LOCK_FILE = ".store.lock"
_JOURNAL = ".commit.journal"
_CHUNK = 1 << 20


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _clone(value: Any) -> Any:
    """A deep copy of plain JSON data (dicts, lists and scalars)."""
    if isinstance(value, dict):
        return {key: _clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clone(item) for item in value]
    return value


def _fsync_dir(directory: Path) -> None:
    """Make renames and new files in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temp(target: Path, data: bytes) -> Path:
    """Write ``data`` durably to a fresh temporary file beside ``target``."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def _load_hot(path: Path, collection: str) -> dict[str, Doc]:
    """The documents of one collection file; a missing file is an empty collection."""
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


class _CollectionStorage(Storage):
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
            self._data = {self.collection: _load_hot(self.path, self.collection)}
        return self._data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self._data = data
        self.dirty = True

    def serialise(self) -> bytes:
        """The file's new content, in TinyDB's own layout."""
        return _dumps(self.read())


class _Table(Table):
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


class _Database(TinyDB):
    table_class = _Table


class _Equals:
    """A TinyDB query: every field equals its value (a missing field equals ``None``)."""

    def __init__(self, equals: Mapping[str, Any]) -> None:
        self._equals = dict(equals)

    def __call__(self, value: Mapping[str, Any]) -> bool:
        return all(value.get(key) == wanted for key, wanted in self._equals.items())

    def __hash__(self) -> int:
        return id(self)

    def is_cacheable(self) -> bool:
        return False


class _Archive:
    """The append-only archive file of one collection, with an in-process index.

    Each line is ``{"id": ..., "doc": {...}}`` or a tombstone
    ``{"id": ..., "deleted": true}``; the last line of an id wins. The index
    maps each archived id to the offset and length of its last line, and is
    brought up to date by reading only what was appended since the last look.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._index: dict[str, tuple[int, int]] = {}
        self._size = 0  # bytes indexed, always the end of a complete line
        self._fd: int | None = None
        self._inode: int | None = None

    def get(self, doc_id: str) -> Doc | None:
        """The archived document, or ``None``."""
        with self._lock:
            self._refresh()
            where = self._index.get(doc_id)
            if where is None or self._fd is None:
                return None
            line = os.pread(self._fd, where[1], where[0])
        return cast(Doc, self._parse(line, where[0])["doc"])

    def __contains__(self, doc_id: str) -> bool:
        with self._lock:
            self._refresh()
            return doc_id in self._index

    def scan(self) -> Iterator[tuple[str, Doc]]:
        """Every archived document with its id, in file order."""
        with self._lock:
            self._refresh()
            wanted = {offset for offset, _ in self._index.values()}
            limit = self._size
        if not wanted:
            return
        with self.path.open("rb") as handle:
            offset = 0
            for line in handle:
                if offset >= limit:
                    break
                if offset in wanted:
                    entry = self._parse(line, offset)
                    yield entry["id"], entry["doc"]
                offset += len(line)

    def append(self, entries: Mapping[str, Doc | None]) -> None:
        """Append documents (``None`` for a tombstone) durably; the caller holds the store lock."""
        data = b"".join(
            _dumps(
                {"id": doc_id, "doc": doc} if doc is not None else {"id": doc_id, "deleted": True}
            )
            + b"\n"
            for doc_id, doc in entries.items()
        )
        created = not self.path.exists()
        with self.path.open("a+b") as handle:
            self._cut_torn_tail(handle)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if created:
            _fsync_dir(self.path.parent)

    def close(self) -> None:
        """Close the read descriptor."""
        with self._lock:
            self._reset(None)

    def _cut_torn_tail(self, handle: IO[bytes]) -> None:
        """Drop a last line left incomplete by a writer that died while appending."""
        end = keep = handle.seek(0, os.SEEK_END)
        while keep > 0:
            start = max(0, keep - _CHUNK)
            handle.seek(start)
            newline = handle.read(keep - start).rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            keep = start
        if keep < end:
            _LOG.warning(
                "archive %s: dropping %d bytes of an interrupted commit", self.path, end - keep
            )
            handle.truncate(keep)

    def _refresh(self) -> None:
        """Index the lines appended since the last look (the caller holds ``_lock``)."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            self._reset(None)
            return
        if stat.st_ino != self._inode or stat.st_size < self._size:
            self._reset(stat.st_ino)
        try:
            self._index_tail(stat.st_size)
        except StoreError:
            # A reader without the lock may meet a torn tail while a writer cuts it: look again.
            self._index_tail(os.stat(self.path).st_size)

    def _index_tail(self, end: int) -> None:
        assert self._fd is not None
        want = _CHUNK
        while self._size < end:
            chunk = os.pread(self._fd, min(want, end - self._size), self._size)
            last = chunk.rfind(b"\n")
            if last < 0:
                if self._size + len(chunk) >= end:
                    return  # an incomplete last line: a commit in progress, or a torn one
                want *= 2
                continue
            for line in chunk[: last + 1].splitlines(keepends=True):
                entry = self._parse(line, self._size)
                if entry.get("deleted"):
                    self._index.pop(entry["id"], None)
                else:
                    self._index[entry["id"]] = (self._size, len(line))
                self._size += len(line)

    def _reset(self, inode: int | None) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd = os.open(self.path, os.O_RDONLY) if inode is not None else None
        self._inode = inode
        self._index = {}
        self._size = 0

    def _parse(self, line: bytes, offset: int) -> dict[str, Any]:
        try:
            entry = json.loads(line)
        except ValueError as error:
            raise StoreError(f"archive {self.path} has a corrupt line at byte {offset}") from error
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise StoreError(f"archive {self.path} has a line without an id at byte {offset}")
        return entry


class _TinyTx:
    """One unit of work: each collection is read at first touch; writes wait for the commit."""

    def __init__(self, store: TinyDbStore, *, writable: bool) -> None:
        self._store = store
        self._writable = writable
        self._tables: dict[str, _Table] = {}
        self._storages: dict[str, _CollectionStorage] = {}
        self._moves: dict[str, dict[str, Doc | None]] = {}

    def get(self, collection: str, doc_id: str) -> Doc | None:
        doc = self._table(collection).doc(doc_id)
        if doc is None:
            moves = self._moves.get(collection, {})
            if doc_id in moves:
                doc = moves[doc_id]
            else:
                doc = self._store.archive_of(collection).get(doc_id)
        return None if doc is None else cast(Doc, _clone(doc))

    def require(self, collection: str, doc_id: str) -> Doc:
        doc = self.get(collection, doc_id)
        if doc is None:
            raise NotFound(f"{collection}/{doc_id}")
        return doc

    def put(self, collection: str, doc_id: str, doc: Doc) -> None:
        self._check_writable()
        try:
            stored = json.loads(json.dumps(doc, allow_nan=False))
        except (TypeError, ValueError) as error:
            raise StoreError(f"{collection}/{doc_id} cannot be stored as JSON: {error}") from error
        stored["id"] = doc_id
        self._table(collection).replace(doc_id, stored)

    def delete(self, collection: str, doc_id: str) -> None:
        self._check_writable()
        self._table(collection).pop(doc_id)
        moves = self._moves.setdefault(collection, {})
        if moves.get(doc_id) is not None or doc_id in self._store.archive_of(collection):
            moves[doc_id] = None

    def all(self, collection: str) -> list[Doc]:
        documents = sorted(self._table(collection).all(), key=lambda doc: str(doc.doc_id))
        return [cast(Doc, _clone(doc)) for doc in documents]

    def find(self, collection: str, **equals: Any) -> list[Doc]:
        documents = self._table(collection).search(_Equals(equals))
        return [cast(Doc, _clone(doc)) for doc in sorted(documents, key=lambda d: str(d.doc_id))]

    def archive(self, collection: str, doc_id: str) -> None:
        self._check_writable()
        doc = self._table(collection).pop(doc_id)
        if doc is not None:
            self._moves.setdefault(collection, {})[doc_id] = doc

    def archived(self, collection: str) -> Iterator[Doc]:
        hot = set(self._table(collection).ids())
        moves = dict(self._moves.get(collection, {}))
        for doc_id, doc in self._store.archive_of(collection).scan():
            if doc_id not in hot and doc_id not in moves:
                yield doc
        for doc_id, moved in moves.items():
            if moved is not None and doc_id not in hot:
                yield cast(Doc, _clone(moved))

    def changes(self) -> tuple[list[_CollectionStorage], dict[str, dict[str, Doc | None]]]:
        """The changed hot files and the archive lines to append."""
        files = [storage for storage in self._storages.values() if storage.dirty]
        return files, {collection: moves for collection, moves in self._moves.items() if moves}

    def _table(self, collection: str) -> _Table:
        table = self._tables.get(collection)
        if table is None:
            path = self._store.hot_path(collection)
            database = _Database(path, collection, storage=_CollectionStorage)
            self._storages[collection] = cast(_CollectionStorage, database.storage)
            table = self._tables[collection] = cast(_Table, database.table(collection))
        return table

    def _check_writable(self) -> None:
        if not self._writable:
            raise ReadOnly("snapshot is read-only")


class TinyDbStore:
    """Collections in TinyDB files under one folder, shared by several processes.

    Args:
        directory: The folder of the collection files; created if missing.
        lock_timeout: Seconds to wait for the store lock before raising
            :class:`StoreError`.
    """

    def __init__(self, directory: str | Path, *, lock_timeout: float = 60.0) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_timeout = lock_timeout
        self._thread_lock = threading.Lock()
        self._file_lock = FileLock(
            self.directory / _LOCK_FILE,
            timeout=lock_timeout,
            thread_local=False,
            poll_interval=0.001,
        )
        self._local = threading.local()
        self._archives: dict[str, _Archive] = {}
        self._archives_lock = threading.Lock()
        self._closed = False
        with self._locked():
            self._remove_stale_temps()
            for path in sorted(self.directory.glob("*.json")):
                if _NAME.match(path.stem):
                    _load_hot(path, path.stem)

    @contextmanager
    def transaction(self) -> Iterator[_TinyTx]:
        """Lock, read fresh, and commit atomically on success."""
        with self._locked():
            tx = _TinyTx(self, writable=True)
            yield tx
            self._commit(tx)

    @contextmanager
    def snapshot(self) -> Iterator[_TinyTx]:
        """A read-only view that takes no lock."""
        self._check_open()
        yield _TinyTx(self, writable=False)

    def close(self) -> None:
        """Close the archive descriptors; the store cannot be used afterwards."""
        if getattr(self._local, "held", False):
            raise StoreError("cannot close the store inside one of its transactions")
        with self._thread_lock, self._archives_lock:
            for archive in self._archives.values():
                archive.close()
            self._archives.clear()
            self._closed = True

    def hot_path(self, collection: str) -> Path:
        """The hot file of a collection."""
        if not _NAME.match(collection):
            raise StoreError(f"bad collection name {collection!r}")
        return self.directory / f"{collection}.json"

    def archive_of(self, collection: str) -> _Archive:
        """The archive of a collection, shared by every transaction of this process."""
        with self._archives_lock:
            archive = self._archives.get(collection)
            if archive is None:
                path = self.hot_path(collection).with_suffix(".archive.jsonl")
                archive = self._archives[collection] = _Archive(path)
            return archive

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the store lock: first between threads, then between processes."""
        self._check_open()
        if getattr(self._local, "held", False):
            raise StoreError("a transaction is already open in this thread; pass its Tx instead")
        with self._thread_lock:
            try:
                self._file_lock.acquire()
            except Timeout as error:
                raise StoreError(
                    f"store lock {self._file_lock.lock_file} still busy after {self._lock_timeout} s"
                ) from error
            self._local.held = True
            try:
                self._finish_interrupted_commit()
                yield
            finally:
                self._local.held = False
                self._file_lock.release()

    def _commit(self, tx: _TinyTx) -> None:
        files, moves = tx.changes()
        if not files and not moves:
            return
        temps: list[tuple[Path, Path]] = []
        journal = False
        try:
            for storage in files:
                temps.append((_write_temp(storage.path, storage.serialise()), storage.path))
            for collection, entries in moves.items():
                self.archive_of(collection).append(entries)
            if len(temps) > 1:
                self._write_journal(temps)
                journal = True
            for temp, target in temps:
                os.replace(temp, target)
            _fsync_dir(self.directory)
        except BaseException:
            if not journal:  # with a journal, the next lock holder completes the commit
                for temp, _ in temps:
                    temp.unlink(missing_ok=True)
            raise
        if journal:
            (self.directory / _JOURNAL).unlink()
        _LOG.debug("committed %d files, %d archive entries", len(files), len(moves))

    def _write_journal(self, temps: list[tuple[Path, Path]]) -> None:
        path = self.directory / _JOURNAL
        plan = [[temp.name, target.name] for temp, target in temps]
        os.replace(_write_temp(path, _dumps({"replace": plan})), path)
        _fsync_dir(self.directory)

    def _finish_interrupted_commit(self) -> None:
        """Complete the renames of a commit whose writer died half way."""
        path = self.directory / _JOURNAL
        try:
            plan = json.loads(path.read_bytes())["replace"]
        except FileNotFoundError:
            return
        except (ValueError, KeyError, TypeError) as error:
            raise StoreError(f"commit journal {path} is unreadable") from error
        done = 0
        for temp_name, target_name in plan:
            temp = self.directory / Path(temp_name).name
            if temp.exists():
                os.replace(temp, self.directory / Path(target_name).name)
                done += 1
        _fsync_dir(self.directory)
        path.unlink()
        _LOG.warning("completed an interrupted commit: %d of %d files renamed", done, len(plan))

    def _remove_stale_temps(self) -> None:
        """Delete temporary files of commits that never finished (the lock is held)."""
        for path in self.directory.glob(".*.tmp"):
            _LOG.warning("removing %s, left by an interrupted commit", path.name)
            path.unlink(missing_ok=True)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"store {self.directory} is closed")
