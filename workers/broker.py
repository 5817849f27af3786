"""The one place where dramatiq is configured.

:func:`make_broker` builds a ``RedisBroker`` and declares the one actor the
product sends messages to: ``timers.fire``, which runs a timer's job from the
job table (:mod:`assistant.jobs.table`). Jobs never travel as their own
messages, so dramatiq never retries them: ``timers.fire`` has
``max_retries=0`` and the scheduler owns every retry — the attempts, the
back-off, ``throws`` and the dead timers (``docs/JOBS.md`` says why).
:class:`DramatiqQueue` is the task-queue port on top of the broker. Worker
processes set the app that actors use with :func:`set_app`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from assistant.jobs import firing, timers

if TYPE_CHECKING:
    from assistant.bootstrap import App
    from assistant.jobs.table import JobTable

log = logging.getLogger(__name__)

QUEUE = "assistant"
_app: App | None = None


def set_app(app: App) -> None:
    """Give the actors of this process the app they work with."""
    global _app
    _app = app


def current_app() -> App:
    """The app of this worker process."""
    if _app is None:
        raise RuntimeError("worker started without an app")
    return _app


def _fire(timer_id: str) -> None:
    firing.fire(current_app(), timer_id)


def make_broker(url: str, table: JobTable | None = None) -> RedisBroker:
    """A Redis broker with the ``timers.fire`` actor declared.

    Its time limit is the longest of the job table's (built by the composition
    root when not given), which must stay under the timers' lease.
    """
    if table is None:
        from assistant.bootstrap import job_table

        table = job_table()
    limit_ms = table.longest_ms()
    lease_ms = int(timers.LEASE.total_seconds() * 1000)
    if limit_ms >= lease_ms:
        raise ValueError(f"a job's time limit ({limit_ms} ms) must be under the lease")
    broker = RedisBroker(  # type: ignore[no-untyped-call]
        url=url,
        namespace="assistant-tasks",
        middleware=[
            AgeLimit(),
            TimeLimit(),
            ShutdownNotifications(),
            Callbacks(),
            Pipelines(),
            Retries(),
        ],
    )
    dramatiq.set_broker(broker)
    declare = dramatiq.actor(
        actor_name=firing.FIRE,
        queue_name=QUEUE,
        broker=broker,
        max_retries=0,
        time_limit=limit_ms,
    )
    declare(_fire)
    return broker


class DramatiqQueue:
    """The task-queue port on a dramatiq broker."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        self.broker = broker

    def enqueue(self, job: str, *args: Any, delay_ms: int = 0) -> None:
        """Send ``job(*args)`` to the workers."""
        actor = self.broker.get_actor(job)
        actor.send_with_options(args=args, delay=delay_ms or None)
