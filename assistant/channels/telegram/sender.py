"""Sending one :class:`Outbound` to Telegram, with the error policy of every process.

The bot process and the workers both send through :class:`Sender`, on a PTB
``Bot`` whose rate limiter is :class:`~.limits.SharedRateLimiter`. A message
becomes a short plan of Bot API calls (text parts, then a voice note or photo
named in ``meta``, then a location/contact request when inline buttons already
took the keyboard); a retry resumes the plan at the call that failed, so a
part already accepted is never sent again.

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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from telegram import Bot, InlineKeyboardMarkup, Message, ReplyKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
)

from assistant.channels.telegram import render
from assistant.channels.telegram.buttons import ButtonTokens, Remembered, SentMessages
from assistant.channels.telegram.limits import TooLongWait, retry_seconds
from assistant.channels.telegram.translate import chat_id_of
from assistant.conversation.vocabulary import Outbound
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


class TryLater(Exception):
    """The message could not be sent within the budget; send it again later."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"try again in {seconds:.0f} s")
        self.seconds = seconds


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


Step = Callable[[int], Awaitable[Message | None]]
OnBlocked = Callable[[Outbound], Awaitable[None]]


@dataclass
class Plan:
    """The Bot API calls of one message and how far they got."""

    steps: list[Step]
    done: int = 0
    chat_id: int = 0
    keyed_step: int = -1  # the step whose message a ``Reply.key`` names
    key_message: Message | None = None
    set_id: str = ""
    edited: bool = False


class Sender:
    """Sends messages through one PTB ``Bot`` and keeps the error policy."""

    def __init__(
        self,
        bot: Bot,
        tokens: ButtonTokens,
        sent: SentMessages,
        on_blocked: OnBlocked,
        budget: float = 300.0,
        stopping: asyncio.Event | None = None,
    ) -> None:
        self.bot = bot
        self.tokens = tokens
        self.sent = sent
        self.on_blocked = on_blocked
        self.budget = budget
        self.stopping = stopping

    async def send(self, message: Outbound) -> Outcome:
        """Send one message, retrying what can be retried within the budget.

        Raises:
            TryLater: 429s, time-outs or the limits kept it back past the budget.
            Stopped: ``stopping`` was set before the message was out.
        """
        if self.stopping is not None and self.stopping.is_set():
            raise Stopped()
        tr = translator(message.language)
        plan = await self._plan(message, chat_id_of(message.to), tr)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.budget
        backoff = 0.5
        while plan.done < len(plan.steps):
            try:
                result = await unless_stopping(plan.steps[plan.done](plan.chat_id), self.stopping)
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
            except TooLongWait as error:
                raise TryLater(error.seconds) from error
            except Forbidden:
                await self.on_blocked(message)
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
        await self._remember(message, plan)
        return Outcome.EDITED if plan.edited else Outcome.SENT

    # -- planning ---------------------------------------------------------------------------

    async def _plan(self, message: Outbound, chat_id: int, tr: Translator) -> Plan:
        """Turn a message into Bot API calls; issue its button tokens once."""
        reply = message.reply
        plan = Plan(steps=[], chat_id=chat_id)
        keyboard: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None
        if reply.choices:
            plan.set_id, tokens = await self.tokens.issue(
                message.to, render.choice_values(reply), message.language
            )
            keyboard = render.inline_keyboard(reply.choices, tokens)
        elif reply.request_location or reply.request_contact:
            keyboard = render.request_keyboard(reply, tr)
        if reply.edit and reply.key and not isinstance(keyboard, ReplyKeyboardMarkup):
            known = await self.sent.find(message.to, reply.key)
            if known is not None:
                plan.steps.append(self._edit_step(plan, known, reply.text, keyboard))
                return plan
        texts = render.parts(reply.text)
        plan.keyed_step = len(texts) - 1
        for number, text in enumerate(texts):
            last = number == len(texts) - 1
            plan.steps.append(self._text_step(render.escape(text), keyboard if last else None))
        if reply.choices and (reply.request_location or reply.request_contact):
            hint = render.escape(tr.t("tg.request_hint"))
            plan.steps.append(self._text_step(hint, render.request_keyboard(reply, tr)))
        if message.meta.get("voice"):
            plan.steps.append(self._media_step("voice", message.meta["voice"]))
        if message.meta.get("photo"):
            plan.steps.append(self._media_step("photo", message.meta["photo"]))
        return plan

    def _text_step(
        self, html: str, keyboard: InlineKeyboardMarkup | ReplyKeyboardMarkup | None
    ) -> Step:
        async def step(chat_id: int) -> Message:
            return await self.bot.send_message(
                chat_id, html, parse_mode=ParseMode.HTML, reply_markup=keyboard
            )

        return step

    def _media_step(self, kind: str, file_ref: str) -> Step:
        async def step(chat_id: int) -> Message:
            if kind == "voice":
                return await self.bot.send_voice(chat_id, voice=file_ref)
            return await self.bot.send_photo(chat_id, photo=file_ref)

        return step

    def _edit_step(
        self,
        plan: Plan,
        known: Remembered,
        text: str,
        keyboard: InlineKeyboardMarkup | ReplyKeyboardMarkup | None,
    ) -> Step:
        inline = keyboard if isinstance(keyboard, InlineKeyboardMarkup) else None
        html = render.escape(render.parts(text)[0])

        async def step(chat_id: int) -> Message | None:
            try:
                await self.bot.edit_message_text(
                    html,
                    chat_id=known.chat_id,
                    message_id=known.message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=inline,
                )
            except BadRequest as error:
                if "not modified" not in error.message.lower():
                    log.info("could not edit a message (%s); sending it anew", error.message)
                    plan.keyed_step = len(plan.steps)
                    plan.steps.append(self._text_step(html, inline))
                    return None
            plan.edited = True
            await self.tokens.forget(known.set_id)
            return None

        return step

    async def _remember(self, message: Outbound, plan: Plan) -> None:
        """Keep where a keyed message went, so a later reply can edit it."""
        key = message.reply.key
        if not key:
            return
        if plan.edited:
            known = await self.sent.find(message.to, key)
            if known is not None:
                await self.sent.remember(
                    message.to, key, Remembered(known.chat_id, known.message_id, plan.set_id)
                )
            return
        if plan.key_message is not None:
            sent = plan.key_message
            where = Remembered(sent.chat.id, sent.message_id, plan.set_id)
            await self.sent.remember(message.to, key, where)
