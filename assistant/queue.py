"""The task-queue port: hand a job to the workers by name with plain ids.

Services never import dramatiq. They call :meth:`TaskQueue.enqueue` with the
job's name and string or number arguments; ``workers/broker.py`` turns that
into a dramatiq message, and :class:`MemoryQueue` keeps jobs in a list so
tests can run them in-process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)

Arg = str | int | float | None


class TaskQueue(Protocol):
    """Where jobs go."""

    def enqueue(self, job: str, *args: Arg, delay_ms: int = 0) -> None:
        """Queue ``job(*args)`` for a worker."""


@dataclass(frozen=True)
class Job:
    """One queued call."""

    name: str
    args: tuple[Arg, ...]
    delay_ms: int = 0


class MemoryQueue:
    """Jobs kept in memory and run when a test says so."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []
        self._lock = threading.Lock()

    def enqueue(self, job: str, *args: Arg, delay_ms: int = 0) -> None:
        """Remember the job."""
        with self._lock:
            self.jobs.append(Job(job, tuple(args), delay_ms))

    def take(self) -> list[Job]:
        """Remove and return every queued job."""
        with self._lock:
            jobs, self.jobs = self.jobs, []
            return jobs

    def run_all(self, registry: dict[str, Callable[..., Any]], limit: int = 1000) -> int:
        """Run queued jobs (and the jobs they queue) until none are left.

        Returns how many ran. ``limit`` stops a job that keeps queueing itself.
        """
        ran = 0
        while ran < limit:
            jobs = self.take()
            if not jobs:
                return ran
            for job in jobs:
                registry[job.name](*job.args)
                ran += 1
        log.warning("memory queue stopped after %d jobs", ran)
        return ran


class SchedulerQueue:
    """The queue of a process without workers (a CLI command): hands out nothing itself.

    The unit of work sees ``leaves_to_scheduler`` and leaves due timers
    ``pending``, so the running scheduler hands them out on its next round.
    """

    leaves_to_scheduler = True

    def enqueue(self, job: str, *args: Arg, delay_ms: int = 0) -> None:
        """Refuse: nothing but the unit of work enqueues, and it asks the scheduler instead."""
        raise RuntimeError(f"{job} cannot be queued from a process without workers")
