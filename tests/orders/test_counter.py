"""The hold counter's contract, on the in-memory counter and on the real Redis (its Lua scripts).

Given / When / Then, each on both:
- a hold is admitted within what is left and the household's limit, and refused with how many
  are left otherwise (limit first, then stock);
- the asker's earlier hold is given back in the same step as the new one, and kept when the new
  one is refused;
- the store's figures are taken only when their version is newer;
- take marks a hold confirming (again: the same), settle drops it and takes the new figures;
- a hold is given back once, only by its people, and a lapse only once it is due.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.services.orders.counter import (
    CONFIRMING,
    Counter,
    MemoryCounter,
    Mirror,
    Quota,
    Record,
    RedisCounter,
)

NOW = 1_800_000_000.0


@pytest.fixture(params=["memory", "redis"])
def counter(request: pytest.FixtureRequest) -> Iterator[Counter]:
    if request.param == "memory":
        yield MemoryCounter()
        return
    redis = RedisCounter(request.getfixturevalue("redis_url"))
    yield redis
    redis.close()


def record(hold_id: str, person: str = "p1", quantity: int = 1, by: str = "") -> Record:
    return {
        "id": hold_id,
        "listing_id": "ls1",
        "person_id": person,
        "by": by or person,
        "household": f"h-{person}",
        "quantity": quantity,
        "expires": NOW + 600,
        "waitlist_id": "",
    }


def test_holds_within_what_is_left_and_the_limit(counter: Counter) -> None:
    store = Mirror(1, 3)
    assert counter.hold(record("a", "p1", 2), store, Quota(0, 0), 5).kind == "ok"
    # Then another household asking for more than is left is told how many are left
    refused = counter.hold(record("b", "p2", 2), store, Quota(0, 0), 5)
    assert (refused.kind, refused.left) == ("not_enough", 1)
    assert counter.hold(record("c", "p2", 1), store, Quota(0, 0), 5).kind == "ok"
    assert counter.hold(record("d", "p3", 1), store, Quota(0, 0), 5).kind == "sold_out"
    # And a household that ordered 4 of a limit of 5 may hold 1 more, not 2 (limit first)
    over = counter.hold(record("e", "p4", 2), Mirror(1, 3), Quota(3, 4), 5)
    assert (over.kind, over.left) == ("over", 1)
    assert counter.held("ls1") == 3
    assert counter.census("ls1") == (3, counter.census("ls1")[1])
    assert sorted(h["id"] for h in counter.census("ls1")[1]) == ["a", "c"]


def test_a_new_hold_gives_the_earlier_one_back_in_the_same_step(counter: Counter) -> None:
    store = Mirror(1, 2)
    assert counter.hold(record("a", "p1", 2), store, Quota(0, 0), 2).kind == "ok"
    # When the same person asks again for 1: the earlier 2 come back first
    again = counter.hold(record("b", "p1", 1), store, Quota(0, 0), 2)
    assert (again.kind, again.released, again.left) == ("ok", "a", 1)
    assert counter.get("a") is None and counter.held("ls1") == 1
    # And a refused new hold keeps the earlier one
    assert counter.hold(record("c", "p1", 3), store, Quota(0, 0), 2).kind == "over"
    assert counter.get("b") is not None and counter.held("ls1") == 1


def test_the_store_figures_are_taken_only_when_newer(counter: Counter) -> None:
    assert counter.hold(record("a", "p1"), Mirror(5, 1), Quota(0, 0), 3).kind == "ok"
    # An older copy saying there are 10 changes nothing: sold out still
    assert counter.hold(record("b", "p2"), Mirror(4, 10), Quota(0, 0), 3).kind == "sold_out"
    # A newer one (staff added stock) is taken
    counter.sync("ls1", Mirror(6, 3))
    assert counter.hold(record("c", "p2"), Mirror(4, 10), Quota(0, 0), 3).kind == "ok"
    # And a household's newer ordered count is taken, an older one not
    counter.sync("ls1", Mirror(6, 3), "h-p3", Quota(2, 3))
    assert counter.hold(record("d", "p3"), Mirror(6, 3), Quota(1, 0), 3).kind == "over"


def test_take_then_settle_turns_a_hold_into_an_order(counter: Counter) -> None:
    counter.hold(record("a", "p1", 2), Mirror(1, 5), Quota(0, 0), 5)
    assert counter.take("a", "p2", NOW, 120) == ("not_yours", None)
    kind, taken = counter.take("a", "p1", NOW, 120)
    assert kind == "ok" and taken is not None and taken["status"] == CONFIRMING
    assert counter.take("a", "p1", NOW + 1, 120)[0] == "ok"  # a retried unit of work
    # Then the release of the resident does not give a confirming hold back
    assert counter.release("a", "p1") is None
    # When the order commits (5 - 2 = 3 not ordered, the household ordered 2)
    counter.settle("a", "ls1", Mirror(2, 3), "h-p1", Quota(1, 2))
    assert counter.get("a") is None and counter.held("ls1") == 0
    assert counter.take("a", "p1", NOW, 120) == ("gone", None)
    # And the counter decides with the new figures: 3 left, the household may have 3 more
    assert counter.hold(record("b", "p1", 4), Mirror(2, 3), Quota(1, 2), 5).kind == "over"
    assert counter.hold(record("c", "p2", 3), Mirror(2, 3), Quota(0, 0), 5).kind == "ok"


def test_a_hold_is_given_back_once_by_its_people_and_lapses_when_due(counter: Counter) -> None:
    counter.hold(record("a", "p1", 1, by="helper"), Mirror(1, 5), Quota(0, 0), 5)
    counter.hold(record("b", "p2", 1), Mirror(1, 5), Quota(0, 0), 5)
    with pytest.raises(PermissionError):
        counter.release("a", "p2")
    given = counter.release("a", "helper")
    assert given is not None and given["id"] == "a"
    assert counter.release("a", "helper") is None
    # A lapse only once the hold is past its time; a taken hold only after the grace
    assert counter.due(NOW) == []
    assert counter.release("b", due_by=NOW) is None
    assert [r["id"] for r in counter.due(NOW + 600)] == ["b"]
    counter.take("b", "p2", NOW + 590, 120)  # its order is being written: 120 s of grace
    assert [(r["id"], r["status"]) for r in counter.due(NOW + 600)] == [("b", CONFIRMING)]
    assert counter.release("b", due_by=NOW + 600, any_state=True) is None
    assert counter.release("b", due_by=NOW + 711, any_state=True) is not None
    assert counter.held("ls1") == 0 and counter.holds() == []


def test_timer_notes(counter: Counter) -> None:
    assert not counter.timer_noted("ls1", "2026-12-01T10:00:00Z")
    counter.note_timer("ls1", "2026-12-01T10:00:00Z", 60)
    assert counter.timer_noted("ls1", "2026-12-01T10:00:00Z")
