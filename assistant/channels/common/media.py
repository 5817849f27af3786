"""The media port: a stored photo or voice note is a neutral reference any channel resolves.

A chat network names a file its own way (Telegram: a ``file_id`` that only
this bot can use). Records, queue messages and ``Outbound.meta`` never carry
such a name: a channel that receives a photo keeps it in the
:class:`MediaLibrary` and hands on a :data:`MediaRef`, ``media:<id>``. The
library maps the reference to each network's file id; a channel that must show
a file it has no id for fetches the bytes through the network that has one
(its :data:`Fetcher`), uploads them, and learns its own id for next time.

The records live in the store's ``media`` collection (``kind``, ``owner``, the
file ids per network, when it was received), so they go with the store's
backups and can be expired or forgotten with the rest.

A file made here (a weekly chart, a picture an admin drops in) is kept with
:func:`keep_file` inside the caller's unit of work: its bytes go to the media
folder (``<data>/media/<id>.<ext>``, the folder 0700 and the file 0600, written
to a temporary file and renamed), its record names the file and a display
name, and no network id yet. The first channel that sends it uploads the bytes
and records its own id (:meth:`MediaLibrary.learn`), so the next recipient on
that network gets the id (one upload for a notice to 3,000 people).
:func:`forget_file` deletes record and bytes together.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePath
from typing import NewType

from assistant.clock import to_iso
from assistant.store.base import Store, Tx, new_id

MediaRef = NewType("MediaRef", str)
PREFIX = "media:"
MEDIA = "media"
FOLDER = "media"
"""The media folder's name inside the data folder."""
Fetcher = Callable[[str], Awaitable[bytes]]
"""Fetches the bytes of one of a network's files by its file id."""
TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


def media_dir(data_dir: Path) -> Path:
    """Where the media port keeps the bytes of files made here: ``<data>/media``."""
    return Path(data_dir) / FOLDER


class UnknownMedia(LookupError):
    """A media reference that the library does not hold (expired, forgotten or made up)."""


def is_media_ref(text: str) -> bool:
    """Whether ``text`` is a neutral media reference (``media:<id>``)."""
    return text.startswith(PREFIX) and len(text) > len(PREFIX)


@dataclass(frozen=True)
class MediaFile:
    """One stored file: its kind (``photo``, ``voice``) and its file id on each network.

    ``name`` is what a person may be shown (``reports-2026-W23.png``); ``file``
    the file in the media folder holding its bytes, for files made here.
    """

    ref: MediaRef
    kind: str
    files: Mapping[str, str] = field(default_factory=dict)
    name: str = ""
    file: str = ""

    @property
    def content_type(self) -> str:
        """The MIME type of its bytes (a photo received without a name is a JPEG)."""
        return TYPES.get(PurePath(self.name or self.file).suffix.lower(), "image/jpeg")

    @property
    def shown_name(self) -> str:
        """A name to show for it: its own, else its reference's id with an extension."""
        return self.name or self.ref.removeprefix(PREFIX) + ".jpg"


def keep_file(
    tx: Tx,
    folder: Path,
    content: bytes,
    name: str,
    now: datetime,
    kind: str = "photo",
    owner: str = "",
    purpose: str = "",
) -> MediaRef:
    """Keep bytes made here as a media record, inside the caller's unit of work.

    The bytes are written first (0600, atomically); a unit of work that then
    fails leaves an unreferenced file, never a record without its bytes.
    ``owner`` is the address of the person the file is of, or ``""`` for
    files that are nobody's (charts); ``purpose`` says what made it.
    """
    ident = new_id("m")
    suffix = PurePath(name).suffix.lower() if PurePath(name).suffix.lower() in TYPES else ".bin"
    stored = ident + suffix
    _write_private(Path(folder) / stored, content)
    doc = {
        "kind": kind,
        "owner": owner,
        "files": {},
        "at": to_iso(now),
        "name": PurePath(name).name[:120],
        "file": stored,
        "size": len(content),
        "purpose": purpose,
    }
    tx.put(MEDIA, ident, doc)
    return MediaRef(PREFIX + ident)


