"""The job table: every background job of the product, by name, with its retry policy.

A job is a plain function from a context, ``job(app, *ids)``, or, when its
spec says ``in_unit``, ``job(tx, app, *ids)`` run inside the unit of work that
also marks its timer done (one commit for the change and the "done"). Each
context exports its own ``JOBS`` mapping and the composition root
(:func:`assistant.bootstrap.job_table`) registers them one by one: there is no
scanning, and a name registered twice is an error.

Retries of jobs belong to the scheduler (see ``docs/JOBS.md``): ``max_retries``,
the back-off and ``throws`` are read by :mod:`assistant.jobs.firing`, never by
dramatiq, which delivers each ``timers.fire`` message once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class JobSpec:
    """A job function and how the scheduler retries it.

    Attributes:
        function: ``function(app, *args)``, or ``function(tx, app, *args)`` when
            ``in_unit``.
        max_retries: attempts after the first before the timer becomes ``dead``.
        min_backoff_ms: the wait after the first failure; it doubles each time.
        max_backoff_ms: the longest wait between two attempts.
        throws: errors the job expects and that no retry can mend: the timer
            ends ``failed`` at once (kept in the archive, no alert).
        time_limit_ms: how long one run may take (shorter than the lease).
        audit: what of the arguments a finished timer keeps (``None``: all).
        in_unit: run inside the unit of work that marks the timer done.
        private_args: the arguments are personal data (the chats of someone who asked to
            be forgotten): a timer that used up its attempts ends ``failed``, keeping only
            what ``audit`` keeps, instead of waiting ``dead`` with them for a retry.
    """

    function: Callable[..., Any]
    max_retries: int = 5
    min_backoff_ms: int = 1000
    max_backoff_ms: int = 60_000
    throws: tuple[type[BaseException], ...] = ()
    time_limit_ms: int = 60_000
    audit: Callable[[list[Any]], list[Any]] | None = None
    in_unit: bool = False
    private_args: bool = False

    def backoff_ms(self, attempts: int) -> int:
        """The wait before attempt ``attempts + 1``: exponential, capped."""
        exponent = max(0, attempts - 1)
        return int(min(self.max_backoff_ms, self.min_backoff_ms * 2 ** min(exponent, 30)))


class DuplicateJob(ValueError):
    """Two contexts registered a job under the same name."""


class JobTable(Mapping[str, JobSpec]):
    """Job name → spec, filled from the composition root."""

    def __init__(self) -> None:
        self._specs: dict[str, JobSpec] = {}

    def register(self, jobs: Mapping[str, JobSpec]) -> None:
        """Add a context's jobs; a name already taken raises :class:`DuplicateJob`."""
        for name, spec in jobs.items():
            if name in self._specs:
                raise DuplicateJob(name)
            self._specs[name] = spec

    def __getitem__(self, name: str) -> JobSpec:
        return self._specs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def longest_ms(self) -> int:
        """The longest time limit of any job (the ``timers.fire`` actor's limit)."""
        return max((spec.time_limit_ms for spec in self._specs.values()), default=60_000)
