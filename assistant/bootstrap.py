"""The composition root: the one place that builds the program from its parts.

Entry points (the CLI, worker processes, tests) call :func:`build` with
settings and, in tests, in-memory twins; everything else receives the
resulting :class:`App` and never builds ports itself.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assistant.clock import Clock, SystemClock
from assistant.config import Settings
from assistant.delivery import Delivery, MemoryDelivery
from assistant.domain.catalogue import Service, catalogue
from assistant.queue import MemoryQueue, TaskQueue
from assistant.store.base import Store, Tx
from assistant.store.memory import MemoryStore

if TYPE_CHECKING:
    from assistant.conversation.engine import Engine


@dataclass
class App:
    """The program's ports and settings, passed to every service and step."""

    settings: Settings
    store: Store
    clock: Clock
    queue: TaskQueue
    delivery: Delivery
    services: dict[str, Service] = field(default_factory=dict)
    dispatch: object | None = None
    """The dispatch port used by care (and later produce and reports); None: the real one."""

    def unit(self) -> AbstractContextManager[Tx]:
        """A unit of work: one transaction; its due timers go to the queue after commit."""
        from assistant.jobs.unit import unit_of_work

        return unit_of_work(self)

    def engine(self) -> Engine:
        """The conversation engine with every flow of the product."""
        from handlers import build_engine

        return build_engine(self)


def build(
    settings: Settings,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    queue: TaskQueue | None = None,
    delivery: Delivery | None = None,
) -> App:
    """Build the app; ports left out become the real ones for these settings."""
    if store is None:
        from assistant.store.files import private_dir
        from assistant.store.tinydb_store import TinyDbStore

        private_dir(settings.data_dir)
        store = TinyDbStore(settings.data_dir / "store")
    return App(
        settings=settings,
        store=store,
        clock=clock or SystemClock(),
        queue=queue if queue is not None else MemoryQueue(),
        delivery=delivery if delivery is not None else MemoryDelivery(),
        services=catalogue(settings.services),
    )


def build_for_tests(settings: Settings | None = None, **ports: object) -> App:
    """An app made only of in-memory twins (store, queue, delivery, fake clock)."""
    from assistant.clock import FakeClock
    from assistant.config import defaults

    app = build(
        settings or defaults(),
        store=ports.get("store") or MemoryStore(),  # type: ignore[arg-type]
        clock=ports.get("clock") or FakeClock(),  # type: ignore[arg-type]
        queue=ports.get("queue") or MemoryQueue(),  # type: ignore[arg-type]
        delivery=ports.get("delivery") or MemoryDelivery(),  # type: ignore[arg-type]
    )
    app.dispatch = ports.get("dispatch")
    return app
