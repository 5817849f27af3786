"""The pure ranking: who may get an offer, and in which order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from assistant.domain.dispatch import (
    Candidate,
    Interval,
    Need,
    best,
    distance,
    eligible,
    rank,
    recent_count,
)

T0 = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)
NEED = Need(
    skill="care",
    grid_id="g1",
    neighbours=frozenset({"g2"}),
    starts_at=T0,
    ends_at=T0 + timedelta(hours=1),
)


def volunteer(person_id: str, grid_id: str | None = "g1", **extra: object) -> Candidate:
    values: dict[str, object] = {"skills": frozenset({"care"})}
    values.update(extra)
    return Candidate(person_id, grid_id, **values)  # type: ignore[arg-type]


def test_only_eligible_volunteers_are_ranked() -> None:
    # Given one volunteer who fits and one failing each rule
    fits = volunteer("ok")
    others = [
        volunteer("no-skill", skills=frozenset({"repair"})),
        volunteer("pending", approved=False),
        volunteer("off-duty", on_duty=False),
        volunteer("unreachable", reachable=False),
        volunteer("declined"),
        volunteer("busy", busy=(Interval(T0 + timedelta(minutes=30), T0 + timedelta(hours=2)),)),
    ]
    need = Need(**{**NEED.__dict__, "excluded": frozenset({"declined"})})
    # When ranking them
    ranked = rank([fits, *others], need)
    # Then only the one who fits remains
    assert [c.person_id for c in ranked] == ["ok"]


def test_a_task_just_before_or_after_is_no_conflict() -> None:
    before = Interval(T0 - timedelta(hours=1), T0)
    after = Interval(T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    assert eligible(volunteer("v", busy=(before, after)), NEED)


def test_nearest_grid_comes_first() -> None:
    # Given volunteers in the task's grid, a neighbouring grid, elsewhere and nowhere
    far = volunteer("far", "g9")
    near = volunteer("near", "g2")
    home = volunteer("home", "g1")
    nowhere = volunteer("nowhere", None)
    # Then distance orders them: same grid, neighbours, then the community
    assert [distance(c, NEED) for c in (home, near, far, nowhere)] == [0, 1, 2, 2]
    assert [c.person_id for c in rank([far, nowhere, near, home], NEED)][:2] == ["home", "near"]


def test_fairness_breaks_ties_fewest_tasks_then_longest_idle() -> None:
    # Given three volunteers of the same grid
    busy_lately = volunteer("a", recent_tasks=3, last_task_at=T0 - timedelta(days=1))
    idle_long = volunteer("b", recent_tasks=1, last_task_at=T0 - timedelta(days=9))
    idle_short = volunteer("c", recent_tasks=1, last_task_at=T0 - timedelta(days=2))
    never = volunteer("d", recent_tasks=0)
    # Then the one who never served, then fewest tasks and longest idle go first
    ranked = rank([busy_lately, idle_short, idle_long, never], NEED)
    assert [c.person_id for c in ranked] == ["d", "b", "c", "a"]


def test_distance_beats_fairness() -> None:
    tired_neighbour = volunteer("home", "g1", recent_tasks=9)
    fresh_stranger = volunteer("far", "g7", recent_tasks=0)
    assert rank([fresh_stranger, tired_neighbour], NEED)[0].person_id == "home"


def test_best_returns_the_same_head_as_rank() -> None:
    crowd = [
        volunteer(f"v{i:03}", f"g{i % 4}", recent_tasks=i % 5, last_task_at=T0 - timedelta(hours=i))
        for i in range(200)
    ]
    assert best(crowd, NEED, 7) == rank(crowd, NEED)[:7]
    assert best(crowd, NEED, 0) == []


def test_ties_break_by_id_so_every_process_agrees() -> None:
    twins = [volunteer("b"), volunteer("a"), volunteer("c")]
    assert [c.person_id for c in best(twins, NEED, 2)] == ["a", "b"]


def test_recent_count_counts_the_window_and_finds_the_latest() -> None:
    taken = [T0 - timedelta(days=d) for d in (1, 5, 20)]
    assert recent_count(taken, T0, 14) == (2, T0 - timedelta(days=1))
    assert recent_count([], T0, 14) == (0, None)


def test_best_reads_the_volunteers_once() -> None:
    # Given volunteers that can only be read once (a stream, not a list)
    seen = 0

    def stream() -> Iterator[Candidate]:
        nonlocal seen
        for i in range(1000):
            seen += 1
            yield volunteer(f"v{i}", f"g{i % 20}")

    # When picking the best three
    picked = best(stream(), NEED, 3)
    # Then one pass was enough (the cost is linear; bench/bench_dispatch.py times it)
    assert seen == 1000
    assert [c.person_id for c in picked] == ["v1", "v101", "v121"]
