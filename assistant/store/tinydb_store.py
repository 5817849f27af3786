"""The real store: TinyDB files that several processes share safely.

Each collection is one TinyDB JSON file, ``<collection>.json``, holding one
table named after the collection and keyed by our own string ids; a
collection that never closes can be split into shard files by a hash of the
id (``shards.py``), so a write by id touches one small file. Closed records
move to ``<collection>.archive.jsonl``, an append-only file, so the hot files
that every write rewrites stay small whatever the history.

A transaction holds one exclusive lock for the whole store (a thread lock and
a file lock), reads each collection it touches fresh from disk, keeps its
writes in memory and, when its block ends without an exception:

1. writes every changed hot file to a temporary file, flushed and fsynced;
2. appends the newly archived records to the archive files, fsynced;
3. when there is more than one file to rename or a tombstone to append,
   writes a journal of them, so that the next lock holder completes a commit
   whose writer died during steps 4 and 5;
4. renames each temporary file over its hot file and fsyncs the directory;
5. appends the tombstones of deleted archived records;
6. rewrites the archives of collections whose archived records were purged
   (:meth:`Tx.purge`), so no earlier version of them stays in any file, then
   drops the journal.

A snapshot takes no lock: renames are atomic, so it always reads whole files.

The parts live beside this module: ``tables.py`` (the TinyDB adapters),
``shards.py`` (which file holds a document),
``archive.py`` (the archive and its index), ``journal.py`` (the commit
journal), ``locking.py`` (the lock between processes) and ``files.py``
(durable writes). ``docs/STORAGE.md`` gives the reasons and the limits.
"""

from __future__ import annotations

import json
import logging
import marshal
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from assistant.store.archive import Archive
from assistant.store.base import Doc, NotFound, ReadOnly, StoreError, due_of
from assistant.store.files import dumps, fsync_dir, private_dir, write_temp
from assistant.store.journal import CommitJournal
from assistant.store.locking import ProcessLock
from assistant.store.shards import Layout, check_name
from assistant.store.tables import (
    CollectionDatabase,
    CollectionStorage,
    CollectionTable,
    Equals,
    load_hot,
)

_LOG = logging.getLogger(__name__)

_LOCK_FILE = ".store.lock"


def _clone(value: Any) -> Any:
    """A deep copy of plain JSON data (dicts, lists and scalars), as plain dicts and lists.

    ``marshal`` copies JSON data about seven times faster than a Python walk (a volunteer
    scan of a wave reads every person). It would let two places of the copy share one list
    if they shared it in the original; the store's documents never do, since each comes
    from ``json.loads`` (files) or a JSON round trip (:meth:`_TinyTx._stored`).
    """
    if isinstance(value, dict) and type(value) is not dict:
        value = dict(value)  # a TinyDB Document: its fields, without the subclass
    try:
        return marshal.loads(marshal.dumps(value))
    except ValueError:  # something that is not plain JSON data: copy it the slow way
        return _walk(value)


def _clones(documents: list[Any]) -> list[Doc]:
    """Deep copies of many documents at once."""
    return cast(list[Doc], _clone([dict(doc) for doc in documents]))


