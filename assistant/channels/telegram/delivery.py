"""Sending to Telegram from any process: the Delivery port for workers.

``TelegramDelivery.deliver(message)`` is synchronous and safe to call from
many worker threads. It runs the same :class:`.Sender` as the bot process on
a private event loop thread, under the same Redis-shared limits.

Sent once (:mod:`assistant.channels.common.once`): before sending, a worker
claims the message in Redis under a digest of its whole content; a redelivery
that finds it sent is skipped, one that finds a live claim is retried later
(:class:`TryLater`). What remains: the window between Telegram accepting the
message and the ``sent`` mark (one Redis round trip), plus a read time-out or
a dropped connection after Telegram received the request: a worker killed
there, or a retry after such a time-out, sends the message again.

A message that cannot go out within ``budget`` seconds (429s, limits, time-outs)
raises :class:`TryLater`, so the job is retried later by dramatiq and, past
that, by the scheduler.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import redis

from assistant.channels.common.forgetting import forget_address
from assistant.channels.common.media import MediaLibrary, media_dir
from assistant.channels.common.once import Mark
from assistant.channels.common.once import message_key as digest_key
from assistant.channels.telegram import wiring
from assistant.channels.telegram.sender import Outcome, Sender, TryLater
from assistant.clock import Clock, SystemClock
from assistant.config import Settings
from assistant.conversation.vocabulary import CannotRender, Outbound, network_of
from assistant.services import people
from assistant.store.base import Store

log = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_BUDGET = 20.0


def message_key(message: Outbound) -> str:
    """The Redis key of a message's send-once mark (``tg:out:<digest>``)."""
    return digest_key(message, wiring.NAMESPACE + "out:")


class TelegramDelivery:
    """The Delivery port for Telegram addresses, usable from worker threads."""

    def __init__(
        self,
        settings: Settings,
        redis_url: str,
        store: Store,
        *,
        budget: float = DEFAULT_BUDGET,
        clock: Clock | None = None,
    ) -> None:
        self.section = settings.section("telegram")
        self.data_dir = settings.data_dir
        self.redis_url = redis_url
        self.store = store
        self.budget = budget
        self.clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready: asyncio.Future[tuple[Sender, wiring.Memory]] | None = None

    def deliver(self, message: Outbound) -> None:
        """Send one message once; block until Telegram accepted or refused it.

        Raises:
            TryLater: it could not go out within the budget; retry the job later.
            CannotRender: the address is not a Telegram one.
        """
        if network_of(message.to) != "telegram":
            raise CannotRender(f"TelegramDelivery cannot send to {network_of(message.to)}")
        self._run(self._deliver(message))

    def forget_address(self, address: str) -> None:
        """Drop the choice tokens and keyed messages kept in Redis for ``address``."""
        if network_of(address) != "telegram":
            return
        client = redis.Redis.from_url(self.redis_url)
        try:
            forget_address(client, wiring.NAMESPACE, address)
        finally:
            client.close()

    def close(self) -> None:
        """Close connections and stop the private loop."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()

    # -- on the private loop -------------------------------------------------------------

    async def _deliver(self, message: Outbound) -> None:
        sender, memory = await self._parts()
        claim = await memory.once.claim(message)
        if claim.mark is Mark.DONE:
            log.debug("message %s was already sent; skipped", claim.key[-8:])
            return
        if claim.mark is Mark.BUSY:
            raise TryLater(claim.wait)
        try:
            outcome = await sender.send(message)
        except BaseException:
            await memory.once.release(claim)
            raise
        await memory.once.done(claim, outcome.value)
        if outcome is not Outcome.SENT and outcome is not Outcome.EDITED:
            log.info("a queued message ended %s", outcome.value)

    async def _parts(self) -> tuple[Sender, wiring.Memory]:
        """The sender and Redis memories of the private loop, made on first use."""
        if self._ready is None:
            self._ready = asyncio.get_running_loop().create_future()
            try:
                self._ready.set_result(await self._build())
            except BaseException as error:
                self._ready.set_exception(error)
                ready, self._ready = self._ready, None
                return await ready
        return await self._ready

    async def _build(self) -> tuple[Sender, wiring.Memory]:
        client = wiring.redis_client(self.redis_url)
        limiter = wiring.rate_limiter(client, self.section)
        bot = wiring.ext_bot(self.section, limiter)
        await bot.initialize()
        memory = wiring.memory(client, limiter)
        media = MediaLibrary(self.store, media_dir(self.data_dir))
        sender = Sender(bot, memory, self._blocked, budget=self.budget, media=media)
        return sender, memory

    async def _blocked(self, message: Outbound) -> None:
        await asyncio.to_thread(people.mark_blocked, self.store, message, self.clock.now())

    async def _shutdown(self) -> None:
        if self._ready is None or not self._ready.done() or self._ready.exception():
            return
        sender, memory = self._ready.result()
        await sender.bot.shutdown()
        await memory.client.aclose()

    # -- the thread ---------------------------------------------------------------------------

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._private_loop()).result()

    def _private_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="telegram-delivery", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop
