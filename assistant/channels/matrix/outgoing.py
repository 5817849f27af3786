"""The Matrix messages the bot process sends: the engine's answers now, workers' ones once.

The engine's answers go out at once (a person who asks twice is answered twice, as on
Telegram); one the room's limit keeps back too long goes to the outbox. Messages workers
hand over through Redis (``mx:outq``, :mod:`.delivery`) are sent once each, guarded by the
channel core's send-once marks, and acknowledged to the worker that waits for them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from assistant.channels.common.once import Mark
from assistant.channels.matrix import translate
from assistant.channels.matrix.memory import OUTQ, Memory
from assistant.channels.matrix.sender import Outcome, Sender, TryLater
from assistant.conversation.vocabulary import Outbound, network_of, outbound_from_dict
from assistant.jobs import outbox

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

ACK_TTL = 120
"""How long a worker's acknowledgement list is kept (seconds)."""

Ordered = Callable[[str, Callable[[], Awaitable[None]]], None]
"""Runs work for one key (a person, a room) in order: the channel's ``_ordered``."""


class Outgoing:
    """Sends through the bot's one :class:`.Sender`, in order per recipient."""

    def __init__(
        self, app: App, sender: Sender, memory: Memory, ordered: Ordered, stopping: asyncio.Event
    ) -> None:
        self.app = app
        self.sender = sender
        self.memory = memory
        self.ordered = ordered
        self.stopping = stopping

    async def dispatch(self, outs: list[Outbound]) -> None:
        """Send Matrix messages here, in order; hand other networks to ``app.delivery``."""
        for out in outs:
            if network_of(out.to) != translate.NETWORK:
                try:
                    await asyncio.to_thread(self.app.delivery.deliver, out)
                except Exception:
                    log.exception("handing a %s message to delivery failed", network_of(out.to))
                continue
            try:
                translate.ident_of(out.to)
            except ValueError:
                log.warning("cannot send to a malformed Matrix address %r", out.to[:80])
                continue
            try:
                await self.send_answer(out)
            except TryLater as later:
                await asyncio.to_thread(self.hand_over, out, later)

    async def send_answer(self, out: Outbound) -> None:
        """Send one of the engine's answers now (no send-once mark: as on Telegram, a person
        who asks twice, say ``/help``, is answered twice; marks are for handed-over messages)."""
        outcome = await self.sender.send(out)
        if outcome not in (Outcome.SENT, Outcome.EDITED):
            log.info("a Matrix message ended %s", outcome.value)

    def hand_over(self, message: Outbound, later: TryLater) -> None:
        """A message kept back too long, or caught by a stop, goes to the outbox."""
        now = self.app.clock.now()
        with self.app.store.transaction() as tx:
            outbox.post(tx, message, now, due=now + timedelta(seconds=max(1.0, later.seconds)))
        log.info("a Matrix message could not go out now; the outbox will send it")

    async def send_once(self, out: Outbound) -> str:
        """Send one message unless it was sent already; return how it ended."""
        claim = await self.memory.once.claim(out)
        if claim.mark is Mark.DONE:
            return "done"
        if claim.mark is Mark.BUSY:
            raise TryLater(claim.wait)
        try:
            outcome = await self.sender.send(out)
        except BaseException:
            await self.memory.once.release(claim)
            raise
        await self.memory.once.done(claim, outcome.value)
        if outcome not in (Outcome.SENT, Outcome.EDITED):
            log.info("a Matrix message ended %s", outcome.value)
        return outcome.value

    async def drain(self) -> None:
        """Send what workers handed over (``mx:outq``), each once, and acknowledge it."""
        client = self.memory.client
        while not self.stopping.is_set():
            try:
                item = await client.blpop([OUTQ], timeout=1)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("reading the Matrix hand-over queue failed", exc_info=True)
                await asyncio.sleep(1.0)
                continue
            if item is None:
                continue
            handed = json.loads(item[1])
            message = outbound_from_dict(handed["message"])
            self.ordered_send(message, str(handed.get("ack", "")))

    def ordered_send(self, message: Outbound, ack: str) -> None:
        async def send() -> None:
            try:
                outcome = await self.send_once(message)
            except TryLater as later:
                outcome = f"later:{later.seconds:.1f}"
            if ack:
                await self.memory.client.rpush(ack, outcome)
                await self.memory.client.expire(ack, ACK_TTL)

        self.ordered("out|" + message.to, send)
