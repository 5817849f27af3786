"""The Telegram channel of the bot process: a PTB 22 ``Application`` that only translates.

Updates come by long polling, or by webhook when ``[telegram] webhook_url`` is
set (with a secret token). Each update is translated (:mod:`.translate`) and
handed to the engine; what the engine returns is sent by :class:`.Sender`
(Telegram addresses) or handed to ``app.delivery`` (other networks). Updates
of one person are processed in order, different people concurrently.

Button presses are answered at once; the press's token is checked in Redis
(:mod:`assistant.channels.common.choices`) and its keyboard is closed, showing
what was chosen, before the value reaches the engine. A photo or voice note
reaches the engine as a neutral media reference
(:mod:`assistant.channels.common.media`), never as a Telegram file id.
Membership changes of the bot are told to the coordinators; whether an address
can be reached is the people context's use case
(:mod:`assistant.services.people.reachability`), told what Telegram reported.

Stopping is bounded whatever the network does (:meth:`TelegramChannel.stop`):
updates stop coming, those being handled get :data:`STOP_GRACE` seconds to
finish, then every Bot API call still waiting is abandoned and what was not
sent goes to the outbox, to be sent once after the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Iterator
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import redis.asyncio as aioredis
from telegram import CallbackQuery, Message, Update, User
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from assistant.channels.base import Capabilities
from assistant.channels.common.choices import Press
from assistant.channels.common.media import MediaLibrary, media_dir
from assistant.channels.telegram import render, translate, wiring
from assistant.channels.telegram.profile import set_commands
from assistant.channels.telegram.sender import Sender, Stopped, TryLater, unless_stopping
from assistant.conversation.cleaning import clean_text
from assistant.conversation.vocabulary import Address, Incoming, Outbound, Reply, network_of
from assistant.i18n import normalise, translator
from assistant.jobs import outbox
from assistant.services import people

if TYPE_CHECKING:
    from assistant.app import App
    from assistant.conversation.engine import Engine

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
]
POLL_TIMEOUT = 10
CONCURRENT_UPDATES = 256
STOP_BUDGET = 5.0  # seconds a stop may take, whatever the network does
STOP_GRACE = 2.0  # of which updates in hand may take this long to finish
Context = ContextTypes.DEFAULT_TYPE


class PerPersonOrder(BaseUpdateProcessor):
    """Process updates concurrently, but one person's (or chat's) strictly in order."""

    def __init__(self, max_concurrent_updates: int = CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        """Wait for this person's earlier updates, then process this one."""
        key = _order_key(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def _order_key(update: object) -> int:
    if isinstance(update, Update):
        if update.effective_user is not None:
            return update.effective_user.id
        if update.effective_chat is not None:
            return update.effective_chat.id
    return 0


class TelegramChannel:
    """Serves one bot: ``await start()`` returns once updates flow; ``await stop()``.

    A :class:`~assistant.channels.base.Channel`: inline buttons, edits and media.
    """

    name = translate.NETWORK
    capabilities = Capabilities(buttons=True, edits=True, media=True)

    def __init__(
        self,
        app: App,
        engine: Engine,
        redis_url: str,
        redis: aioredis.Redis | None = None,
    ) -> None:
        """``redis``: the client to use (default: a new one on ``redis_url``)."""
        self.app = app
        self.engine = engine
        self.redis_url = redis_url
        self.section = app.settings.section("telegram")
        self.application: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._sender: Sender | None = None
        self._bot: ExtBot[int] | None = None
        self._memory: wiring.Memory | None = None
        self.media = MediaLibrary(app.store, media_dir(app.settings.data_dir))
        self._redis = redis
        self._stopping = asyncio.Event()
        self._busy: set[asyncio.Task[Any]] = set()

    # -- life -------------------------------------------------------------------------

    async def start(self) -> None:
        """Initialise the bot, publish its commands, start polling or the webhook."""
        client = self._redis or wiring.redis_client(self.redis_url)
        limiter = wiring.rate_limiter(client, self.section)
        bot = self._bot = wiring.ext_bot(self.section, limiter)
        self._memory = wiring.memory(client, limiter)
        self._stopping = asyncio.Event()
        self._sender = Sender(
            bot, self._memory, self._blocked, stopping=self._stopping, media=self.media
        )
        application = ApplicationBuilder().bot(bot).concurrent_updates(PerPersonOrder()).build()
        application.add_handlers(
            [
                CallbackQueryHandler(self.on_press),
                ChatMemberHandler(self.on_membership, ChatMemberHandler.MY_CHAT_MEMBER),
                MessageHandler(filters.UpdateType.EDITED_MESSAGE, self.on_edited),
                MessageHandler(filters.UpdateType.MESSAGE, self.on_message),
            ]
        )
        application.add_error_handler(self.on_error)
        self.application = application
        await application.initialize()
        await set_commands(bot, str(self.app.settings.get("community", "language")))
        assert application.updater is not None
        if self.section["webhook_url"]:
            await self._start_webhook(application)
        else:
            await application.updater.start_polling(
                poll_interval=0.0,
                timeout=POLL_TIMEOUT,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )
        await application.start()
        log.info("Telegram bot @%s is listening", bot.username)

    async def _start_webhook(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Receive updates over HTTPS at ``webhook_url``, checking the secret token."""
        url = str(self.section["webhook_url"])
        secret = str(self.section["webhook_secret"]) or secrets.token_urlsafe(32)
        assert application.updater is not None
        await application.updater.start_webhook(
            listen=str(self.section["webhook_listen"]),
            port=int(self.section["webhook_port"]),
            url_path=urlparse(url).path.lstrip("/"),
            webhook_url=url,
            secret_token=secret,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
        )

    async def stop(self, budget: float = STOP_BUDGET) -> None:
        """Stop receiving, finish or hand over what is in hand, close connections.

        Takes about ``budget`` seconds at most, even when the Bot API accepts
        connections and never answers: updates in hand get :data:`STOP_GRACE` of
        it to finish, then their waiting Bot API calls are abandoned and what was
        not sent goes to the outbox.
        """
        application = self.application
        if application is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget

        def left(share: float) -> float:
            return max(0.1, min(share, deadline - loop.time()))

        if application.updater is not None and application.updater.running:
            await _within(application.updater.stop(), left(1.0), "stopping the updates")
        await self._settle(left(STOP_GRACE))
        self._stopping.set()  # waiting Bot API calls give up; unsent messages go to the outbox
        await self._settle(left(1.0))
        if self._busy:
            log.warning("%d updates were still being handled; cancelled", len(self._busy))
            for task in list(self._busy):
                task.cancel()
            await self._settle(left(0.5))
        if application.running:
            await _within(application.stop(), left(1.0), "stopping the bot")
        await _within(application.shutdown(), left(1.0), "closing the bot")
        if self._memory is not None:
            await _within(self._memory.client.aclose(), left(0.5), "closing Redis")
        self.application = None

    async def ended(self) -> None:
        """A network channel never runs out of input: wait until cancelled."""
        await asyncio.Event().wait()

    async def _settle(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the updates in hand to be handled."""
        if self._busy:
            await asyncio.wait(set(self._busy), timeout=timeout)

    @contextlib.contextmanager
    def _in_hand(self) -> Iterator[None]:
        """Count the current task as an update being handled, for :meth:`stop`."""
        task = asyncio.current_task()
        if task is not None:
            self._busy.add(task)
        try:
            yield
        finally:
            if task is not None:
                self._busy.discard(task)

    @property
    def me(self) -> User:
        """The bot's own user (known once started)."""
        assert self._bot is not None
        return self._bot.bot

    @property
    def sender(self) -> Sender:
        """The sender of this process (once started)."""
        assert self._sender is not None
        return self._sender

    # -- updates in -----------------------------------------------------------------------

    async def on_message(self, update: Update, context: Context) -> None:
        """A new message: translate it and hand it to the engine."""
        with self._in_hand():
            await self._on_message(update)

    async def _on_message(self, update: Update) -> None:
        message = update.message
        if message is None:
            return
        if message.migrate_to_chat_id:
            await asyncio.to_thread(self._migrate, message.chat.id, message.migrate_to_chat_id)
            return
        translated = translate.from_message(message, self.me)
        if translated is None:
            return
        if translated.hint:
            await self._hint(message, translated.hint)
        elif translated.incoming is not None:
            await self._handle(await self._with_media(translated.incoming))

    async def on_edited(self, update: Update, context: Context) -> None:
        """An edited message: flows cannot go back, so say so (private chats only)."""
        message = update.edited_message
        if message is None:
            return
        translated = translate.from_message(message, self.me, edited=True)
        if translated is not None and translated.hint:
            with self._in_hand():
                await self._hint(message, translated.hint)

    async def on_press(self, update: Update, context: Context) -> None:
        """A button press: answer it, check its token, close its keyboard, hand on its value."""
        with self._in_hand():
            await self._on_press(update)

    async def _on_press(self, update: Update) -> None:
        query = update.callback_query
        if query is None or self._memory is None:
            return
        presser = translate.address(query.from_user.id)
        pressed = await self._memory.choices.consume(clean_text(query.data or ""), presser)
        if pressed.kind is not Press.VALID:
            log.debug("a %s button token was pressed", pressed.kind.value)
            language = await self._language_of(presser, query.from_user.language_code)
            await self._quietly(query.answer(translator(language).t("tg.button_expired"), True))
            return
        language = pressed.language or normalise(query.from_user.language_code)
        incoming = translate.from_press(query, pressed.value)
        if pressed.shared:  # a group's button: it stays for the next neighbour; answers go private
            language = await self._language_of(presser, query.from_user.language_code)
            hint = translator(language).t("tg.group_press_private")
            _, outs = await asyncio.gather(
                self._quietly(query.answer(hint)), self.engine.handle(incoming)
            )
            await self.dispatch(outs)
            return
        _, _, outs = await asyncio.gather(
            self._quietly(query.answer()),
            self._close_keyboard(query, language),
            self.engine.handle(incoming),
        )
        await self.dispatch(outs)

    async def on_membership(self, update: Update, context: Context) -> None:
        """The bot joined or left a chat: keep reachability, tell the coordinators."""
        with self._in_hand():
            await self._on_membership(update)

    async def _on_membership(self, update: Update) -> None:
        change = update.my_chat_member
        membership = translate.from_membership(change) if change is not None else None
        if membership is None:
            return
        if not membership.group:
            await asyncio.to_thread(
                people.record_reachable, self.app.store, membership.chat, membership.present
            )
            return
        log.info("the bot was %s a group", "added to" if membership.present else "removed from")
        outs = await asyncio.to_thread(self._membership_notices, membership)
        if not membership.present:
            await asyncio.to_thread(self._unlink, membership.chat)
        await self.dispatch(outs)

    async def on_error(self, update: object, context: Context) -> None:
        """Log a failure once, without personal data."""
        log.error("handling a Telegram update failed", exc_info=context.error)

    # -- helpers for the way in --------------------------------------------------------------

    async def _handle(self, incoming: Incoming) -> None:
        """Let the engine answer, then send what it returns."""
        outs = await self.engine.handle(incoming)
        await self.dispatch(outs)

    async def _with_media(self, incoming: Incoming) -> Incoming:
        """A photo or voice note, kept in the media library: the engine sees its reference."""
        if not incoming.file_ref:
            return incoming

        def keep() -> str:
            kind = incoming.kind.value
            return self.media.keep(
                self.name, incoming.file_ref, kind, incoming.sender, self.app.clock.now()
            )

        return replace(incoming, file_ref=await asyncio.to_thread(keep))

    async def _close_keyboard(self, query: CallbackQuery, language: str) -> None:
        """Remove a used keyboard, leaving what was chosen under the message."""
        message = query.message
        if not isinstance(message, Message):
            return
        label = render.label_of(message.reply_markup, query.data or "")
        if message.text is not None and label:
            text = render.chosen(message.text, label, translator(language))
            await self._quietly(
                message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=None)
            )
        else:
            await self._quietly(message.edit_reply_markup(reply_markup=None))

    async def _hint(self, message: Message, key: str) -> None:
        """Answer something the channel handles itself with one short message."""
        user = message.from_user
        if user is None:
            return
        where = translate.address(message.chat.id)
        language = await self._language_of(where, user.language_code)
        await self.dispatch([Outbound(where, Reply(translator(language).t(key)), language)])

    async def _language_of(self, address: Address, hint: str | None) -> str:
        """The person's chosen language, else their app's, else the community's."""

        def lookup() -> str:
            with self.app.store.snapshot() as tx:
                person = people.person_at(tx, address)
            if person and person.get("language"):
                return normalise(person["language"])
            return normalise(hint or str(self.app.settings.get("community", "language")))

        return await asyncio.to_thread(lookup)

    def _membership_notices(self, membership: translate.Membership) -> list[Outbound]:
        """What to tell the coordinators about the bot joining or leaving a group."""
        with self.app.store.snapshot() as tx:
            grid = people.grid_of_group(tx, membership.chat)
            out = []
            for coordinator in people.coordinators_for(tx, grid["id"] if grid else None):
                tr = translator(coordinator.get("language", "zh_CN"))
                if membership.present:
                    text = tr.t("tg.group_added", title=membership.title)
                elif grid is not None:
                    text = tr.t("tg.group_removed_grid", title=membership.title, grid=grid["name"])
                else:
                    text = tr.t("tg.group_removed", title=membership.title)
                for where in people.reachable_addresses(tx, coordinator):
                    out.append(Outbound(Address(where), Reply(text), tr.language))
        if membership.present:
            language = str(self.app.settings.get("community", "language"))
            hello = translator(language).t("tg.group_hello")
            out.append(Outbound(membership.chat, Reply(hello), language))
        return out

    def _unlink(self, chat: Address) -> None:
        """The bot left a grid's group: calls for help must not go to a chat it cannot reach."""
        with self.app.store.transaction() as tx:
            grid_id = people.unlink_group(tx, chat)
        if grid_id is not None:
            log.info("grid %s has no neighbours' group until one is linked again", grid_id)

    def _migrate(self, old_chat: int, new_chat: int) -> None:
        """A group became a supergroup: its grid follows it."""
        with self.app.store.transaction() as tx:
            grid = people.grid_of_group(tx, translate.address(old_chat))
            if grid is not None:
                people.link_group(tx, grid["id"], translate.address(new_chat))
                log.info("grid %s follows its group to a supergroup", grid["id"])

    # -- messages out ----------------------------------------------------------------------

    async def dispatch(self, outs: list[Outbound]) -> None:
        """Send Telegram messages here, in order; hand other networks to app.delivery.

        The Telegram ones are prepared together: their buttons and rate-limit
        slots cost one Redis round trip.
        """
        ours = [out for out in outs if self._sendable(out)]
        try:
            plans = dict(zip(map(id, ours), await self.sender.prepare(ours), strict=True))
        except TryLater as later:  # stopping: everything goes to the outbox
            for out in ours:
                await asyncio.to_thread(self._hand_over, out, later)
            plans = {}
        for out in outs:
            if network_of(out.to) != translate.NETWORK:
                try:
                    await asyncio.to_thread(self.app.delivery.deliver, out)
                except Exception:
                    log.exception("handing a %s message to delivery failed", network_of(out.to))
            elif id(out) in plans:
                try:
                    await self.sender.carry_out(plans[id(out)])
                except TryLater as later:
                    await asyncio.to_thread(self._hand_over, out, later)

    @staticmethod
    def _sendable(out: Outbound) -> bool:
        """Whether a message goes out here: a well-formed Telegram address."""
        if network_of(out.to) != translate.NETWORK:
            return False
        try:
            translate.chat_id_of(out.to)
        except ValueError:
            log.warning("cannot send to a malformed Telegram address")
            return False
        return True

    def _hand_over(self, message: Outbound, later: TryLater) -> None:
        """A message kept back too long, or caught by a stop, goes to the outbox."""
        now = self.app.clock.now()
        with self.app.store.transaction() as tx:
            outbox.post(tx, message, now, due=now + timedelta(seconds=max(1.0, later.seconds)))
        if isinstance(later, Stopped):
            log.info("a message not sent before stopping is in the outbox for the next start")
        else:
            log.warning("a message waited too long for Telegram; the outbox will send it")

    async def _quietly(self, call: Awaitable[Any]) -> None:
        """Await a Bot API call whose failure changes nothing for the person.

        Abandoned when the channel stops, like every other call.
        """
        try:
            await unless_stopping(call, self._stopping)
        except (TelegramError, Stopped) as error:
            log.debug("an optional Telegram call failed: %s", error)

    async def _blocked(self, message: Outbound) -> None:
        """The recipient blocked the bot: record it, tell coordinators if it mattered."""
        await asyncio.to_thread(people.mark_blocked, self.app.store, message, self.app.clock.now())


async def _within(work: Awaitable[Any], seconds: float, what: str) -> None:
    """One step of stopping: done, or given up after ``seconds``; never raises."""
    try:
        await asyncio.wait_for(work, seconds)
    except TimeoutError:
        log.warning("%s took longer than %.1f s; carrying on", what, seconds)
    except Exception:
        log.warning("%s failed; carrying on", what, exc_info=True)
