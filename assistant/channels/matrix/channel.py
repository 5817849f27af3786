"""The Matrix channel of the bot process: a matrix-nio client that only translates.

:meth:`MatrixChannel.start` restores the bot's one device (:mod:`.session`),
syncs once without answering anything when it has never synced (so a first
start does not answer old history), joins the rooms it was invited to,
uploads and queries keys, then runs ``sync_forever`` from the kept sync token:
messages written while it was down are answered once, and an event that comes
again is skipped (:meth:`.Memory.first_time`). Events of one person are handled
in order, different people concurrently.

A typed number or label is read against the latest message the person was
sent (:class:`.Latest`); a keycap reaction against the message it reacts to.
Both go through the channel core's choice memory as "choice n on event X", so
a used, stale or someone else's choice is refused as a stale button is on
Telegram. Encrypted images are kept through the media port with what decrypts
them; :meth:`MatrixChannel.fetch` returns their plain bytes.

Workers cannot send encrypted messages themselves (the device's keys live in
this process alone), so they hand theirs over through Redis (:mod:`.delivery`)
and :class:`.Outgoing` sends them with the same :class:`.Sender`, once (the
channel core's send-once marks).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from nio import (
    AsyncClient,
    InviteMemberEvent,
    JoinError,
    MatrixRoom,
    MegolmEvent,
    ReactionEvent,
    RoomMemberEvent,
    RoomMessage,
    SyncError,
)
from nio.crypto.attachments import decrypt_attachment

from assistant.channels.base import Capabilities
from assistant.channels.common.choices import Press, numbered
from assistant.channels.common.media import MediaLibrary, media_dir
from assistant.channels.matrix import session, translate
from assistant.channels.matrix.memory import Memory, redis_client
from assistant.channels.matrix.outgoing import Outgoing
from assistant.channels.matrix.rooms import DirectRooms
from assistant.channels.matrix.sender import Sender
from assistant.conversation.cleaning import bare_number, clean_text
from assistant.conversation.vocabulary import (
    Address,
    Incoming,
    Kind,
    Outbound,
    Reply,
)
from assistant.i18n import normalise, translator
from assistant.services import people

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from assistant.app import App
    from assistant.conversation.engine import Engine

log = logging.getLogger(__name__)

SYNC_TIMEOUT_MS = 30_000
STOP_BUDGET = 5.0
STOP_GRACE = 2.0
HINT_STALE = "matrix.choice_expired"


class MatrixChannel:
    """Serves one Matrix bot account: ``await start()`` returns once events flow.

    A :class:`~assistant.channels.base.Channel`: no buttons (numbered choices),
    edits (``m.replace``) and media (images in).
    """

    name = translate.NETWORK
    capabilities = Capabilities(buttons=False, edits=True, media=True)

    def __init__(
        self,
        app: App,
        engine: Engine,
        redis_url: str,
        redis: aioredis.Redis | None = None,
    ) -> None:
        self.app = app
        self.engine = engine
        self.redis_url = redis_url
        self.section = app.settings.section("matrix")
        session.check(self.section)
        self.media = MediaLibrary(app.store, media_dir(app.settings.data_dir))
        self.client: AsyncClient | None = None
        self._redis = redis
        self._memory: Memory | None = None
        self._sender: Sender | None = None
        self._rooms: DirectRooms | None = None
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._busy: set[asyncio.Task[Any]] = set()
        self._order: dict[str, asyncio.Lock] = {}
        self._outgoing: Outgoing | None = None

    # -- life -------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in (or restore the device), catch up quietly, start syncing and draining."""
        folder = session.store_dir(self.section, self.app.settings.data_dir)
        client = self.client = session.new_client(self.section, folder)
        await session.log_in(client, self.section, folder)
        memory = self._memory = Memory(self._redis or redis_client(self.redis_url), self.section)
        self._stopping = asyncio.Event()
        self._rooms = DirectRooms(client, memory)
        self._sender = Sender(
            client,
            memory,
            self._rooms,
            self._blocked,
            stopping=self._stopping,
            media=self.media,
            fetchers={self.name: self.fetch},
        )
        if not client.loaded_sync_token:
            first = await client.sync(timeout=0, full_state=True)
            if isinstance(first, SyncError):
                raise session.LoginFailed(f"the first Matrix sync failed ({first.status_code})")
        client.add_event_callback(self._on_invite, InviteMemberEvent)  # type: ignore[arg-type]
        client.add_event_callback(self._on_message, RoomMessage)  # type: ignore[arg-type]
        client.add_event_callback(self._on_reaction, ReactionEvent)  # type: ignore[arg-type]
        client.add_event_callback(self._on_member, RoomMemberEvent)  # type: ignore[arg-type]
        client.add_event_callback(self._on_undecryptable, MegolmEvent)  # type: ignore[arg-type]
        for room_id, room in list(client.invited_rooms.items()):
            await self._join(room_id, room, _inviter(room, client.user_id))
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        session.trust_devices(client)
        self._spawn(self._sync_loop())
        self._outgoing = Outgoing(self.app, self._sender, memory, self._ordered, self._stopping)
        self._spawn(self._outgoing.drain())
        log.info("Matrix bot is listening (device %s)", client.device_id)

    async def stop(self, budget: float = STOP_BUDGET) -> None:
        """Stop syncing, let events in hand finish for a bounded time, close."""
        client = self.client
        if client is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        client.stop_sync_forever()
        for task in list(self._tasks):
            task.cancel()
        if self._busy:
            await asyncio.wait(
                set(self._busy), timeout=max(0.1, min(STOP_GRACE, deadline - loop.time()))
            )
        self._stopping.set()
        for task in list(self._busy):
            task.cancel()
        pending = self._tasks | self._busy
        if pending:
            await asyncio.wait(pending, timeout=max(0.1, deadline - loop.time() - 1.0))
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.close(), 1.0)
        if self._memory is not None and self._redis is None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._memory.client.aclose(), 0.5)
        self.client = None

    async def ended(self) -> None:
        """A network channel never runs out of input: wait until cancelled."""
        await asyncio.Event().wait()

    @property
    def sender(self) -> Sender:
        """The sender of this process (once started)."""
        assert self._sender is not None
        return self._sender

    @property
    def memory(self) -> Memory:
        """The Redis memories (once started)."""
        assert self._memory is not None
        return self._memory

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _sync_loop(self) -> None:
        """``sync_forever``, started again after a network failure (with backoff)."""
        assert self.client is not None
        backoff = 1.0
        while not self._stopping.is_set():
            try:
                await self.client.sync_forever(
                    timeout=SYNC_TIMEOUT_MS, full_state=True, loop_sleep_time=0
                )
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning(
                    "the Matrix sync failed; syncing again in %.0f s", backoff, exc_info=True
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    # -- events in ----------------------------------------------------------------------

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        """Accept an invitation to the bot (direct rooms and grids' rooms)."""
        assert self.client is not None
        if event.state_key != self.client.user_id or event.membership != "invite":
            return
        await self._join(room.room_id, room, event.sender if event.content.get("is_direct") else "")

    async def _join(self, room_id: str, room: MatrixRoom, direct_with: str) -> None:
        assert self.client is not None and self._rooms is not None
        answer = await self.client.join(room_id)
        if isinstance(answer, JoinError):
            log.info("could not join a room the bot was invited to (%s)", answer.status_code)
            return
        if direct_with:
            await self._rooms.adopt(direct_with, room_id)

    async def _on_member(self, room: MatrixRoom, event: RoomMemberEvent) -> None:
        """Someone left a direct room, or the bot was kicked: that address is unreachable."""
        assert self.client is not None
        if event.membership not in ("leave", "ban"):
            return
        if event.state_key == self.client.user_id:
            who = await self.memory.direct_user(room.room_id)
            if who is None:
                self._unlink_group(room.room_id)
                return
        else:
            who = event.state_key
            if await self.memory.direct_room(who) != room.room_id:
                return
        await self.memory.forget_direct_room(who, room.room_id)
        address = translate.address(who)
        await asyncio.to_thread(people.record_reachable, self.app.store, address, False)

    async def _on_undecryptable(self, room: MatrixRoom, event: MegolmEvent) -> None:
        """An event the bot has no key for: ask the sender's devices for it."""
        assert self.client is not None
        log.info("an encrypted event could not be decrypted yet; asking for its key")
        with contextlib.suppress(Exception):
            await self.client.request_room_key(event)

    async def _on_message(self, room: MatrixRoom, event: RoomMessage) -> None:
        """A message: translate it (choices read first) and hand it to the engine, in order."""
        self._ordered(event.sender, lambda: self._message(room, event))

    async def _on_reaction(self, room: MatrixRoom, event: ReactionEvent) -> None:
        """A keycap reaction on a message with choices: a press of that choice."""
        self._ordered(event.sender, lambda: self._reaction(room, event))

    def _ordered(self, who: str, work: Callable[[], Awaitable[None]]) -> None:
        """Handle one person's events strictly in order, different people concurrently."""
        assert self.client is not None
        if who == self.client.user_id or self._stopping.is_set():
            return
        lock = self._order.setdefault(who, asyncio.Lock())

        async def run() -> None:
            try:
                async with lock:
                    await work()
            except Exception:
                log.exception("handling a Matrix event failed")
            finally:
                if not lock.locked() and not lock._waiters:  # type: ignore[attr-defined]
                    self._order.pop(who, None)

        task = asyncio.ensure_future(run())
        self._busy.add(task)
        task.add_done_callback(self._busy.discard)

    async def _message(self, room: MatrixRoom, event: RoomMessage) -> None:
        assert self.client is not None
        if not await self.memory.first_time(event.event_id):
            return
        group = _is_group(room)
        name = room.user_name(event.sender) or ""
        found = translate.from_event(event.source, room.room_id, group, self.client.user_id, name)
        if found is None:
            return
        if found.hint:
            await self._hint(room.room_id, translate.address(event.sender), found.hint)
            return
        assert found.incoming is not None
        incoming = found.incoming
        if incoming.kind is Kind.TEXT and not group:
            read = await self._typed(incoming)
            if read is None:
                await self._hint(room.room_id, incoming.sender, HINT_STALE)
                return
            incoming = read
        if incoming.kind is Kind.PHOTO:
            incoming = await self._with_media(incoming)
        if not group:
            await self.rooms.adopt_if_unknown(event.sender, room.room_id)
        await self._handle(incoming)

    async def _typed(self, incoming: Incoming) -> Incoming | None:
        """Typed text against the latest choices: a press, text, or ``None`` (stale)."""
        latest = await self.memory.latest(incoming.sender)
        if latest is None or not latest.labels:
            return incoming
        text = incoming.text.strip()
        number = bare_number(text)
        if number is None:
            lowered = text.casefold()
            matches = [n for n, label in enumerate(latest.labels, 1) if label.casefold() == lowered]
            if not matches:
                return incoming
            number = matches[0]
        elif not 1 <= number <= len(latest.labels):
            return replace(incoming, numbered_choices=len(latest.labels))
        pressed = await self.memory.choices.consume(numbered(latest.event, number), incoming.sender)
        if pressed.kind is not Press.VALID:
            return None
        return replace(
            incoming, kind=Kind.PRESS, press=pressed.value, language_hint=pressed.language
        )

    async def _reaction(self, room: MatrixRoom, event: ReactionEvent) -> None:
        assert self.client is not None
        if not await self.memory.first_time(event.event_id):
            return
        number = translate.keycap_number(event.key)
        if number is None:
            return
        presser = translate.address(event.sender)
        pressed = await self.memory.choices.consume(numbered(event.reacts_to, number), presser)
        if pressed.kind is not Press.VALID:
            log.debug("a %s choice was answered by reaction", pressed.kind.value)
            await self._hint(room.room_id, presser, HINT_STALE)
            return
        group = _is_group(room)
        incoming = Incoming(
            sender=presser,
            kind=Kind.PRESS,
            press=pressed.value,
            chat=translate.address(room.room_id) if group else None,
            is_group=group,
            language_hint=pressed.language,
            display_name=clean_text(room.user_name(event.sender) or ""),
        )
        await self._handle(incoming)

    # -- helpers for the way in --------------------------------------------------------------

    @property
    def rooms(self) -> DirectRooms:
        """The direct rooms of the bot (once started)."""
        assert self._rooms is not None
        return self._rooms

    async def _handle(self, incoming: Incoming) -> None:
        outs = await self.engine.handle(incoming)
        await self.dispatch(outs)

    async def _with_media(self, incoming: Incoming) -> Incoming:
        """An image, kept in the media library: the engine sees its neutral reference."""

        def keep() -> str:
            return self.media.keep(
                self.name, incoming.file_ref, "photo", incoming.sender, self.app.clock.now()
            )

        return replace(incoming, file_ref=await asyncio.to_thread(keep))

    async def fetch(self, file_id: str) -> bytes:
        """The plain bytes of one of this network's files (decrypted when it was encrypted).

        Raises:
            LookupError: the homeserver does not have it, or it does not decrypt.
        """
        assert self.client is not None
        encrypted: dict[str, str] | None = None
        url = file_id
        if file_id.startswith("{"):
            encrypted = json.loads(file_id)
            url = encrypted["url"]
        answer = await self.client.download(mxc=url)
        body = getattr(answer, "body", None)
        if not isinstance(body, bytes):
            raise LookupError("the homeserver does not have this file")
        if encrypted is None:
            return body
        try:
            return bytes(
                decrypt_attachment(body, encrypted["key"], encrypted["sha256"], encrypted["iv"])
            )
        except Exception as error:
            raise LookupError("the file does not decrypt") from error

    async def _hint(self, room_id: str, to: Address, key: str) -> None:
        """Answer something the channel handles itself with one short message."""
        language = await asyncio.to_thread(self._language_of, to)
        await self.dispatch([Outbound(to, Reply(translator(language).t(key)), language)])

    def _language_of(self, address: Address) -> str:
        with self.app.store.snapshot() as tx:
            person = people.person_at(tx, address)
        if person and person.get("language"):
            return normalise(person["language"])
        return normalise(str(self.app.settings.get("community", "language")))

    def _unlink_group(self, room_id: str) -> None:
        """The bot left a grid's room: calls for help must not go to a room it cannot reach."""
        with self.app.store.transaction() as tx:
            grid_id = people.unlink_group(tx, translate.address(room_id))
        if grid_id is not None:
            log.info("grid %s has no neighbours' group until one is linked again", grid_id)

    # -- messages out ----------------------------------------------------------------------

    async def dispatch(self, outs: list[Outbound]) -> None:
        """Send Matrix messages here, in order; hand other networks to ``app.delivery``."""
        assert self._outgoing is not None, "the channel is not started"
        await self._outgoing.dispatch(outs)

    async def _blocked(self, message: Outbound) -> None:
        """The bot is not in the person's room any more: record it, tell coordinators."""
        await asyncio.to_thread(people.mark_blocked, self.app.store, message, self.app.clock.now())


def _is_group(room: MatrixRoom) -> bool:
    """A room with more than the bot and one person is a group (a grid's room)."""
    return int(room.member_count) > 2


def _inviter(room: MatrixRoom, bot_id: str) -> str:
    """Who invited the bot to a room it is invited to, when the invitation says it is direct."""
    for event in getattr(room, "invite_state", []) or []:
        if (
            isinstance(event, InviteMemberEvent)
            and event.state_key == bot_id
            and event.content.get("is_direct")
        ):
            return str(event.sender)
    return ""
