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
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NewType

from assistant.clock import to_iso
from assistant.store.base import Store, new_id

MediaRef = NewType("MediaRef", str)
PREFIX = "media:"
MEDIA = "media"
Fetcher = Callable[[str], Awaitable[bytes]]
"""Fetches the bytes of one of a network's files by its file id."""


class UnknownMedia(LookupError):
    """A media reference that the library does not hold (expired, forgotten or made up)."""


def is_media_ref(text: str) -> bool:
    """Whether ``text`` is a neutral media reference (``media:<id>``)."""
    return text.startswith(PREFIX) and len(text) > len(PREFIX)


@dataclass(frozen=True)
class MediaFile:
    """One stored file: its kind (``photo``, ``voice``) and its file id on each network."""

    ref: MediaRef
    kind: str
    files: Mapping[str, str] = field(default_factory=dict)


class MediaLibrary:
    """The media port over the store: references in, network file ids out."""

    def __init__(self, store: Store) -> None:
        self.store = store

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
        return MediaFile(MediaRef(ref), str(doc.get("kind", "")), dict(doc.get("files", {})))

    def learn(self, ref: str, network: str, file_id: str) -> None:
        """Remember ``network``'s own id of a file it was sent as bytes."""
        with self.store.transaction() as tx:
            doc = tx.get(MEDIA, ref.removeprefix(PREFIX))
            if doc is None:
                return
            doc.setdefault("files", {})[network] = file_id
            tx.put(MEDIA, ref.removeprefix(PREFIX), doc)


async def source_for(
    media: MediaFile, network: str, fetchers: Mapping[str, Fetcher]
) -> str | bytes:
    """What ``network`` can send for a file: its own file id, else the bytes from a
    network that has the file.

    Raises:
        UnknownMedia: no network that has the file can fetch it.
    """
    own = media.files.get(network)
    if own:
        return own
    for other, file_id in media.files.items():
        fetch = fetchers.get(other)
        if fetch is not None:
            return await fetch(file_id)
    raise UnknownMedia(media.ref)
