"""The unit of work: one transaction, and what it made due handed to the queue after commit.

A handler step's change and the timers it schedules commit together
(``timers.schedule`` runs inside the same transaction); timers due at once are
collected on the transaction and handed to the workers here, once the commit
has succeeded, so services never return lists of ids to send by hand. A timer
whose hand-out is lost (a crash right after the commit) is handed out by the
scheduler when its lease lapses: late, never lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from assistant.store.base import Tx

if TYPE_CHECKING:
    from assistant.bootstrap import App

FIRE = "timers.fire"


@contextmanager
def unit_of_work(app: App) -> Iterator[Tx]:
    """A store transaction whose due timers go to the queue after it commits."""
    with app.store.transaction() as tx:
        yield tx
        due = list(tx.due_timers)
    for timer_id in due:
        app.queue.enqueue(FIRE, timer_id)
