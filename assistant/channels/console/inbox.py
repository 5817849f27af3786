"""Messages for console users from other processes: bodies in the store, ids through Redis.

A worker that must show a console user a message (an offer, a reminder)
writes it to the ``console_inbox`` collection and pushes only its id onto a
Redis list; the console process pops the id, takes the message out of the
store and shows it. Redis keeps what it is given in its append-only file long
after a list item is popped, so message bodies (names, addresses, health
notes) never go through it; the store's hot file is rewritten without the
message as soon as it is shown.
"""

from __future__ import annotations

import redis

from assistant.conversation.vocabulary import Outbound, outbound_from_dict, outbound_to_dict
from assistant.store.base import Store, new_id

INBOX = "console_inbox"
WAKE_LIST = "assistant:console:inbox"


class ConsoleInbox:
    """The console's inbox, shared by every process of one data folder."""

    def __init__(self, store: Store, url: str) -> None:
        self.store = store
        self.client = redis.Redis.from_url(url)

    def deliver(self, message: Outbound) -> None:
        """Keep the message in the store and wake the console process with its id."""
        message_id = new_id("ci")
        with self.store.transaction() as tx:
            tx.put(INBOX, message_id, outbound_to_dict(message))
        self.client.rpush(WAKE_LIST, message_id)

    def pop(self, timeout: float = 1.0) -> Outbound | None:
        """Wait up to ``timeout`` seconds for the next message; take it out of the store."""
        item = self.client.blpop([WAKE_LIST], timeout=timeout)
        if item is None:
            return None
        raw = item[1]
        message_id = raw.decode() if isinstance(raw, bytes) else str(raw)
        with self.store.transaction() as tx:
            data = tx.get(INBOX, message_id)
            tx.delete(INBOX, message_id)
        return None if data is None else outbound_from_dict(data)

    def close(self) -> None:
        """Close the Redis connection."""
        self.client.close()
