"""The composition root: the one place that builds the program from its parts.

Entry points (the CLI, worker processes, tests) call :func:`build` with
settings and, in tests, in-memory twins; everything else receives the
resulting :class:`App` and never builds ports itself. Services, steps, jobs and
channels type it with the protocol :class:`assistant.app.App`, never with this
class, and the conversation engine is built by :func:`handlers.build_engine`:
so nothing below the composition root imports it, and the imports form no
cycle.
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
    from collections.abc import Mapping
    from types import ModuleType

    from assistant.app import App as AppPort
    from assistant.jobs.table import JobSpec, JobTable
    from assistant.services.dispatch.kinds import TaskKind, TaskKinds
    from assistant.services.dispatch.port import DispatchPort
    from assistant.services.orders.counter import Counter
    from assistant.services.people.forgetters import Forgetter


SHARDED = {
    "people": 256,
    "addresses": 256,
    "conversations": 256,
    "notice_households": 64,
    "cases": 64,  # reports: every report lands in its case, so open cases stay small files
}
"""Collections that never close, split into shard files so a write by id stays small.

With 256 shards a shard holds about 40 records at 10,000 people (``docs/STORAGE.md``).
A notice's households (one document per micro-grid) are split too, so one tap on "收到"
rewrites one grid's document, not every household of every notice (``docs/NOTICES.md``).
"""


@dataclass
class App:
    """The program's ports and settings: the implementation of :class:`assistant.app.App`."""

    settings: Settings
    store: Store
    clock: Clock
    queue: TaskQueue
    delivery: Delivery
    services: dict[str, Service] = field(default_factory=dict)
    dispatch: DispatchPort[AppPort] = field(default_factory=lambda: real_dispatch())
    """The dispatch port used by care (and later produce and reports)."""
    jobs: JobTable = field(default_factory=lambda: job_table())
    """Every background job by name (see :func:`job_table`)."""
    task_kinds: TaskKinds[AppPort] = field(default_factory=lambda: task_kinds())
    """The kinds of dispatch task the contexts registered (see :func:`task_kinds`)."""
    forgetters: tuple[Forgetter[AppPort], ...] = field(default_factory=lambda: forgetters())
    """What each context forgets of a person at ``/forget`` (see :func:`forgetters`)."""
    holds: Counter = field(default_factory=lambda: memory_counter())
    """The live holds of the produce sale (Redis in a running deployment, docs/ORDERS.md)."""

    def unit(self) -> AbstractContextManager[Tx]:
        """A unit of work: one transaction; its due timers go to the queue after commit."""
        from assistant.jobs.unit import unit_of_work

        return unit_of_work(self)


def job_table(extra: Mapping[str, JobSpec] | None = None) -> JobTable:
    """The job table: each context's jobs, registered here one by one (no scanning).

    ``extra`` adds jobs of a test; a name registered twice is an error.
    """
    from assistant.jobs import outbox
    from assistant.jobs.table import JobTable
    from assistant.services import activities, care, dispatch, notices
    from assistant.services.people import linking

    table = JobTable()
    table.register(outbox.JOBS)
    table.register(dispatch.JOBS)
    table.register(care.JOBS)
    table.register(_reports().JOBS)
    table.register(orders_jobs())
    table.register(notices.JOBS)
    table.register(activities.JOBS)
    table.register(linking.JOBS)
    if extra:
        table.register(extra)
    return table


def task_kinds() -> TaskKinds[AppPort]:
    """The dispatch task kinds, each registered by its context (care: the care visit)."""
    from assistant.services import care, notices
    from assistant.services.dispatch.kinds import TaskKinds

    kinds: TaskKinds[AppPort] = TaskKinds()
    kinds.register(care.TASK_KIND)
    kinds.register(_reports().TASK_KIND)
    kinds.register(orders_kind())
    kinds.register(notices.TASK_KIND)
    return kinds


def forgetters() -> tuple[Forgetter[AppPort], ...]:
    """Each context's part of ``/forget``, registered here one by one (care's is built in)."""
    from assistant.services import activities, notices
    from assistant.services.people import linking

    return (notices.forget, activities.forget, orders_forget(), _reports().forget, linking.forget)


def orders_jobs() -> Mapping[str, JobSpec]:
    """The orders context's jobs (local produce)."""
    from assistant.services import orders

    return orders.JOBS


def orders_kind() -> TaskKind[AppPort]:
    """The orders context's task kind: the community "delivery run"."""
    from assistant.services import orders

    return orders.TASK_KIND


def orders_forget() -> Forgetter[AppPort]:
    """The orders context's part of ``/forget``."""
    from assistant.services import orders

    return orders.forget


def _reports() -> ModuleType:
    """The reports context's face (its jobs, the "patrol case" kind, its part of ``/forget``)."""
    from assistant.services import reports

    return reports


def memory_counter() -> Counter:
    """The hold counter of one process (tests, ``console --inline``)."""
    from assistant.services.orders.counter import MemoryCounter

    return MemoryCounter()


def redis_counter(url: str) -> Counter:
    """The hold counter in Redis at ``url``, shared by every process and machine."""
    from assistant.services.orders.counter import RedisCounter

    return RedisCounter(url)


def real_dispatch() -> DispatchPort[AppPort]:
    """The dispatch engine as the port that other contexts use (checked by mypy here)."""
    from assistant.services import dispatch

    port: DispatchPort[AppPort] = dispatch
    return port


def build(
    settings: Settings,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    queue: TaskQueue | None = None,
    delivery: Delivery | None = None,
    dispatch: DispatchPort[AppPort] | None = None,
    jobs: Mapping[str, JobSpec] | None = None,
    holds: Counter | None = None,
) -> App:
    """Build the app; ports left out become the real ones for these settings.

    ``dispatch`` replaces the dispatch engine (a test's twin); ``jobs`` adds
    jobs to the table (a test's own); ``holds`` is the hold counter (one of
    this process when left out: every process of a deployment passes Redis's).
    """
    if store is None and settings.get("storage", "url"):
        from assistant.store.postgres import PostgresStore

        store = PostgresStore(str(settings.get("storage", "url")))
    if store is None:
        from assistant.store.files import private_dir
        from assistant.store.tinydb_store import TinyDbStore

        private_dir(settings.data_dir)
        store = TinyDbStore(settings.data_dir / "store", shards=SHARDED)
    return App(
        settings=settings,
        store=store,
        clock=clock or SystemClock(),
        queue=queue if queue is not None else MemoryQueue(),
        delivery=delivery if delivery is not None else MemoryDelivery(),
        services=catalogue(settings.services),
        dispatch=dispatch if dispatch is not None else real_dispatch(),
        jobs=job_table(jobs),
        task_kinds=task_kinds(),
        forgetters=forgetters(),
        holds=holds if holds is not None else memory_counter(),
    )


def build_for_tests(settings: Settings | None = None, **ports: object) -> App:
    """An app made only of in-memory twins (store, queue, delivery, fake clock)."""
    from assistant.clock import FakeClock
    from assistant.config import defaults

    return build(
        settings or defaults(),
        store=ports.get("store") or MemoryStore(),  # type: ignore[arg-type]
        clock=ports.get("clock") or FakeClock(),  # type: ignore[arg-type]
        queue=ports.get("queue") or MemoryQueue(),  # type: ignore[arg-type]
        delivery=ports.get("delivery") or MemoryDelivery(),  # type: ignore[arg-type]
        dispatch=ports.get("dispatch"),  # type: ignore[arg-type]
        jobs=ports.get("jobs"),  # type: ignore[arg-type]
        holds=ports.get("holds"),  # type: ignore[arg-type]
    )
