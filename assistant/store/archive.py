"""The append-only archive of one collection and its incremental id→offset index.

Closed records leave the hot files for ``<collection>.archive.jsonl`` so that
the hot files, which every write rewrites, stay small whatever the history.
``docs/STORAGE.md`` describes the line format and what a crash leaves.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, cast

from assistant.store.base import Doc, StoreError
from assistant.store.files import PRIVATE_FILE, dumps, fsync_dir, write_temp

_LOG = logging.getLogger(__name__)

_CHUNK = 1 << 20
_TORN = b'{"torn":true}\n'


class Archive:
    """The append-only archive file of one collection, with an in-process index.

    Each line is ``{"id": ..., "doc": {...}}`` or a tombstone
    ``{"id": ..., "deleted": true}``; the last line of an id wins. The index
    maps each archived id to the offset and length of its last line, and is
    brought up to date by reading only what was appended since the last look.

    Bytes once written never change, so a reader without the lock never sees
    a line change under it. A line that a killed writer left unfinished is
    sealed by the next writer with a newline and a ``{"torn":true}`` line,
    and readers skip both; any other unreadable line is an error.

    Args:
        path: The archive file; it need not exist yet.
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
        """Every archived document with its id, in file order.

        It reads the file it indexed through its own descriptor, so a compaction
        that replaces the file meanwhile cannot shift the offsets under it.
        """
        with self._lock:
            self._refresh()
            wanted = {offset for offset, _ in self._index.values()}
            limit = self._size
            fd = os.dup(self._fd) if wanted and self._fd is not None else None
        if fd is None:
            return
        with os.fdopen(fd, "rb") as handle:
            handle.seek(0)
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
            dumps(
                {"id": doc_id, "doc": doc} if doc is not None else {"id": doc_id, "deleted": True}
            )
            + b"\n"
            for doc_id, doc in entries.items()
        )
        created = not self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
        with os.fdopen(fd, "a+b") as handle:
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
            fsync_dir(self.path.parent)

    def compact(self) -> None:
        """Rewrite the file with only the latest line of each archived id; the caller holds the store lock.

        Superseded versions, tombstones and sealed torn lines are gone from the
        disk afterwards (the file is replaced atomically), which is how a purge
        leaves no copy of the old document behind.
        """
        with self._lock:
            self._refresh()
            if self._fd is None:
                return
            lines = [
                os.pread(self._fd, length, offset)
                for offset, length in sorted(self._index.values())
            ]
            os.replace(write_temp(self.path, b"".join(lines)), self.path)
            fsync_dir(self.path.parent)
            self._reset(None)
        _LOG.debug("archive %s compacted to %d records", self.path.name, len(lines))

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

    Lines as :meth:`Archive.append` writes them are recognised without parsing the document,
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
