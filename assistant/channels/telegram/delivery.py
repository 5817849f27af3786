"""Sending to Telegram from any process: the Delivery port for workers.

``TelegramDelivery.deliver(message)`` is synchronous and safe to call from
many worker threads. It runs the same :class:`.Sender` as the bot process on
a private event loop thread, under the same Redis-shared limits.

Sent once: dramatiq delivers at least once, and a killed worker's message runs
again. Before sending, a worker claims the message in Redis (a key derived
from its whole content: recipient, text, buttons, meta) for :data:`LEASE_MS`;
after Telegram accepted it the key says ``sent`` for :data:`DONE_TTL`. A
redelivered message that finds ``sent`` is skipped; one that finds a live
claim is retried later (:class:`TryLater`). What remains:

* the window between Telegram accepting the message and the ``sent`` mark
  (one Redis round trip, well under a millisecond), plus a read time-out or a
  dropped connection after Telegram received the request: a worker killed
  there, or a retry after such a time-out, sends the message again;
* two byte-identical messages to the same address within :data:`DONE_TTL`
  are one message; callers that mean two put something distinct in
  ``meta["dedup"]``.

A message that cannot go out within ``budget`` seconds (429s, limits, time-outs)
raises :class:`TryLater`, so the job is retried later by dramatiq and, past
that, by the scheduler.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import redis.asyncio as aioredis
from telegram.ext import ExtBot

from assistant.channels.telegram import reach, wiring
from assistant.channels.telegram.sender import Outcome, Sender, TryLater
from assistant.clock import Clock, SystemClock
from assistant.config import Settings
from assistant.conversation.vocabulary import (
    CannotRender,
    Outbound,
    network_of,
    outbound_to_dict,
)
from assistant.store.base import Store

log = logging.getLogger(__name__)

T = TypeVar("T")
DEDUP_PREFIX = "tg:out:"
LEASE_MS = 60_000
DONE_TTL = 24 * 3600
DEFAULT_BUDGET = 20.0

# KEYS[1]: the message key. ARGV: owner, lease ms.
# {0}: claimed; {1, ms}: another claim lives for ms; {2}: already sent or refused.
_CLAIM = """
local value = redis.call('GET', KEYS[1])
if value then
  if string.sub(value, 1, 8) == 'sending:' then
    return {1, redis.call('PTTL', KEYS[1])}
  end
  return {2}
end
redis.call('SET', KEYS[1], 'sending:' .. ARGV[1], 'PX', ARGV[2])
return {0}
"""

# KEYS[1]: the message key. ARGV: owner, final value ('' releases), ttl seconds.
_SETTLE = """
if redis.call('GET', KEYS[1]) ~= 'sending:' .. ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) end
return 1
"""


def message_key(message: Outbound) -> str:
    """The dedup key of a message: a digest of everything it says to whom."""
    body = json.dumps(outbound_to_dict(message), sort_keys=True, ensure_ascii=False)
    return DEDUP_PREFIX + hashlib.sha256(body.encode()).hexdigest()[:40]


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
        self.redis_url = redis_url
        self.store = store
        self.budget = budget
        self.clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready: asyncio.Future[tuple[Sender, aioredis.Redis]] | None = None

    def deliver(self, message: Outbound) -> None:
        """Send one message once; block until Telegram accepted or refused it.

        Raises:
            TryLater: it could not go out within the budget; retry the job later.
            CannotRender: the address is not a Telegram one.
        """
        if network_of(message.to) != "telegram":
            raise CannotRender(f"TelegramDelivery cannot send to {network_of(message.to)}")
        self._run(self._deliver(message))

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
        sender, client = await self._parts()
        key = message_key(message)
        owner = secrets.token_hex(8)
        claimed = await client.eval(_CLAIM, 1, key, owner, LEASE_MS)
        if int(claimed[0]) == 2:
            log.debug("message %s was already sent; skipped", key[-8:])
            return
        if int(claimed[0]) == 1:
            raise TryLater(int(claimed[1]) / 1000)
        try:
            outcome = await sender.send(message)
        except BaseException:
            await client.eval(_SETTLE, 1, key, owner, "", 0)
            raise
        await client.eval(_SETTLE, 1, key, owner, outcome.value, DONE_TTL)
        if outcome is not Outcome.SENT and outcome is not Outcome.EDITED:
            log.info("a queued message ended %s", outcome.value)

    async def _parts(self) -> tuple[Sender, aioredis.Redis]:
        """The sender and Redis client of the private loop, made on first use."""
        if self._ready is None:
            self._ready = asyncio.get_running_loop().create_future()
            try:
                self._ready.set_result(await self._build())
            except BaseException as error:
                self._ready.set_exception(error)
                ready, self._ready = self._ready, None
                return await ready
        return await self._ready

    async def _build(self) -> tuple[Sender, aioredis.Redis]:
        client = wiring.redis_client(self.redis_url)
        limiter = wiring.rate_limiter(client, self.section)
        bot: ExtBot[int] = wiring.ext_bot(self.section, limiter)
        await bot.initialize()
        tokens, sent = wiring.stores(client)
        return Sender(bot, tokens, sent, self._blocked, budget=self.budget), client

    async def _blocked(self, message: Outbound) -> None:
        await asyncio.to_thread(reach.mark_blocked, self.store, message, self.clock.now())

    async def _shutdown(self) -> None:
        if self._ready is None or not self._ready.done() or self._ready.exception():
            return
        sender, client = self._ready.result()
        await sender.bot.shutdown()
        await client.aclose()

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
