"""Task kinds: what each context that opens tasks registers with dispatch.

Dispatch knows nothing of care, produce or reports. Each of them registers a
:class:`TaskKind` from the composition root (``care`` registers "care visit",
``kind="care"``): its name, the words for it, and the listener that hears what
happens to its tasks. The registry lives on the app (``app.task_kinds``); it
is filled by :func:`assistant.bootstrap.task_kinds`, never by importing a
module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from assistant.store.base import Tx

App = TypeVar("App")
"""The app a listener is given (:class:`assistant.app.App`); a type variable, so no import cycle."""

Listener = Callable[[Tx, App, str, str, dict[str, Any]], None]
"""``listener(tx, app, ref, event, task)``: called inside the ``dispatch.event`` job's unit of work.

``event`` is ``assigned``, ``on_way``, ``arrived``, ``done``, ``failed``,
``dropped`` or ``escalated``; ``task`` is the task record with ``event`` (the
recorded event) and ``payload`` (the kind's own data). Delivery is at least
once: a listener must ignore what it has heard before.
"""


@dataclass(frozen=True)
class TaskKind(Generic[App]):
    """One kind of task: its name on the task record, its words, and its listener."""

    name: str
    title_zh: str
    title_en: str
    listener: Listener[App] | None = None


class UnknownKind(LookupError):
    """A task was opened with a kind nobody registered."""


class DuplicateKind(ValueError):
    """Two contexts registered the same kind."""


class TaskKinds(Mapping[str, TaskKind[App]]):
    """kind name → :class:`TaskKind`, filled from the composition root."""

    def __init__(self) -> None:
        self._kinds: dict[str, TaskKind[App]] = {}

    def register(self, kind: TaskKind[App]) -> None:
        """Add a kind; a name registered before raises :class:`DuplicateKind`."""
        if kind.name in self._kinds:
            raise DuplicateKind(kind.name)
        self._kinds[kind.name] = kind

    def require(self, name: str) -> TaskKind[App]:
        """The kind of this name, or :class:`UnknownKind`."""
        try:
            return self._kinds[name]
        except KeyError:
            raise UnknownKind(name) from None

    def __getitem__(self, name: str) -> TaskKind[App]:
        return self._kinds[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)
