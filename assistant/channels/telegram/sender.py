"""Sending one :class:`Outbound` to Telegram, with the error policy of every process.

The bot process and the workers both send through :class:`Sender`, on a PTB
``Bot`` whose rate limiter is :class:`~.limits.SharedRateLimiter`. A message
becomes a short plan of Bot API calls (text parts, then a voice note or photo
named in ``meta`` by its neutral media reference, then a location/contact
request when inline buttons already took the keyboard); a retry resumes the
plan at the call that failed, so a part already accepted is never sent again.

A reply with a picture (``Reply.image``) is one ``sendPhoto`` whose caption is
the text, with the buttons under the photo, when the text fits Telegram's
caption (1,024 characters, :data:`.render.MAX_CAPTION` with a margin);
otherwise the photo goes alone and the text follows as messages of its own,
the buttons under the last. The keyed message is the one with the buttons, so
a keyed edit changes the caption (``editMessageCaption``) or the text, and
falls back to the other when Telegram says the message has no text (or no
caption). The bytes are uploaded once per picture (:mod:`.pictures`); a
picture that is no longer kept is left out and its text sent alone.

Plans are prepared together (:meth:`Sender.prepare`): the choice tokens of
every message and the rate-limit slots of every new message go to Redis in one
pipeline, one round trip for a whole answer. Only a keyed edit costs a lookup
of its own first.

Errors::

    RetryAfter (429)      wait retry_after (the chat is paused in Redis too), retry
    TimedOut, 5xx, other  retry with backoff 0.5 s, 1 s, 2 s … (max 30 s)
    NetworkError
    ChatMigrated          retry once in the new supergroup
    Forbidden (403)       the address becomes unreachable; coordinators are told
                          when ``meta["important"] == "1"``; not retried
    BadRequest (400)      logged once, not retried
    (past the budget)     :class:`TryLater` for the caller to reschedule
    (stopping)            :class:`Stopped`, a :class:`TryLater`: the process is
                          stopping, so whatever is in flight is abandoned at once

A message abandoned half way is sent again whole, later: a part Telegram
already accepted may then show twice, which beats losing the rest.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from telegram import InlineKeyboardMarkup, Message, ReplyKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
)
from telegram.ext import ExtBot

from assistant import errors
from assistant.channels.common.edits import Remembered
from assistant.channels.common.limits import TooLongWait, reserved
from assistant.channels.common.media import (
    Fetcher,
    MediaLibrary,
    UnknownMedia,
    is_media_ref,
    source_for,
)
from assistant.channels.telegram import render
from assistant.channels.telegram.limits import PREPAID, is_group, retry_seconds
from assistant.channels.telegram.pictures import Pictures, PictureWaitTooLong, Upload
from assistant.channels.telegram.translate import NETWORK, chat_id_of
from assistant.channels.telegram.wiring import Memory
from assistant.conversation.vocabulary import Outbound, Reply
from assistant.i18n import Translator, translator

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_BACKOFF = 30.0
RETRY_AFTER_STOP = 10.0


class Outcome(enum.Enum):
    """How a send ended."""

    SENT = "sent"
    EDITED = "edited"
    BLOCKED = "blocked"  # 403: the person blocked the bot or left the group
    REFUSED = "refused"  # 400: Telegram will never accept this message


class TryLater(errors.TryLater):
    """The message could not be sent within the budget; send it again later."""


class Stopped(TryLater):
    """The sending process is stopping: the message was not (completely) sent.

    Its ``seconds`` put the retry after the stopping workers are gone, so the
    message waits in the outbox for the next start instead of a dying worker.
    """

    def __init__(self) -> None:
        super().__init__(RETRY_AFTER_STOP)


async def unless_stopping(work: Awaitable[T], stopping: asyncio.Event | None) -> T:
    """Await ``work`` unless ``stopping`` is set first; then cancel it and raise :class:`Stopped`."""
    if stopping is None:
        return await work
    task = asyncio.ensure_future(work)
    if stopping.is_set():
        task.cancel()
        raise Stopped()
    waiter = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait((task, waiter), return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        if not task.done():
            task.cancel()  # abandoned, or the caller itself was cancelled
    if task.cancelled() or not task.done():
        raise Stopped()
    return task.result()


Step = Callable[[int, int | None], Awaitable[Message | None]]
"""One Bot API call: (chat id, ``rate_limit_args``) → the message it made, if any."""
OnBlocked = Callable[[Outbound], Awaitable[None]]


@dataclass
class Plan:
    """The Bot API calls of one message and how far they got."""

    message: Outbound
    steps: list[Step]
    done: int = 0
    chat_id: int = 0
    keyed_step: int = -1  # the step whose message a ``Reply.key`` names
    key_message: Message | None = None
    set_id: str = ""
    edited: bool = False
    new_messages: list[int] = field(default_factory=list)  # steps that send a new message
    waits: dict[int, float] = field(default_factory=dict)  # step → seconds its slot is away

    def booked(self, step: int) -> float | None:
        """The wait of a slot booked for ``step`` (once: a retry takes a slot anew)."""
        return self.waits.pop(step, None)


class Sender:
    """Sends messages through one PTB ``Bot`` and keeps the error policy."""

    def __init__(
        self,
        bot: ExtBot[int],
        memory: Memory,
        on_blocked: OnBlocked,
        budget: float = 300.0,
        stopping: asyncio.Event | None = None,
        media: MediaLibrary | None = None,
        fetchers: Mapping[str, Fetcher] | None = None,
    ) -> None:
        self.bot = bot
        self.memory = memory
        self.on_blocked = on_blocked
        self.budget = budget
        self.stopping = stopping
        self.media = media
        self.fetchers = dict(fetchers or {})
        self.pictures = Pictures(memory.client, media, self.fetchers)

    async def send(self, message: Outbound) -> Outcome:
        """Send one message, retrying what can be retried within the budget.

        Raises:
            TryLater: 429s, time-outs or the limits kept it back past the budget.
            Stopped: ``stopping`` was set before the message was out.
        """
        (plan,) = await self.prepare([message])
        return await self.carry_out(plan)

    async def prepare(self, messages: list[Outbound]) -> list[Plan]:
        """Plan several messages; their tokens and rate-limit slots in one round trip.

        Raises:
            Stopped: ``stopping`` was set.
        """
        if self.stopping is not None and self.stopping.is_set():
            raise Stopped()
        async with self.memory.client.pipeline(transaction=False) as pipe:
            plans = [await self._plan(message, pipe) for message in messages]
            booked: dict[int, list[Plan]] = {}
            for plan in plans:
                if plan.new_messages:
                    booked.setdefault(plan.chat_id, []).append(plan)
            for chat_id, chat_plans in booked.items():
                count = sum(len(plan.new_messages) for plan in chat_plans)
                self.memory.limits.queue_reserve(pipe, chat_id, count, is_group(chat_id))
            results = await pipe.execute() if len(pipe) else []
        bookings = results[len(results) - len(booked) :] if booked else []  # queued last
        for chat_plans, result in zip(booked.values(), bookings, strict=True):
            slots = iter(reserved(result))
            for plan in chat_plans:
                for step in plan.new_messages:
                    plan.waits[step] = next(slots)
        return plans

    async def carry_out(self, plan: Plan) -> Outcome:
        """Make a prepared plan's calls, retrying what can be retried within the budget.

        Raises:
            TryLater: 429s, time-outs or the limits kept it back past the budget.
            Stopped: ``stopping`` was set before the message was out.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.budget
        backoff = 0.5
        while plan.done < len(plan.steps):
            wait = plan.booked(plan.done)
            if wait is not None and wait > 0:
                if loop.time() + wait > deadline:
                    raise TryLater(wait)
                await unless_stopping(asyncio.sleep(wait), self.stopping)
            step = plan.steps[plan.done](plan.chat_id, PREPAID if wait is not None else None)
            try:
                result = await unless_stopping(step, self.stopping)
            except ChatMigrated as error:
                log.info("a group became a supergroup; sending there")
                plan.chat_id = int(error.new_chat_id)
                continue
            except RetryAfter as error:
                wait = retry_seconds(error)
                if loop.time() + wait > deadline:
                    raise TryLater(wait) from error
                await unless_stopping(asyncio.sleep(wait), self.stopping)
                continue
            except (TooLongWait, PictureWaitTooLong) as error:
                raise TryLater(error.seconds) from error
            except Forbidden:
                await self.on_blocked(plan.message)
                return Outcome.BLOCKED
            except BadRequest as error:
                log.warning("Telegram refused a message (%s); not retried", error.message)
                return Outcome.REFUSED
            except NetworkError as error:
                if loop.time() + backoff > deadline:
                    raise TryLater(backoff) from error
                log.info("sending failed (%s); retrying in %.1f s", type(error).__name__, backoff)
                await unless_stopping(asyncio.sleep(backoff), self.stopping)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            if plan.done == plan.keyed_step and result is not None:
                plan.key_message = result
            plan.done += 1
        await self._remember(plan)
        return Outcome.EDITED if plan.edited else Outcome.SENT

    async def fetch(self, file_id: str) -> bytes:
        """The bytes of one of this bot's files (for a network that must upload it)."""
        found = await self.bot.get_file(file_id)
        return bytes(await found.download_as_bytearray())

    # -- planning ---------------------------------------------------------------------------

    async def _plan(self, message: Outbound, pipe: Any) -> Plan:
        """Turn a message into Bot API calls; queue its choice tokens on ``pipe``."""
        reply = message.reply
        tr = translator(message.language)
        plan = Plan(message=message, steps=[], chat_id=chat_id_of(message.to))
        if reply.version and not await self.memory.sent.admit(message.to, reply.key, reply.version):
            log.info("a message older than one already shown for its key; skipped")
            return plan  # no steps: a newer one went first (docs/NOTICES.md)
        keyboard: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None
        if reply.choices:
            plan.set_id, tokens = self.memory.choices.queue_issue(
                pipe,
                message.to,
                render.choice_values(reply),
                message.language,
                shared=is_group(plan.chat_id),
            )
            keyboard = render.inline_keyboard(reply.choices, tokens)
        elif reply.request_location or reply.request_contact:
            keyboard = render.request_keyboard(reply, tr)
        if reply.edit and reply.key and not isinstance(keyboard, ReplyKeyboardMarkup):
            known = await self.memory.sent.find(message.to, reply.key)
            if known is not None:
                plan.steps.append(self._edit_step(plan, known, reply, keyboard))
                return plan
        if reply.image:
            self._plan_picture(plan, reply, keyboard, tr)
            return plan
        texts = render.parts(reply.text)
        plan.keyed_step = len(texts) - 1
        for number, text in enumerate(texts):
            last = number == len(texts) - 1
            self._add_new(plan, self._text_step(render.escape(text), keyboard if last else None))
        if reply.choices and (reply.request_location or reply.request_contact):
            hint = render.escape(tr.t("tg.request_hint"))
            self._add_new(plan, self._text_step(hint, render.request_keyboard(reply, tr)))
        for kind in ("voice", "photo"):
            if message.meta.get(kind):
                step = await self._media_step(kind, message.meta[kind])
                if step is not None:
                    self._add_new(plan, step)
        return plan

    def _plan_picture(
        self,
        plan: Plan,
        reply: Reply,
        keyboard: InlineKeyboardMarkup | ReplyKeyboardMarkup | None,
        tr: Translator,
    ) -> None:
        """A photo with the text as its caption, or the photo and then the text."""
        text = reply.text.strip()
        if len(text) <= render.MAX_CAPTION:
            plan.keyed_step = len(plan.steps)
            self._add_new(plan, self._photo_step(reply.image, render.escape(text), keyboard))
        else:
            self._add_new(plan, self._photo_step(reply.image, "", None))
            texts = render.parts(reply.text)
            plan.keyed_step = len(plan.steps) + len(texts) - 1
            for number, part in enumerate(texts):
                under = keyboard if number == len(texts) - 1 else None
                self._add_new(plan, self._text_step(render.escape(part), under))
        if reply.choices and (reply.request_location or reply.request_contact):
            hint = render.escape(tr.t("tg.request_hint"))
            self._add_new(plan, self._text_step(hint, render.request_keyboard(reply, tr)))

    def _photo_step(
        self, ref: str, caption: str, keyboard: InlineKeyboardMarkup | ReplyKeyboardMarkup | None
    ) -> Step:
        """``sendPhoto`` of a picture: Telegram's id of it, or its bytes the first time.

        A picture no longer kept becomes its caption alone (or nothing, when the
        text follows anyway).
        """

        async def step(chat_id: int, prepaid: int | None) -> Message | None:
            try:
                source = await self.pictures.source(ref, self.budget)
            except UnknownMedia:
                log.warning("a picture to send is no longer kept; its text goes alone")
                if not caption and keyboard is None:
                    return None
                return await self._text_step(caption or render.EMPTY_TEXT, keyboard)(
                    chat_id, prepaid
                )
            upload = source if isinstance(source, Upload) else None
            try:
                sent = await self.bot.send_photo(
                    chat_id,
                    photo=upload.content if upload is not None else str(source),
                    caption=caption or None,
                    parse_mode=ParseMode.HTML if caption else None,
                    reply_markup=keyboard,
                    rate_limit_args=prepaid,
                )
            except BaseException:
                if upload is not None:
                    await upload.release()
                raise
            if upload is not None:
                if sent.photo:
                    await upload.learnt(sent.photo[-1].file_id)
                else:
                    await upload.release()
            return sent

        return step

    @staticmethod
    def _add_new(plan: Plan, step: Step) -> None:
        plan.new_messages.append(len(plan.steps))
        plan.steps.append(step)

    def _text_step(
        self, html: str, keyboard: InlineKeyboardMarkup | ReplyKeyboardMarkup | None
    ) -> Step:
        async def step(chat_id: int, prepaid: int | None) -> Message:
            return await self.bot.send_message(
                chat_id,
                html,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
                rate_limit_args=prepaid,
            )

        return step

    async def _media_step(self, kind: str, ref: str) -> Step | None:
        """Send a voice note or photo: its Telegram file id, or its bytes from another
        network (then Telegram's own id is learnt for next time)."""
        source: str | bytes = ref
        if is_media_ref(ref):
            if self.media is None:
                log.warning("no media library to resolve a %s; not sent", kind)
                return None
            try:
                stored = await asyncio.to_thread(self.media.get, ref)
                source = await source_for(stored, NETWORK, self.fetchers)
            except UnknownMedia:
                log.warning("a %s to send is no longer kept; not sent", kind)
                return None

        async def step(chat_id: int, prepaid: int | None) -> Message:
            if kind == "voice":
                sent = await self.bot.send_voice(chat_id, voice=source, rate_limit_args=prepaid)
                file_id = sent.voice.file_id if sent.voice else ""
            else:
                sent = await self.bot.send_photo(chat_id, photo=source, rate_limit_args=prepaid)
                file_id = sent.photo[-1].file_id if sent.photo else ""
            if isinstance(source, bytes) and file_id and self.media is not None:
                await asyncio.to_thread(self.media.learn, ref, NETWORK, file_id)
            return sent

        return step

    def _edit_step(
        self,
        plan: Plan,
        known: Remembered,
        reply: Reply,
        keyboard: InlineKeyboardMarkup | ReplyKeyboardMarkup | None,
    ) -> Step:
        inline = keyboard if isinstance(keyboard, InlineKeyboardMarkup) else None
        html = render.escape(render.parts(reply.text)[0])
        caption = render.escape(render.caption(reply.text))

        async def edit(as_caption: bool) -> None:
            if as_caption:
                await self.bot.edit_message_caption(
                    chat_id=int(known.chat),
                    message_id=int(known.message),
                    caption=caption,
                    parse_mode=ParseMode.HTML,
                    reply_markup=inline,
                )
            else:
                await self.bot.edit_message_text(
                    html,
                    chat_id=int(known.chat),
                    message_id=int(known.message),
                    parse_mode=ParseMode.HTML,
                    reply_markup=inline,
                )

        async def step(chat_id: int, prepaid: int | None) -> Message | None:
            as_caption = bool(reply.image)  # a photo's keyed message is usually the photo
            try:
                try:
                    await edit(as_caption)
                except BadRequest as error:
                    if not render.wrong_edit(error.message):
                        raise
                    await edit(not as_caption)  # the keyed message was the other kind
            except BadRequest as error:
                if "not modified" not in error.message.lower():
                    log.info("could not edit a message (%s); sending it anew", error.message)
                    plan.keyed_step = len(plan.steps)
                    plan.steps.append(self._text_step(html, inline))
                    return None
            plan.edited = True
            await self.memory.choices.forget(known.set_id)
            return None

        return step

    async def _remember(self, plan: Plan) -> None:
        """Keep where a keyed message went, so a later reply can edit it."""
        message = plan.message
        key = message.reply.key
        if not key:
            return
        sent = self.memory.sent
        if plan.edited:
            known = await sent.find(message.to, key)
            if known is not None:
                where = Remembered(known.chat, known.message, plan.set_id)
                await sent.remember(message.to, key, where)
            return
        if plan.key_message is not None:
            made = plan.key_message
            where = Remembered(str(made.chat.id), str(made.message_id), plan.set_id)
            await sent.remember(message.to, key, where)
