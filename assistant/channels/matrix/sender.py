"""Sending one :class:`Outbound` to Matrix, with the error policy of every message.

Only the bot process sends (it alone holds the device's keys; workers hand it
their messages, :mod:`.delivery`). A message becomes one ``m.room.message``
event in the person's direct room (or a grid's room), encrypted when the room
is; its choices become numbered lines whose tokens are issued in the channel
core's choice memory as "choice n on this event" once the event id is known.
A reply with ``key`` and ``edit`` replaces the message sent with that key
(``m.replace``) and forgets its choices.

A reply with a picture (``Reply.image``) is an ``m.image`` event first, then
the text (its caption, with the numbered choices, the keyed message) as the
``m.text`` event it always is. The bytes go to the homeserver's media
repository: encrypted (``AsyncClient.upload(encrypt=True)``, the event's
``file`` holding the key) for an encrypted room, plain (the event's ``url``)
otherwise. Each upload is done once per picture and kind and remembered in the
media record (``matrix.mxc``, ``matrix.e2e``), so the next room gets the same
file: plain rooms share the ``mxc://`` URL, encrypted rooms the encrypted file
and its key (as a forwarded encrypted image does; the key travels inside each
room's encrypted event). A picture no longer kept is left out and its text sent
alone. A resend after a failure may show the picture twice, never lose the text.

Errors::

    M_LIMIT_EXCEEDED     wait retry_after_ms (every process's bucket for the room
                         is paused in Redis), resend
    M_FORBIDDEN          the bot is not in the room (kicked, the person left):
                         the address becomes unreachable; coordinators are told
                         when ``meta["important"] == "1"``; not resent
    other 4xx            logged once, not resent
    5xx, time-outs,      resent with backoff 0.5 s, 1 s, 2 s … (max 30 s)
    connection errors
    (past the budget)    :class:`TryLater` for the caller to reschedule
    (stopping)           :class:`Stopped`: whatever is in flight is abandoned
"""

from __future__ import annotations

import asyncio
import enum
import io
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import aiohttp
from nio import AsyncClient, LocalProtocolError, RoomSendResponse, UploadResponse

from assistant import errors
from assistant.channels.common.edits import Remembered
from assistant.channels.common.limits import TooLongWait
from assistant.channels.common.media import (
    Fetcher,
    MediaFile,
    MediaLibrary,
    UnknownMedia,
    bytes_of,
)
from assistant.channels.matrix import render
from assistant.channels.matrix.memory import Latest, Memory
from assistant.channels.matrix.rooms import DirectRooms, NoRoom
from assistant.channels.matrix.translate import ident_of, is_room
from assistant.conversation.vocabulary import Outbound
from assistant.i18n import translator

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_BACKOFF = 30.0
RETRY_AFTER_STOP = 10.0
FORBIDDEN = ("M_FORBIDDEN",)
LIMITED = "M_LIMIT_EXCEEDED"
OnBlocked = Callable[[Outbound], Awaitable[None]]


class Outcome(enum.Enum):
    """How a send ended."""

    SENT = "sent"
    EDITED = "edited"
    BLOCKED = "blocked"  # the bot is not in the room any more
    REFUSED = "refused"  # the homeserver will never accept this message


class TryLater(errors.TryLater):
    """The message could not be sent within the budget; send it again later."""


class Stopped(TryLater):
    """The bot process is stopping: the message was not sent."""

    def __init__(self) -> None:
        super().__init__(RETRY_AFTER_STOP)


class _Refused(Exception):
    def __init__(self, outcome: Outcome, code: str) -> None:
        super().__init__(code)
        self.outcome = outcome


