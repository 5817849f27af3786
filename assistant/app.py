"""The app as every service, step, job and channel sees it: a :class:`Protocol` of the ports.

:class:`assistant.bootstrap.App` is the one implementation, built by the
composition root; everything else types its ``app`` with this protocol. It
sits low in the tree on purpose: it imports no service, handler or worker at
run time, and for the type checker only the leaf modules that define the
ports it names. The dispatch port and the task-kind registry are generic in the
app they are given (``DispatchPort[App]``, ``TaskKinds[App]``), so neither
imports this module back and the imports form no cycle (the architecture test
checks that, ``TYPE_CHECKING`` imports included).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from assistant.clock import Clock
    from assistant.config import Settings
    from assistant.delivery import Delivery
    from assistant.domain.catalogue import Service
    from assistant.jobs.table import JobTable
    from assistant.queue import TaskQueue
    from assistant.services.dispatch.kinds import TaskKinds
    from assistant.services.dispatch.port import DispatchPort
    from assistant.services.orders.counter import Counter
    from assistant.services.people.forgetters import Forgetter
    from assistant.store.base import Store, Tx


class App(Protocol):
    """The program's ports and settings, passed to every service and step."""

    settings: Settings
    store: Store
    clock: Clock
    queue: TaskQueue
    delivery: Delivery
    services: dict[str, Service]
    """The care services of the catalogue, by code."""
    dispatch: DispatchPort[App]
    """The dispatch port used by care (and later produce and reports)."""
    jobs: JobTable
    """Every background job by name."""
    task_kinds: TaskKinds[App]
    """The kinds of dispatch task the contexts registered."""
    forgetters: tuple[Forgetter[App], ...]
    """What each context forgets of a person (``/forget``), registered by the composition root."""
    holds: Counter
    """The live holds of the produce sale, across every process (docs/ORDERS.md)."""

    def unit(self) -> AbstractContextManager[Tx]:
        """A unit of work: one transaction; its due timers go to the queue after commit."""
        ...
