"""The real store: TinyDB files that several processes share safely.

Each collection is one TinyDB JSON file, ``<collection>.json``, holding one
table named after the collection and keyed by our own string ids. Closed
records move to ``<collection>.archive.jsonl``, an append-only file, so the
hot files that every write rewrites stay small whatever the history.

A transaction holds one exclusive lock for the whole store (a thread lock and
a file lock), reads each collection it touches fresh from disk, keeps its
writes in memory and, when its block ends without an exception:

1. writes every changed hot file to a temporary file, flushed and fsynced;
2. appends the newly archived records to the archive files, fsynced;
3. when there is more than one file to rename or a tombstone to append,
   writes a journal of them, so that the next lock holder completes a commit
   whose writer died during steps 4 and 5;
4. renames each temporary file over its hot file and fsyncs the directory;
5. appends the tombstones of deleted archived records, then drops the journal.

A snapshot takes no lock: renames are atomic, so it always reads whole files.
``docs/STORAGE.md`` gives the reasons and the limits.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from assistant.store.base import Doc, NotFound, ReadOnly, StoreError

_LOG = logging.getLogger(__name__)

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*\Z")
_LOCK_FILE = ".store.lock"
_JOURNAL = ".commit.journal"
_CHUNK = 1 << 20
_TORN = b'{"torn":true}\n'


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

    Bytes once written never change, so a reader without the lock never sees
    a line change under it. A line that a killed writer left unfinished is
    sealed by the next writer with a newline and a ``{"torn":true}`` line,
    and readers skip both; any other unreadable line is an error.
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
            end = handle.seek(0, os.SEEK_END)
            if end and os.pread(handle.fileno(), 1, end - 1) != b"\n":
                _LOG.warning(
                    "archive %s: sealing a line left unfinished by a killed writer", self.path
                )
                data = b"\n" + _TORN + data
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if created:
            _fsync_dir(self.path.parent)

    def close(self) -> None:
        """Close the read descriptor."""
        with self._lock:
            self._reset(None)

    def _refresh(self) -> None:
        """Index the lines appended since the last look (the caller holds ``_lock``)."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            self._reset(None)
            return
        if stat.st_ino != self._inode or stat.st_size < self._size:
            self._reset(stat.st_ino)
        assert self._fd is not None
        want = _CHUNK
        while self._size < stat.st_size:
            chunk = os.pread(self._fd, min(want, stat.st_size - self._size), self._size)
            lines = chunk[: chunk.rfind(b"\n") + 1].splitlines(keepends=True)
            if not self._index_lines(lines):
                if self._size + len(chunk) >= stat.st_size:
                    return  # an unfinished last line: a commit in progress, or a torn one
                want *= 2

    def _index_lines(self, lines: list[bytes]) -> int:
        """Index complete lines from ``_size`` on; return how many were used."""
        done = 0
        while done < len(lines):
            line = lines[done]
            key = _line_key(line)
            if key is not None:
                doc_id, deleted = key
                if deleted:
                    self._index.pop(doc_id, None)
                else:
                    self._index[doc_id] = (self._size, len(line))
            elif line != _TORN:
                if done + 1 == len(lines):
                    break  # perhaps a torn line whose seal is being written: look again later
                if lines[done + 1] != _TORN:
                    raise StoreError(f"archive {self.path} has a corrupt line at byte {self._size}")
            self._size += len(line)
            done += 1
        return done

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


def _line_key(line: bytes) -> tuple[str, bool] | None:
    """The id of an archive line and whether it is a tombstone; ``None`` if unreadable.

    Lines as this module writes them are recognised without parsing the document,
    which makes indexing a large archive several times faster.
    """
    end = line.find(b'"', 7)
    if end > 7 and line.startswith(b'{"id":"') and line.endswith(b"}\n"):
        doc_id = line[7:end]
        if b"\\" not in doc_id and line[end + 1 : end + 8] == b',"doc":':
            return doc_id.decode(), False
        if b"\\" not in doc_id and line[end + 1 :] == b',"deleted":true}\n':
            return doc_id.decode(), True
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        return None
    return entry["id"], bool(entry.get("deleted"))


