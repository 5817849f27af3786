"""The one place where dramatiq is configured.

:func:`make_broker` builds the broker — a ``RedisBroker`` by default, a
``RabbitmqBroker`` when ``[queue] url`` is an ``amqp://`` URL (Redis then
stays for the rate limits, choice memory and the rest) — and declares the one
actor the product sends messages to: ``timers.fire``, which runs a timer's job from the
job table (:mod:`assistant.jobs.table`). Jobs never travel as their own
messages, so dramatiq never retries them: ``timers.fire`` has
``max_retries=0`` and the scheduler owns every retry — the attempts, the
back-off, ``throws`` and the dead timers (``docs/JOBS.md`` says why).
:class:`DramatiqQueue` is the task-queue port on top of the broker. Worker
processes set the app that actors use with :func:`set_app`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
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
    from assistant.config import Settings
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


RABBITMQ_SCHEMES = ("amqp://", "amqps://")


def time_limit_ms(table: JobTable, lease: timedelta = timers.LEASE) -> int:
    """The ``timers.fire`` actor's time limit: the longest job's, held to 2/3 of the lease.

    A job still running when its timer's lease lapses would be handed out a
    second time, so no job may run longer than the lease: with the default
    lease of 90 s that is the jobs' own 60 s; a shorter ``[workers]
    lease_seconds`` stops jobs sooner.
    """
    lease_ms = int(lease.total_seconds() * 1000)
    return max(1, min(table.longest_ms(), lease_ms * 2 // 3))


def make_broker(
    url: str,
    table: JobTable | None = None,
    *,
    queue_url: str = "",
    lease: timedelta = timers.LEASE,
) -> dramatiq.Broker:
    """The broker with the ``timers.fire`` actor declared.

    Args:
        url: the Redis URL, the broker when ``queue_url`` is empty.
        table: the job table (built by the composition root when not given).
        queue_url: an ``amqp://`` URL: messages go through RabbitMQ instead.
        lease: the timers' lease (``[workers] lease_seconds``), which bounds the
            actor's time limit (:func:`time_limit_ms`).
    """
    if table is None:
        from assistant.bootstrap import job_table

        table = job_table()
    middleware = [
        AgeLimit(),
        TimeLimit(),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(),
    ]
    broker: dramatiq.Broker
    if queue_url:
        if not queue_url.startswith(RABBITMQ_SCHEMES):
            raise ValueError("[queue] url must be an amqp:// URL (or empty for Redis)")
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        # Durable queues and persistent messages; a send returns once RabbitMQ
        # has the message. A worker acknowledges a message when its job is over,
        # so the messages of a worker that dies come back at once to the others.
        broker = RabbitmqBroker(url=queue_url, confirm_delivery=True, middleware=middleware)
    else:
        broker = RedisBroker(  # type: ignore[no-untyped-call]
            url=url, namespace="assistant-tasks", middleware=middleware
        )
    dramatiq.set_broker(broker)
    declare = dramatiq.actor(
        actor_name=firing.FIRE,
        queue_name=QUEUE,
        broker=broker,
        max_retries=0,
        time_limit=time_limit_ms(table, lease),
    )
    declare(_fire)
    return broker


def broker_for(
    settings: Settings, redis_url: str, table: JobTable | None = None
) -> dramatiq.Broker:
    """The broker these settings choose: ``[queue] url`` if set, else Redis at ``redis_url``."""
    return make_broker(
        redis_url,
        table,
        queue_url=str(settings.get("queue", "url")),
        lease=timers.lease_of(settings),
    )


class DramatiqQueue:
    """The task-queue port on a dramatiq broker."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        self.broker = broker

    def enqueue(self, job: str, *args: Any, delay_ms: int = 0) -> None:
        """Send ``job(*args)`` to the workers."""
        actor = self.broker.get_actor(job)
        actor.send_with_options(args=args, delay=delay_ms or None)
