"""The unit of work: one transaction, and what it made due handed to the queue after commit.

A handler step's change and the timers it schedules commit together
(``timers.schedule`` runs inside the same transaction); timers due at once are
collected in ``tx.due_timers`` (a :class:`~assistant.jobs.timers.HandOut`) and
handed to the workers here, once the commit has succeeded, so services never
return lists of ids to send by hand. Steps outside the store that must wait
for the commit are run after it too (:func:`after_commit`). Each timer is handed out once:
``schedule`` notes a timer once, and a keyed timer that already exists is not
noted again. A hand-out that is lost (a crash right after the commit) is made
by the scheduler when the timer's lease lapses: late, never lost.

A process without workers (a CLI command) builds its app on a
:class:`~assistant.queue.SchedulerQueue`: its units hand nothing out, so their
due timers stay ``pending`` and the running scheduler hands them out within a
second, instead of waiting for a lease that nothing will ever start. A bare
``store.transaction()`` behaves the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from assistant.jobs.timers import HandOut, lease_of
from assistant.store.base import Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

FIRE = "timers.fire"
AFTER = "_after_commit"


@contextmanager
def unit_of_work(app: App) -> Iterator[Tx]:
    """A store transaction whose due timers go to the queue after it commits."""
    hands_out = not getattr(app.queue, "leaves_to_scheduler", False)
    then: list[Callable[[], None]] = []
    with app.store.transaction() as tx:
        if hands_out:
            tx.due_timers = HandOut(lease_of(app.settings))
        setattr(tx, AFTER, then)
        yield tx
        due = list(dict.fromkeys(tx.due_timers))
    for timer_id in due:
        app.queue.enqueue(FIRE, timer_id)
    for step in then:
        try:
            step()
        except Exception:  # a follow-up that has a durable fallback: it must not undo the commit
            log.warning("a step after a commit failed; its fallback will do it", exc_info=True)


def after_commit(tx: Tx, step: Callable[[], None]) -> bool:
    """Run ``step`` once this unit of work has committed (not at all if it rolls back).

    For follow-ups outside the store that have a durable fallback should the
    process die first (the hold counter's settling: the lapse sweep does it
    then). A bare ``store.transaction()`` runs none; ``False`` says so.
    """
    steps = getattr(tx, AFTER, None)
    if steps is None:
        return False
    steps.append(step)
    return True