class _ProcessLock:
    """An exclusive lock between processes: a blocking ``flock`` on a descriptor kept open.

    The kernel queues the waiters and wakes one as soon as the holder lets go,
    and drops the lock of a process that dies, even by SIGKILL. (The
    ``filelock`` package polls instead, which measured about a third fewer
    claims per second with four competing processes.) Threads of one process
    share the descriptor, so the store adds a thread lock in front of it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = -1
        self._pid = -1

    def acquire(self) -> None:
        if self._pid != os.getpid():  # a forked child needs its own open file description
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._pid == os.getpid():
            os.close(self._fd)
        self._pid = -1


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
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._thread_lock = threading.Lock()
        self._process_lock = _ProcessLock(self.directory / _LOCK_FILE)
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
        """Close the lock and archive descriptors; the store cannot be used afterwards."""
        if getattr(self._local, "held", False):
            raise StoreError("cannot close the store inside one of its transactions")
        with self._thread_lock, self._archives_lock:
            for archive in self._archives.values():
                archive.close()
            self._archives.clear()
            self._process_lock.close()
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
            self._process_lock.acquire()
            self._local.held = True
            try:
                self._finish_interrupted_commit()
                yield
            finally:
                self._local.held = False
                self._process_lock.release()

    def _commit(self, tx: _TinyTx) -> None:
        """Write a transaction's changes; the order is what makes a crash harmless.

        Archived documents are appended before the hot files lose them (a crash
        between leaves a record in both, and the hot copy wins). Tombstones are
        appended only after the renames, so a crash never deletes an archived
        record that a half-done transaction copied elsewhere. A journal names
        the renames and tombstones whenever there is more than one step to
        finish, and the next lock holder completes them.
        """
        files, moves = tx.changes()
        if not files and not moves:
            return
        archived = {c: {i: d for i, d in m.items() if d is not None} for c, m in moves.items()}
        deleted = {c: [i for i, d in m.items() if d is None] for c, m in moves.items()}
        deleted = {collection: ids for collection, ids in deleted.items() if ids}
        renames: list[tuple[Path, Path]] = []
        journal = len(files) > 1 or bool(deleted)
        try:
            for storage in files:
                renames.append((_write_temp(storage.path, storage.serialise()), storage.path))
            for collection, docs in archived.items():
                if docs:
                    self.archive_of(collection).append(docs)
            if journal:
                plan = [[temp.name, target.name] for temp, target in renames]
                self._write_journal({"replace": plan, "tombstones": deleted})
        except BaseException:
            for temp, _ in renames:
                temp.unlink(missing_ok=True)
            raise
        self._finish(renames, deleted)
        if journal:
            (self.directory / _JOURNAL).unlink()
            _fsync_dir(self.directory)
        _LOG.debug("committed %d files and %d archive moves", len(files), len(moves))

    def _finish(self, renames: list[tuple[Path, Path]], deleted: dict[str, list[str]]) -> None:
        """Rename the new hot files into place, then append the tombstones."""
        for temp, target in renames:
            os.replace(temp, target)
        _fsync_dir(self.directory)
        for collection, ids in deleted.items():
            self.archive_of(collection).append(dict.fromkeys(ids))

    def _write_journal(self, plan: dict[str, Any]) -> None:
        path = self.directory / _JOURNAL
        os.replace(_write_temp(path, _dumps(plan)), path)
        _fsync_dir(self.directory)

    def _finish_interrupted_commit(self) -> None:
        """Complete the commit of a writer that died after writing its journal."""
        path = self.directory / _JOURNAL
        try:
            plan = json.loads(path.read_bytes())
            renames = [
                (self.directory / Path(temp).name, self.directory / Path(target).name)
                for temp, target in plan["replace"]
            ]
            deleted = {str(c): [str(i) for i in ids] for c, ids in plan["tombstones"].items()}
        except FileNotFoundError:
            return
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise StoreError(f"commit journal {path} is unreadable") from error
        pending = [(temp, target) for temp, target in renames if temp.exists()]
        self._finish(pending, deleted)
        path.unlink()
        _fsync_dir(self.directory)
        _LOG.warning(
            "completed an interrupted commit: %d of %d renames were left, %d tombstones",
            len(pending),
            len(renames),
            sum(len(ids) for ids in deleted.values()),
        )

    def _remove_stale_temps(self) -> None:
        """Delete temporary files of commits that never finished (the lock is held)."""
        for path in self.directory.glob(".*.tmp"):
            _LOG.warning("removing %s, left by an interrupted commit", path.name)
            path.unlink(missing_ok=True)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"store {self.directory} is closed")
