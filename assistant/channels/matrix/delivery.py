"""Sending to Matrix from any process: the Delivery port for workers.

A Matrix message may go to an encrypted room, and only the bot process holds
the device's keys: two processes using one device's Olm and Megolm sessions
would corrupt them, and a device per worker would show residents a crowd of
unverified sessions. So a worker hands each message to the bot process through
Redis (``mx:outq``) and waits for its acknowledgement; the bot process sends it
with the same :class:`~.sender.Sender` it uses for its own answers, under the
same limits, once (the channel core's send-once marks, keyed by the message's
digest: a redelivered job finds the message sent and is skipped).

``deliver`` raises :class:`~.sender.TryLater` when no acknowledgement comes
within ``budget`` seconds (the bot process is down, or the homeserver keeps it
back), so the job is retried later by dramatiq and, past that, by the
scheduler; the message already handed over is still sent once when the bot
process takes it, and the retry then finds it sent.
"""

from __future__ import annotations

import json
import logging
import secrets

import redis

from assistant.channels.common.forgetting import forget_address
from assistant.channels.common.once import message_key
from assistant.channels.matrix.memory import NAMESPACE, OUTQ
from assistant.channels.matrix.sender import TryLater
from assistant.channels.matrix.translate import NETWORK, ident_of
from assistant.config import Settings
from assistant.conversation.vocabulary import CannotRender, Outbound, network_of, outbound_to_dict
from assistant.store.base import Store

log = logging.getLogger(__name__)

DEFAULT_BUDGET = 20.0
RETRY_SECONDS = 15.0


class MatrixDelivery:
    """The Delivery port for Matrix addresses, usable from worker threads."""

    def __init__(
        self, settings: Settings, redis_url: str, store: Store, *, budget: float = DEFAULT_BUDGET
    ) -> None:
        self.section = settings.section("matrix")
        self.store = store
        self.budget = budget
        self.client = redis.Redis.from_url(redis_url)

    def deliver(self, message: Outbound) -> None:
        """Hand one message to the bot process and wait until it was sent or refused.

        Raises:
            TryLater: no answer within the budget; retry the job later.
            CannotRender: the address is not a Matrix one.
        """
        if network_of(message.to) != NETWORK:
            raise CannotRender(f"MatrixDelivery cannot send to {network_of(message.to)}")
        try:
            ident_of(message.to)
        except ValueError as error:
            raise CannotRender("a malformed Matrix address") from error
        done = self.client.get(message_key(message, NAMESPACE + "out:"))
        if isinstance(done, bytes) and not done.startswith(b"sending:"):
            log.debug("a Matrix message was already sent; skipped")
            return
        ack = f"{NAMESPACE}ack:{secrets.token_hex(8)}"
        body = json.dumps({"message": outbound_to_dict(message), "ack": ack}, ensure_ascii=False)
        self.client.rpush(OUTQ, body)
        got = self.client.blpop([ack], timeout=max(1, round(self.budget)))
        if got is None:
            raise TryLater(RETRY_SECONDS)
        raw = got[1]
        outcome = raw.decode() if isinstance(raw, bytes) else str(raw)
        if outcome.startswith("later:"):
            raise TryLater(float(outcome.partition(":")[2]))
        if outcome not in ("sent", "edited", "done"):
            log.info("a queued Matrix message ended %s", outcome)

    def forget_address(self, address: str) -> None:
        """Drop what Matrix keeps in Redis about ``address``: choices, keyed edits, the latest
        message and the direct room (``/forget``, ``/unlink``).

        The bot's ``m.direct`` account data on the homeserver keeps naming the room: the
        homeserver knows the room's members anyway, and a person who writes again is
        then found in the same room.
        """
        if network_of(address) != NETWORK:
            return
        forget_address(self.client, NAMESPACE, address)
        self.client.delete(f"{NAMESPACE}latest:{address}")
        self.client.hdel(f"{NAMESPACE}dm", address.partition(":")[2])

    def close(self) -> None:
        """Close the Redis connection."""
        self.client.close()