def _walk(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _walk(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(item) for item in value]
    return value


class _TinyTx:
    """One unit of work: each collection is read at first touch; writes wait for the commit."""

    def __init__(self, store: TinyDbStore, *, writable: bool) -> None:
        self._store = store
        self._writable = writable
        self._tables: dict[str, CollectionTable] = {}
        self._storages: dict[str, CollectionStorage] = {}
        self._moves: dict[str, dict[str, Doc | None]] = {}
        self._purged: set[str] = set()
        self.due_timers: list[str] = []

    def get(self, collection: str, doc_id: str) -> Doc | None:
        doc = self._table(collection, doc_id).doc(doc_id)
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
        self._table(collection, doc_id).replace(doc_id, self._stored(collection, doc_id, doc))

    @staticmethod
    def _stored(collection: str, doc_id: str, doc: Doc) -> Doc:
        """A plain-JSON copy of ``doc`` with its id, or :class:`StoreError`."""
        try:
            stored: Doc = json.loads(json.dumps(doc, allow_nan=False))
        except (TypeError, ValueError) as error:
            raise StoreError(f"{collection}/{doc_id} cannot be stored as JSON: {error}") from error
        stored["id"] = doc_id
        return stored

    def delete(self, collection: str, doc_id: str) -> None:
        self._check_writable()
        self._table(collection, doc_id).pop(doc_id)
        moves = self._moves.setdefault(collection, {})
        if moves.get(doc_id) is not None or doc_id in self._store.archive_of(collection):
            moves[doc_id] = None

    def all(self, collection: str) -> list[Doc]:
        documents = [doc for table in self._every_table(collection) for doc in table.all()]
        documents.sort(key=lambda doc: str(doc.doc_id))
        return _clones(documents)

    def find(self, collection: str, **equals: Any) -> list[Doc]:
        query = Equals(equals)
        documents = [doc for table in self._every_table(collection) for doc in table.search(query)]
        documents.sort(key=lambda doc: str(doc.doc_id))
        return _clones(documents)

    keeps_due_index = False

    def due(self, collection: str, upto: str, limit: int) -> list[Doc]:
        return due_of(self.all(collection), upto, limit)

    def archive(self, collection: str, doc_id: str, final: Doc | None = None) -> None:
        self._check_writable()
        if final is not None:
            self.put(collection, doc_id, final)
        doc = self._table(collection, doc_id).pop(doc_id)
        if doc is not None:
            self._moves.setdefault(collection, {})[doc_id] = doc

    def purge(self, collection: str, doc_id: str, replacement: Doc | None = None) -> None:
        self._check_writable()
        table = self._table(collection, doc_id)
        moves = self._moves.setdefault(collection, {})
        archived = moves.get(doc_id) is not None or (
            doc_id not in moves and doc_id in self._store.archive_of(collection)
        )
        stored = None if replacement is None else self._stored(collection, doc_id, replacement)
        if table.doc(doc_id) is not None or not archived:
            if stored is None:
                table.pop(doc_id)
            else:
                table.replace(doc_id, stored)
            if archived:
                moves[doc_id] = None  # a copy left in the archive goes too
        else:
            moves[doc_id] = stored
        if archived:
            self._purged.add(collection)

    def archived(self, collection: str) -> Iterator[Doc]:
        hot = {doc_id for table in self._every_table(collection) for doc_id in table.ids()}
        moves = dict(self._moves.get(collection, {}))
        for doc_id, doc in self._store.archive_of(collection).scan():
            if doc_id not in hot and doc_id not in moves:
                yield doc
        for doc_id, moved in moves.items():
            if moved is not None and doc_id not in hot:
                yield cast(Doc, _clone(moved))

    def changes(
        self,
    ) -> tuple[list[CollectionStorage], dict[str, dict[str, Doc | None]], list[str]]:
        """The changed hot files, the archive lines to append, and the archives to compact."""
        files = [storage for storage in self._storages.values() if storage.dirty]
        moves = {collection: moves for collection, moves in self._moves.items() if moves}
        return files, moves, sorted(self._purged)

    def _table(self, collection: str, doc_id: str) -> CollectionTable:
        """The table of the hot file that holds this document, read at first touch."""
        return self._open(collection, self._store.layout.file_of(collection, doc_id))

    def _every_table(self, collection: str) -> list[CollectionTable]:
        """The tables of every hot file of a collection (one, or every shard)."""
        return [self._open(collection, path) for path in self._store.layout.files_of(collection)]

    def _open(self, collection: str, path: Path) -> CollectionTable:
        table = self._tables.get(path.name)
        if table is None:
            database = CollectionDatabase(path, collection, storage=CollectionStorage)
            self._storages[path.name] = cast(CollectionStorage, database.storage)
            table = self._tables[path.name] = cast(CollectionTable, database.table(collection))
        return table

    def _check_writable(self) -> None:
        if not self._writable:
            raise ReadOnly("snapshot is read-only")


class TinyDbStore:
    """Collections in TinyDB files under one folder, shared by several processes.

    Args:
        directory: The folder of the collection files; created if missing.
        shards: Collections to split into this many shard files by a hash of
            the id (those that never close). The folder records the layout, so
            a store opened later without it still finds the shards; a
            collection kept in one file is split when first opened this way.
    """

    def __init__(self, directory: str | Path, *, shards: Mapping[str, int] | None = None) -> None:
        self.directory = private_dir(Path(directory))
        self._thread_lock = threading.Lock()
        self._process_lock = ProcessLock(self.directory / _LOCK_FILE)
        self._journal = CommitJournal(self.directory)
        self._local = threading.local()
        self._archives: dict[str, Archive] = {}
        self._archives_lock = threading.Lock()
        self._closed = False
        self.layout = Layout(self.directory, {})
        with self._locked():
            self._remove_stale_temps()
            self.layout = Layout.settle(self.directory, shards or {})
            for sharded in sorted(self.layout.shards):
                self._split(sharded)
            for path in sorted(self.directory.glob("*.json")):
                collection = self.layout.collection_of(path)
                if collection is not None:
                    load_hot(path, collection)

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

    def read(self, collection: str, doc_id: str) -> Doc | None:
        """One document as committed now, read as a snapshot reads it."""
        with self.snapshot() as tx:
            return tx.get(collection, doc_id)

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

    def archive_of(self, collection: str) -> Archive:
        """The archive of a collection, shared by every transaction of this process."""
        with self._archives_lock:
            archive = self._archives.get(collection)
            if archive is None:
                check_name(collection)
                path = self.directory / f"{collection}.archive.jsonl"
                archive = self._archives[collection] = Archive(path)
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
        files, moves, compact = tx.changes()
        if not files and not moves:
            return
        archived = {c: {i: d for i, d in m.items() if d is not None} for c, m in moves.items()}
        deleted = {c: [i for i, d in m.items() if d is None] for c, m in moves.items()}
        deleted = {collection: ids for collection, ids in deleted.items() if ids}
        renames: list[tuple[Path, Path]] = []
        journaled = len(files) > 1 or bool(deleted) or bool(compact)
        try:
            for storage in files:
                renames.append((write_temp(storage.path, storage.serialise()), storage.path))
            for collection, docs in archived.items():
                if docs:
                    self.archive_of(collection).append(docs)
            if journaled:
                self._journal.write(renames, deleted, compact)
        except BaseException:
            for temp, _ in renames:
                temp.unlink(missing_ok=True)
            raise
        self._finish(renames, deleted, compact)
        if journaled:
            self._journal.remove()
        _LOG.debug("committed %d files and %d archive moves", len(files), len(moves))

    def _finish(
        self,
        renames: list[tuple[Path, Path]],
        deleted: dict[str, list[str]],
        compact: list[str],
        remove: list[Path] | None = None,
    ) -> None:
        """Rename the new hot files into place, append the tombstones, compact purged archives."""
        for temp, target in renames:
            os.replace(temp, target)
        for path in remove or []:
            path.unlink(missing_ok=True)
        fsync_dir(self.directory)
        for collection, ids in deleted.items():
            self.archive_of(collection).append(dict.fromkeys(ids))
        for collection in compact:
            self.archive_of(collection).compact()

    def _finish_interrupted_commit(self) -> None:
        """Complete the commit of a writer that died after writing its journal."""
        plan = self._journal.read()
        if plan is None:
            return
        renames, deleted, compact, remove = plan
        pending = [(temp, target) for temp, target in renames if temp.exists()]
        self._finish(pending, deleted, compact, remove)
        self._journal.remove()
        _LOG.warning(
            "completed an interrupted commit: %d of %d renames were left, %d tombstones",
            len(pending),
            len(renames),
            sum(len(ids) for ids in deleted.values()),
        )

    def _split(self, collection: str) -> None:
        """Move a collection kept in one file into its shards, in one journaled commit."""
        plain = self.layout.plain(collection)
        docs = load_hot(plain, collection)
        if not plain.exists():
            return
        shards: dict[Path, dict[str, Doc]] = {}
        for doc_id, doc in docs.items():
            path = self.layout.file_of(collection, doc_id)
            if path not in shards:
                shards[path] = load_hot(path, collection)
            shards[path][doc_id] = doc
        renames: list[tuple[Path, Path]] = []
        try:
            for path, table in shards.items():
                renames.append((write_temp(path, dumps({collection: table})), path))
            self._journal.write(renames, {}, [], [plain])
        except BaseException:
            for temp, _ in renames:
                temp.unlink(missing_ok=True)
            raise
        self._finish(renames, {}, [], [plain])
        self._journal.remove()
        _LOG.info("split %s into %d shards (%d records)", collection, len(shards), len(docs))

    def _remove_stale_temps(self) -> None:
        """Delete temporary files of commits that never finished (the lock is held)."""
        for path in self.directory.glob(".*.tmp"):
            _LOG.warning("removing %s, left by an interrupted commit", path.name)
            path.unlink(missing_ok=True)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"store {self.directory} is closed")
