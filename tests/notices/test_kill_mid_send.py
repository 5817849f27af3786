"""A notice to many people goes out once per person, even when a worker is SIGKILLed mid-send."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from notice_processes import make_app, poll, read_lines, start_worker, stop

from assistant.clock import FakeClock, SystemClock, to_iso
from assistant.jobs import timers
from assistant.jobs.scheduler import tick
from assistant.services import notices, people
from assistant.services.people import community

pytestmark = pytest.mark.slow

GRIDS = 12
PER_GRID = 50  # 600 people, one household each


def _community(app: object) -> tuple[str, list[str]]:
    now = to_iso(SystemClock().now())
    ids = []
    with app.store.transaction() as tx:  # type: ignore[attr-defined]
        for g in range(GRIDS):
            tx.put(community.GRIDS, f"g{g}", {"name": f"网格{g}", "neighbours": []})
            for n in range(PER_GRID):
                person = people.create_person(
                    tx,
                    name=f"居民{g}-{n}",
                    address=f"console:r{g}x{n}",
                    language="zh_CN",
                    now=now,
                    grid_id=f"g{g}",
                    household={
                        "complex": "水晶城",
                        "building": str(g),
                        "unit": "1",
                        "room": str(n),
                    },
                )
                ids.append(str(person["id"]))
        author = people.create_person(
            tx,
            name="网格员",
            address="console:boss",
            language="zh_CN",
            now=now,
            roles=(people.RESIDENT, people.COORDINATOR),
        )
        author["coordinator_grids"] = [f"g{g}" for g in range(GRIDS)]
        tx.put(people.PEOPLE, author["id"], author)
    return str(author["id"]), ids


def test_each_person_gets_the_notice_once_though_a_worker_dies_mid_send(
    tmp_path: Path, redis_url: str
) -> None:
    data, out, marker = tmp_path / "data", tmp_path / "delivered.jsonl", tmp_path / "frozen"
    app = make_app(data, redis_url)
    author, everyone = _community(app)
    victim = start_worker(data, redis_url, out, freeze_after=150, marker=str(marker))
    healthy = None
    try:
        # Given a notice to 600 people, going out through one worker
        draft = notices.Draft(
            author,
            tuple(f"g{g}" for g in range(GRIDS)),
            "今晚八点停电检修。",
            deadline=None,
            needs_ack=True,
        )
        with app.unit() as tx:
            notice = notices.create(tx, app, draft, app.clock.now())
        # When that worker freezes half-way through a copy (holding its send-once claim) and is SIGKILLed
        poll(marker.exists, "the victim to freeze mid-send", every=lambda: tick(app))
        victim.kill()
        victim.join(10)
        assert victim.exitcode is not None and victim.exitcode < 0
        # And a healthy worker takes over, with the scheduler past the lost leases
        healthy = start_worker(data, redis_url, out)
        ahead = make_app(
            data,
            redis_url,
            clock=FakeClock(SystemClock().now() + timers.LEASE + timedelta(seconds=5)),
        )

        def sent() -> bool:
            with app.store.snapshot() as tx:
                return tx.require(notices.NOTICES, notice["id"])["status"] == "sent"

        poll(sent, "the notice to go out", limit=120, every=lambda: tick(ahead))

        def final_progress_shown() -> bool:
            key = f"notice-progress:{notice['id']}"
            return any(m["key"] == key and "600 / 600" in m["text"] for m in read_lines(out))

        # The final progress edit is queued with the "sent" mark and delivered just after it
        poll(final_progress_shown, "the final progress edit", limit=60, every=lambda: tick(ahead))
    finally:
        stop(victim)
        if healthy is not None:
            stop(healthy)
    # Then every one of the 600 got exactly one copy
    copies = Counter(
        line["to"] for line in read_lines(out) if line["key"] == f"notice:{notice['id']}"
    )
    assert len(copies) == len(everyone) == 600
    assert set(copies.values()) == {1}, [a for a, n in copies.items() if n > 1][:5]
    # And the coordinator's progress reached the total
    progress = [m for m in read_lines(out) if m["key"] == f"notice-progress:{notice['id']}"]
    assert any("600 / 600" in m["text"] for m in progress)