def forget_file(tx: Tx, folder: Path, ref: str) -> bool:
    """Delete a media record and the bytes kept for it; whether there was one."""
    ident = ref.removeprefix(PREFIX)
    doc = tx.get(MEDIA, ident)
    if doc is None:
        return False
    if doc.get("file"):
        with contextlib.suppress(FileNotFoundError):
            (Path(folder) / PurePath(str(doc["file"])).name).unlink()
    tx.purge(MEDIA, ident)
    return True


def _write_private(path: Path, content: bytes) -> None:
    """Write ``content`` readable by this user only, replacing ``path`` at once."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # mode 0600
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


class MediaLibrary:
    """The media port over the store: references in, network file ids (and bytes) out.

    ``folder`` is the media folder (:func:`media_dir`); without it, files made
    here cannot be read (only network file ids are known).
    """

    def __init__(self, store: Store, folder: Path | None = None) -> None:
        self.store = store
        self.folder = Path(folder) if folder is not None else None

    def keep(self, network: str, file_id: str, kind: str, owner: str, now: datetime) -> MediaRef:
        """Keep a file received on ``network`` from ``owner``; return its reference."""
        ref = MediaRef(PREFIX + new_id("m"))
        doc = {"kind": kind, "owner": owner, "files": {network: file_id}, "at": to_iso(now)}
        with self.store.transaction() as tx:
            tx.put(MEDIA, ref.removeprefix(PREFIX), doc)
        return ref

    def get(self, ref: str) -> MediaFile:
        """The stored file behind a reference.

        Raises:
            UnknownMedia: no such file is kept.
        """
        if not is_media_ref(ref):
            raise UnknownMedia(ref[:40])
        with self.store.snapshot() as tx:
            doc = tx.get(MEDIA, ref.removeprefix(PREFIX))
        if doc is None:
            raise UnknownMedia(ref[:40])
        return MediaFile(
            MediaRef(ref),
            str(doc.get("kind", "")),
            dict(doc.get("files", {})),
            name=str(doc.get("name") or ""),
            file=PurePath(str(doc.get("file") or "")).name,
        )

    def path_of(self, media: MediaFile) -> Path | None:
        """The file holding the bytes of a file made here (``None`` for network-only files)."""
        if not media.file or self.folder is None:
            return None
        return self.folder / media.file

    def read(self, media: MediaFile) -> bytes:
        """The bytes of a file made here.

        Raises:
            UnknownMedia: it has no bytes here (a network-only file, or deleted).
        """
        path = self.path_of(media)
        if path is None:
            raise UnknownMedia(media.ref)
        try:
            return path.read_bytes()
        except FileNotFoundError as error:
            raise UnknownMedia(media.ref) from error

    def learn(self, ref: str, network: str, file_id: str) -> None:
        """Remember ``network``'s own id of a file it was sent as bytes."""
        with self.store.transaction() as tx:
            doc = tx.get(MEDIA, ref.removeprefix(PREFIX))
            if doc is None:
                return
            doc.setdefault("files", {})[network] = file_id
            tx.put(MEDIA, ref.removeprefix(PREFIX), doc)


async def source_for(
    media: MediaFile,
    network: str,
    fetchers: Mapping[str, Fetcher],
    library: MediaLibrary | None = None,
) -> str | bytes:
    """What ``network`` can send for a file: its own file id, else the bytes kept
    here (``library``), else the bytes from a network that has the file.

    Raises:
        UnknownMedia: no bytes here, and no network that has the file can fetch it.
    """
    own = media.files.get(network)
    if own:
        return own
    if library is not None and media.file:
        return await bytes_of(media, library, {})
    for other, file_id in media.files.items():
        fetch = fetchers.get(other)
        if fetch is not None:
            return await fetch(file_id)
    raise UnknownMedia(media.ref)


async def bytes_of(
    media: MediaFile, library: MediaLibrary, fetchers: Mapping[str, Fetcher]
) -> bytes:
    """The bytes of a file: kept here, else fetched from a network that has it.

    Raises:
        UnknownMedia: neither.
    """
    if media.file:
        return await asyncio.to_thread(library.read, media)
    for other, file_id in media.files.items():
        fetch = fetchers.get(other)
        if fetch is not None:
            return await fetch(file_id)
    raise UnknownMedia(media.ref)
