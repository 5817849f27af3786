"""Send-once marks: a redelivered queue message is not sent to a person twice.

dramatiq delivers at least once, and a killed worker's message runs again.
Before sending, a worker claims the message in Redis under a digest of its
whole content (recipient, text, choices, key, meta) for :data:`LEASE_MS`; once
the network accepted (or refused) it, the key holds the outcome for
:data:`DONE_TTL`. A redelivery that finds an outcome is skipped; one that finds
a live claim waits for the claim's lease.

Two byte-identical messages to the same address within :data:`DONE_TTL` are
one message; callers that mean two put something distinct in ``meta["dedup"]``.
"""

from __future__ import annotations

import enum
import hashlib
import json
import secrets
from dataclasses import dataclass

import redis.asyncio as aioredis

from assistant.conversation.vocabulary import Outbound, outbound_to_dict

LEASE_MS = 60_000
DONE_TTL = 24 * 3600

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


def message_key(message: Outbound, prefix: str) -> str:
    """The dedup key of a message: a digest of everything it says to whom."""
    body = json.dumps(outbound_to_dict(message), sort_keys=True, ensure_ascii=False)
    return prefix + hashlib.sha256(body.encode()).hexdigest()[:40]


class Mark(enum.Enum):
    """What a claim found."""

    CLAIMED = "claimed"  # ours to send now
    BUSY = "busy"  # another claim lives; try again after ``Claim.wait``
    DONE = "done"  # already sent (or refused): skip it


@dataclass(frozen=True)
class Claim:
    """The outcome of :meth:`SendOnce.claim`."""

    mark: Mark
    key: str
    owner: str
    wait: float = 0.0


class SendOnce:
    """Claims and settles messages of one network (``namespace``, e.g. ``tg:``)."""

    def __init__(self, client: aioredis.Redis, namespace: str, lease_ms: int = LEASE_MS) -> None:
        self.client = client
        self.prefix = f"{namespace}out:"
        self.lease_ms = lease_ms
        self._claim = client.register_script(_CLAIM)
        self._settle = client.register_script(_SETTLE)

    async def claim(self, message: Outbound) -> Claim:
        """Claim the message for this sender, unless it was sent or is being sent."""
        key = message_key(message, self.prefix)
        owner = secrets.token_hex(8)
        found = await self._claim(keys=[key], args=[owner, self.lease_ms])
        code = int(found[0])
        if code == 2:
            return Claim(Mark.DONE, key, owner)
        if code == 1:
            return Claim(Mark.BUSY, key, owner, int(found[1]) / 1000)
        return Claim(Mark.CLAIMED, key, owner)

    async def done(self, claim: Claim, outcome: str) -> None:
        """The network accepted or refused the message: remember ``outcome``."""
        await self._settle(keys=[claim.key], args=[claim.owner, outcome, DONE_TTL])

    async def release(self, claim: Claim) -> None:
        """The message did not go out: let a redelivery send it."""
        await self._settle(keys=[claim.key], args=[claim.owner, "", 0])
