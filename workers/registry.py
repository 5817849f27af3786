"""Every background job of the product, by name, with its retry policy.

A job is a plain function ``job(app, *ids)`` from a service or a channel. The
table is explicit (no scanning): dramatiq actors are declared from it in
``workers/broker.py``, and tests run the same functions through
:class:`assistant.queue.MemoryQueue`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.bootstrap import App


@dataclass(frozen=True)
class JobSpec:
    """A job function and how dramatiq retries it."""

    function: Callable[..., Any]
    max_retries: int = 5
    min_backoff_ms: int = 1000
    max_backoff_ms: int = 60_000
    throws: tuple[type[BaseException], ...] = ()
    time_limit_ms: int = 60_000
    audit: Callable[[list[Any]], list[Any]] | None = None
    """What of the arguments a finished timer keeps (``None``: all of them)."""


def jobs() -> dict[str, JobSpec]:
    """The table of jobs, name → spec."""
    from assistant.jobs import outbox, timers

    table: dict[str, JobSpec] = {
        "timers.fire": JobSpec(timers.fire, max_retries=10),
        "outbox.deliver": JobSpec(outbox.deliver_job, max_retries=8, audit=outbox.audit),
    }
    for module in _optional_modules():
        table.update(getattr(module, "JOBS", {}))
    return table


def _optional_modules() -> list[Any]:
    """Modules that add jobs of their own (features and channels)."""
    import importlib

    found = []
    for name in (
        "assistant.services.care.jobs",
        "assistant.services.care.followups",
        "assistant.channels.telegram.jobs",
    ):
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
    return found


def bound(app: App) -> dict[str, Callable[..., Any]]:
    """Each job with the app filled in, for :meth:`MemoryQueue.run_all`."""

    def bind(function: Callable[..., Any]) -> Callable[..., Any]:
        return lambda *args: function(app, *args)

    return {name: bind(spec.function) for name, spec in jobs().items()}
