"""Telegram's own ids for pictures, so each picture is uploaded once for every recipient.

A picture to send is a neutral media reference (``Reply.image``). Telegram can
send a photo again by the ``file_id`` it gave the first upload, so only the
first send of a picture carries its bytes (a multipart ``sendPhoto``); every
later one names the id. A notice with a photo goes to 3,000 people from several
worker processes at once, so "first" is decided in Redis:

1. an id known to this process, or in Redis (``tg:pic:<media id>``, shared by
   every process for :data:`ID_TTL`), or in the media record (a photo that came
   in from Telegram has one from the start) is used as it is;
2. otherwise the process that sets ``tg:upload:<media id>`` (``SET NX``, for
   :data:`UPLOAD_LEASE_MS`) uploads the bytes (kept by the media port, or
   fetched from the network that has them) and, once Telegram answered,
   records the id in the media record and in Redis and lets the lease go;
3. the others wait (polling, with a growing interval, within their budget) for
   the id, or for the lease to lapse, in which case one of them uploads.

The shared id lives :data:`ID_TTL` seconds: a picture forgotten or expired in
the store stops being sent at the latest that long after.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

import redis.asyncio as aioredis
from telegram import InputFile

from assistant.channels.common.media import (
    Fetcher,
    MediaFile,
    MediaLibrary,
    UnknownMedia,
    bytes_of,
)
from assistant.channels.telegram.translate import NETWORK

log = logging.getLogger(__name__)

ID_TTL = 600
UPLOAD_LEASE_MS = 120_000
FIRST_WAIT = 0.05
LONGEST_WAIT = 0.5

# KEYS[1]: the lease. ARGV[1]: its owner. Deletes the lease only if it is still ours.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class PictureWaitTooLong(Exception):
    """Another process's upload of this picture did not end within the budget."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"another upload of this picture is under way; {seconds:.1f} s")
        self.seconds = seconds


@dataclass
class Upload:
    """This process won the lease to upload a picture: record the id it gets, or let go."""

    pictures: Pictures
    ref: str
    owner: str
    content: InputFile

    async def learnt(self, file_id: str) -> None:
        """Telegram accepted the bytes as ``file_id``: record it for every process."""
        await self.pictures.remember(self.ref, file_id)
        await self.release()

    async def release(self) -> None:
        """Let the lease go (the upload failed): another send may upload."""
        await self.pictures.client.eval(_RELEASE, 1, self.pictures.lease_key(self.ref), self.owner)


class Pictures:
    """Finds what to send for a picture: Telegram's id, or the bytes under an upload lease."""

    def __init__(
        self,
        client: aioredis.Redis,
        media: MediaLibrary | None,
        fetchers: Mapping[str, Fetcher] | None = None,
        namespace: str = "tg:",
    ) -> None:
        self.client = client
        self.media = media
        self.fetchers = dict(fetchers or {})
        self.namespace = namespace
        self._known: dict[str, tuple[str, float]] = {}

    def id_key(self, ref: str) -> str:
        """The Redis key of a picture's Telegram id."""
        return f"{self.namespace}pic:{ref.removeprefix('media:')}"

    def lease_key(self, ref: str) -> str:
        """The Redis key of a picture's upload lease."""
        return f"{self.namespace}upload:{ref.removeprefix('media:')}"

    async def source(self, ref: str, budget: float) -> str | Upload:
        """Telegram's id of the picture, or an :class:`Upload` this process must make.

        Raises:
            UnknownMedia: the picture is not kept (expired, forgotten, never made).
            PictureWaitTooLong: another process holds the upload past ``budget`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        wait = FIRST_WAIT
        while True:
            known = await self._shared_id(ref)
            if known:
                return known
            stored = await self._stored(ref)  # raises UnknownMedia
            own = stored.files.get(NETWORK)
            if own:
                await self.remember(ref, own, learn=False)
                return own
            owner = secrets.token_hex(8)
            if await self.client.set(self.lease_key(ref), owner, nx=True, px=UPLOAD_LEASE_MS):
                try:
                    content = await self._content(stored)
                except BaseException:
                    await self.client.eval(_RELEASE, 1, self.lease_key(ref), owner)
                    raise
                return Upload(self, ref, owner, content)
            while await self.client.exists(self.lease_key(ref)):
                if loop.time() + wait > deadline:
                    raise PictureWaitTooLong(wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, LONGEST_WAIT)
                known = await self._shared_id(ref)
                if known:
                    return known

    async def remember(self, ref: str, file_id: str, learn: bool = True) -> None:
        """Keep a picture's Telegram id here, in Redis and (``learn``) in its media record."""
        self._known[ref] = (file_id, time.monotonic() + ID_TTL)
        await self.client.set(self.id_key(ref), file_id, ex=ID_TTL)
        if learn and self.media is not None:
            await asyncio.to_thread(self.media.learn, ref, NETWORK, file_id)

    async def _shared_id(self, ref: str) -> str:
        mine = self._known.get(ref)
        if mine is not None and mine[1] > time.monotonic():
            return mine[0]
        raw = await self.client.get(self.id_key(ref))
        if raw is None:
            return ""
        found = raw.decode() if isinstance(raw, bytes) else str(raw)
        self._known[ref] = (found, time.monotonic() + ID_TTL)
        return found

    async def _stored(self, ref: str) -> MediaFile:
        if self.media is None:
            raise UnknownMedia(ref)
        return await asyncio.to_thread(self.media.get, ref)

    async def _content(self, stored: MediaFile) -> InputFile:
        assert self.media is not None
        data = await bytes_of(stored, self.media, self.fetchers)
        log.info("uploading a picture to Telegram (%d bytes)", len(data))
        return InputFile(data, filename=stored.shown_name)
