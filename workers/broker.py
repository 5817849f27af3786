"""The one place where dramatiq is configured.

:func:`make_broker` builds a ``RedisBroker`` and declares one actor per job of
``workers/registry.py``; :class:`DramatiqQueue` is the task-queue port on top
of it. Worker processes set the app that actors use with :func:`set_app`.
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

from workers.registry import JobSpec, jobs

if TYPE_CHECKING:
    from assistant.bootstrap import App

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


def _actor_function(name: str, spec: JobSpec) -> Any:
    def run(*args: Any) -> Any:
        return spec.function(current_app(), *args)

    run.__name__ = name.replace(".", "_")
    run.__qualname__ = run.__name__
    return run


def make_broker(url: str) -> RedisBroker:
    """A Redis broker with every job declared as an actor."""
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
    for name, spec in jobs().items():
        options: dict[str, Any] = {
            "max_retries": spec.max_retries,
            "min_backoff": spec.min_backoff_ms,
            "max_backoff": spec.max_backoff_ms,
            "time_limit": spec.time_limit_ms,
        }
        if spec.throws:
            options["throws"] = spec.throws
        declare = dramatiq.actor(actor_name=name, queue_name=QUEUE, broker=broker, **options)
        declare(_actor_function(name, spec))
    return broker


class DramatiqQueue:
    """The task-queue port on a dramatiq broker."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        self.broker = broker

    def enqueue(self, job: str, *args: Any, delay_ms: int = 0) -> None:
        """Send ``job(*args)`` to the workers."""
        actor = self.broker.get_actor(job)
        actor.send_with_options(args=args, delay=delay_ms or None)
