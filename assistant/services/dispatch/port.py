"""What other contexts may ask of dispatch: the port, checked by mypy against the engine.

Care (and later produce and reports) open, cancel and move tasks through
``app.dispatch``, typed ``DispatchPort[App]``. The composition root sets it to
the :mod:`assistant.services.dispatch` package itself — a module is a valid
implementation of a protocol, so mypy checks the engine's functions against
these signatures there — and tests inject a twin with
``build_for_tests(dispatch=...)``. Each function works inside the caller's
unit of work and returns its result; the timers it schedules are handed out
by the unit of work after the commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, TypeVar

from assistant.store.base import Tx

App = TypeVar("App", contravariant=True)
"""The app the port's functions are given (:class:`assistant.app.App`).

A type variable rather than an import, so that the app protocol can name this
port and this module need not import it back (no import cycle).
"""


class DispatchPort(Protocol[App]):
    """Open, cancel and move tasks of any registered kind (``DispatchPort[assistant.app.App]``)."""

    def open_task(
        self,
        tx: Tx,
        app: App,
        *,
        kind: str,
        ref: str,
        skill: str,
        grid_id: str | None,
        starts_at: datetime,
        duration_minutes: int,
        summary: dict[str, str],
        private: dict[str, str],
        requester_id: str,
        wave_minutes: float | None = None,
        payload: dict[str, Any] | None = None,
    ) -> str:
        """Open a task of ``kind`` for the feature's record ``ref``; return the task id.

        ``summary`` is the coarse description every volunteer offered it may
        see; ``private`` is revealed only to the one who accepts; ``payload``
        is the kind's own data, kept on the task and given back to its listener.
        """

    def cancel_task(self, tx: Tx, app: App, task_id: str, reason: str) -> None:
        """Withdraw a task: open offers edited, the assignee told."""

    def reschedule_task(self, tx: Tx, app: App, task_id: str, starts_at: datetime) -> None:
        """Move a task to another time: open offers edited, the assignee told."""

    def complete_task(self, tx: Tx, app: App, task_id: str) -> None:
        """Close a task as done when its feature knows the work is finished."""

    def revise_summary(self, tx: Tx, app: App, task_id: str, summary: dict[str, str]) -> None:
        """Replace what every volunteer offered a task reads; open offers edited in place."""

    def revise_private(self, tx: Tx, app: App, task_id: str, private: dict[str, str]) -> None:
        """Replace a task's private part (what only its assignee sees), leaving no old copy."""
