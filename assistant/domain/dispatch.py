"""Who gets a task offer first: pure matching and ranking of volunteers.

A volunteer can be offered a task when they have its skill, are approved, on
duty and reachable, are free for the task's time, and have not declined, been
offered or given up this task already. Among those, the nearest come first
(the task's own micro-grid, then neighbouring grids, then the rest of the
community), then the fairest choice: fewest tasks in the last ``fairness_days``,
then the longest since their last task, then the id so that ties break the
same way in every process.

Only the standard library is used. :func:`best` costs ``O(n log k)`` for ``n``
volunteers and ``k`` places: linear in the number of volunteers.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

SAME_GRID = 0
NEIGHBOUR_GRID = 1
COMMUNITY = 2

_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Interval:
    """A stretch of time a volunteer is already committed to, ``[start, end)``."""

    start: datetime
    end: datetime

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether this stretch shares any moment with ``[start, end)``."""
        return self.start < end and start < self.end


@dataclass(frozen=True)
class Candidate:
    """What matching needs to know about one volunteer.

    Attributes:
        person_id: the volunteer's id.
        grid_id: their home micro-grid.
        skills: what they can do.
        approved: a coordinator approved them.
        on_duty: they want offers now.
        reachable: the bot can write to at least one of their addresses.
        busy: tasks they already hold.
        recent_tasks: how many tasks they took in the fairness window.
        last_task_at: when they last took a task (``None``: never).
    """

    person_id: str
    grid_id: str | None
    skills: frozenset[str]
    approved: bool = True
    on_duty: bool = True
    reachable: bool = True
    busy: tuple[Interval, ...] = ()
    recent_tasks: int = 0
    last_task_at: datetime | None = None


@dataclass(frozen=True)
class Need:
    """What a task asks for.

    Attributes:
        skill: the skill a volunteer must have.
        grid_id: the micro-grid of the person served (``None``: unknown).
        neighbours: micro-grids next to ``grid_id``.
        starts_at: when the task starts.
        ends_at: when it is expected to end.
        excluded: volunteers who must not be offered it (declined, dropped,
            already offered, or the person who asked).
    """

    skill: str
    grid_id: str | None
    starts_at: datetime
    ends_at: datetime
    neighbours: frozenset[str] = frozenset()
    excluded: frozenset[str] = field(default_factory=frozenset)


def is_free(busy: Iterable[Interval], start: datetime, end: datetime) -> bool:
    """Whether none of ``busy`` overlaps ``[start, end)``."""
    return not any(interval.overlaps(start, end) for interval in busy)


def eligible(candidate: Candidate, need: Need) -> bool:
    """Whether this volunteer may be offered this task at all."""
    return (
        candidate.approved
        and candidate.on_duty
        and candidate.reachable
        and need.skill in candidate.skills
        and candidate.person_id not in need.excluded
        and is_free(candidate.busy, need.starts_at, need.ends_at)
    )


def distance(candidate: Candidate, need: Need) -> int:
    """How far the volunteer lives from the task, in grid steps (0, 1 or 2)."""
    if need.grid_id is not None and candidate.grid_id == need.grid_id:
        return SAME_GRID
    if candidate.grid_id is not None and candidate.grid_id in need.neighbours:
        return NEIGHBOUR_GRID
    return COMMUNITY


def sort_key(candidate: Candidate, need: Need) -> tuple[int, int, datetime, str]:
    """Nearest first, then fewest recent tasks, then longest idle, then id."""
    return (
        distance(candidate, need),
        candidate.recent_tasks,
        candidate.last_task_at or _NEVER,
        candidate.person_id,
    )


def _eligible(candidates: Iterable[Candidate], need: Need) -> Iterator[Candidate]:
    return (candidate for candidate in candidates if eligible(candidate, need))


def best(candidates: Iterable[Candidate], need: Need, limit: int) -> list[Candidate]:
    """The ``limit`` best eligible volunteers, best first, in ``O(n log limit)``."""
    if limit <= 0:
        return []
    return heapq.nsmallest(limit, _eligible(candidates, need), key=lambda c: sort_key(c, need))


def rank(candidates: Iterable[Candidate], need: Need) -> list[Candidate]:
    """Every eligible volunteer, best first."""
    return sorted(_eligible(candidates, need), key=lambda c: sort_key(c, need))


def recent_count(
    taken_at: Iterable[datetime], now: datetime, window_days: float
) -> tuple[int, datetime | None]:
    """How many of ``taken_at`` fall in the last ``window_days``, and the latest one."""
    count = 0
    latest: datetime | None = None
    for moment in taken_at:
        if latest is None or moment > latest:
            latest = moment
        if (now - moment).total_seconds() <= window_days * 86400:
            count += 1
    return count, latest