async def unless_stopping(work: Awaitable[T], stopping: asyncio.Event | None) -> T:
    """Await ``work`` unless ``stopping`` is set first; then cancel it and raise :class:`Stopped`."""
    task = asyncio.ensure_future(work)
    if stopping is None:
        return await task
    if stopping.is_set():
        task.cancel()
        raise Stopped()
    waiter = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait((task, waiter), return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        if not task.done():
            task.cancel()
    if task.cancelled() or not task.done():
        raise Stopped()
    return task.result()


class Sender:
    """Sends messages through the bot's nio client and keeps the error policy."""

    def __init__(
        self,
        client: AsyncClient,
        memory: Memory,
        rooms: DirectRooms,
        on_blocked: OnBlocked,
        budget: float = 300.0,
        stopping: asyncio.Event | None = None,
        media: MediaLibrary | None = None,
        fetchers: Mapping[str, Fetcher] | None = None,
    ) -> None:
        self.client = client
        self.memory = memory
        self.rooms = rooms
        self.on_blocked = on_blocked
        self.budget = budget
        self.stopping = stopping
        self.media = media
        self.fetchers = dict(fetchers or {})
        self._uploading: dict[str, asyncio.Lock] = {}

    async def send(self, message: Outbound) -> Outcome:
        """Send one message, resending what can be resent within the budget.

        Raises:
            TryLater: limits, ``M_LIMIT_EXCEEDED`` or time-outs kept it back past the budget.
            Stopped: the process is stopping.
        """
        if self.stopping is not None and self.stopping.is_set():
            raise Stopped()
        ident = ident_of(message.to)
        reply = message.reply
        if reply.version and not await self.memory.sent.admit(message.to, reply.key, reply.version):
            log.info("a message older than one already shown for its key; skipped")
            return Outcome.SENT  # a newer one went first (docs/NOTICES.md)
        for kind in ("photo", "voice"):
            if message.meta.get(kind):
                log.warning("a %s cannot be sent to Matrix yet; its text goes alone", kind)
        tr = translator(message.language)
        new = render.content(reply, tr)
        try:
            room_id = ident if is_room(message.to) else await self.rooms.room_for(ident)
            known = await self.memory.sent.find(message.to, reply.key) if reply.key else None
            if reply.edit and known is not None:
                await self._event(known.chat, render.edit(known.message, new), False)
                await self.memory.choices.forget(known.set_id)
                await self._after(message, known.chat, known.message, edited=True)
                return Outcome.EDITED
            if reply.image:
                await self._picture(room_id, reply.image, is_room(message.to))
            event_id = await self._event(room_id, new, is_room(message.to))
        except _Refused as refused:
            if refused.outcome is Outcome.BLOCKED:
                await self.on_blocked(message)
            return refused.outcome
        except NoRoom as error:
            log.warning("no direct room could be made for a message (%s); not sent", error)
            return Outcome.REFUSED
        await self._after(message, room_id, event_id, edited=False)
        return Outcome.SENT

    async def _after(self, message: Outbound, room_id: str, event_id: str, edited: bool) -> None:
        """Issue the numbered choices of the event, note it as the latest, keep its key."""
        reply = message.reply
        set_id = ""
        if reply.choices:
            values = render.values(reply)
            set_id, _ = await self.memory.choices.issue(
                message.to,
                values,
                message.language,
                message=event_id,
                shared=is_room(message.to),  # a group's "我也要": any neighbour's
            )
        if not edited:  # an edited offer is not what the person looks at now
            labels = tuple(render.labels(reply))
            await self.memory.set_latest(message.to, Latest(event_id, labels))
        if reply.key:
            await self.memory.sent.remember(
                message.to, reply.key, Remembered(room_id, event_id, set_id)
            )

    async def _picture(self, room_id: str, ref: str, group: bool) -> str:
        """Send a picture as an ``m.image`` event (encrypted in an encrypted room); its id.

        A picture no longer kept, or one the homeserver will not store, is left
        out (``""``): the text still goes.
        """
        room = self.client.rooms.get(room_id)
        encrypted = bool(room is not None and room.encrypted)
        try:
            if self.media is None:
                raise UnknownMedia(ref)
            stored = await asyncio.to_thread(self.media.get, ref)
            where, size = await self._uploaded(stored, encrypted)
        except UnknownMedia:
            log.warning("a picture to send is no longer kept; its text goes alone")
            return ""
        except _Refused as refused:
            log.warning("the homeserver would not store a picture (%s); text alone", refused)
            return ""
        content = render.image(stored.shown_name, stored.content_type, size, where, encrypted)
        return await self._event(room_id, content, group)

    async def _uploaded(self, stored: MediaFile, encrypted: bool) -> tuple[Any, int]:
        """The picture in the media repository (uploaded now, or known): the event's
        ``file`` (a dict) or ``url``, and its size in bytes."""
        kind = "matrix.e2e" if encrypted else "matrix.mxc"
        lock = self._uploading.setdefault(f"{stored.ref}|{kind}", asyncio.Lock())
        async with lock:  # one upload per picture and kind, however many rooms wait
            known = await asyncio.to_thread(self._known, stored.ref, kind)
            if known is not None:
                return known
            assert self.media is not None
            data = await bytes_of(stored, self.media, self.fetchers)
            answer, keys = await unless_stopping(
                self.client.upload(
                    io.BytesIO(data),
                    content_type=stored.content_type,
                    filename=stored.shown_name,
                    encrypt=encrypted,
                    filesize=len(data),
                ),
                self.stopping,
            )
            if not isinstance(answer, UploadResponse):
                code = str(getattr(answer, "status_code", "") or "")
                if code.startswith("M_") and code not in (LIMITED, "M_UNKNOWN"):
                    raise _Refused(Outcome.REFUSED, code)
                raise TryLater(5.0)
            url = str(answer.content_uri)
            where: Any = {**(keys or {}), "url": url, "v": "v2"} if encrypted else url
            remembered = json.dumps({"where": where, "size": len(data)})
            await asyncio.to_thread(self.media.learn, stored.ref, kind, remembered)
            log.info("a picture was uploaded to the homeserver (%d bytes)", len(data))
            return where, len(data)

    def _known(self, ref: str, kind: str) -> tuple[Any, int] | None:
        assert self.media is not None
        files = self.media.get(ref).files
        found = files.get(kind)
        if not found and kind == "matrix.mxc" and files.get("matrix", "").startswith("mxc://"):
            return files["matrix"], 0  # a plain image that came in on Matrix
        if not found:
            return None
        data = json.loads(found)
        return data["where"], int(data.get("size", 0))

    async def notice(self, room_id: str, content: dict[str, Any]) -> None:
        """Send a short notice the person needs no answer to (best effort)."""
        try:
            await self._event(room_id, content, False)
        except (_Refused, TryLater) as error:
            log.debug("a notice was not sent: %s", error)

    async def _event(self, room_id: str, content: dict[str, Any], group: bool) -> str:
        """Send one event within the budget; return its id."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.budget
        backoff = 0.5
        while True:
            left = deadline - loop.time()
            try:
                await unless_stopping(
                    self.memory.limits.acquire(room_id, True, max(0.0, left), group), self.stopping
                )
            except TooLongWait as error:
                raise TryLater(error.seconds) from error
            try:
                answer = await unless_stopping(
                    self.client.room_send(
                        room_id, "m.room.message", content, ignore_unverified_devices=True
                    ),
                    self.stopping,
                )
            except (aiohttp.ClientError, TimeoutError, OSError, LocalProtocolError) as error:
                answer = None
                reason = type(error).__name__
            if isinstance(answer, RoomSendResponse):
                return str(answer.event_id)
            if answer is not None:
                code = str(answer.status_code or "")
                reason = code
                if code == LIMITED:
                    wait = max(0.05, (answer.retry_after_ms or 1000) / 1000)
                    await self.memory.limits.pause(room_id, wait, group)
                    if loop.time() + wait > deadline:
                        raise TryLater(wait)
                    log.info("the homeserver asked to wait %.2f s before sending", wait)
                    await unless_stopping(asyncio.sleep(wait), self.stopping)
                    continue
                if code in FORBIDDEN:
                    raise _Refused(Outcome.BLOCKED, code)
                if code.startswith("M_") and code not in ("M_UNKNOWN",):
                    log.warning("the homeserver refused a message (%s); not resent", code)
                    raise _Refused(Outcome.REFUSED, code)
            if loop.time() + backoff > deadline:
                raise TryLater(backoff)
            log.info("sending failed (%s); resending in %.1f s", reason, backoff)
            await unless_stopping(asyncio.sleep(backoff), self.stopping)
            backoff = min(backoff * 2, MAX_BACKOFF)
