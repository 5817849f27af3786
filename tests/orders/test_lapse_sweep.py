"""The lapse sweep when many holds end at once: each unit of work carries a bounded batch and
hands the rest on, until every hold is back (exactly once).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flash_world import make_sale

from assistant.bootstrap import SHARDED, build_for_tests
from assistant.clock import FakeClock, SystemClock
from assistant.jobs.firing import bound
from assistant.jobs.scheduler import tick
from assistant.services.orders import stock
from assistant.store.tinydb_store import TinyDbStore


def test_more_holds_than_one_sweep_carries_all_lapse_once(tmp_path: Path) -> None:
    # Given 450 residents who each hold one unit in the same minute
    listing_id, ids = make_sale(tmp_path / "store", residents=450, units=450)
    clock = FakeClock(SystemClock().now())
    app = build_for_tests(store=TinyDbStore(tmp_path / "store", shards=SHARDED), clock=clock)
    for person in ids:
        stock.hold_now(app, listing_id, person, person, 1, clock.now())
    with app.store.snapshot() as tx:
        assert stock.accounting(tx, app.holds, listing_id)["held"] == 450
    # When their time passes and the scheduler and workers run
    clock.advance(timedelta(minutes=11))
    for _ in range(6):
        tick(app)
        app.queue.run_all(bound(app))  # type: ignore[attr-defined]
    # Then every unit is back, once, in sweeps of at most SWEEP holds each
    with app.store.snapshot() as tx:
        counts = stock.accounting(tx, app.holds, listing_id)
    assert counts == {"stock": 450, "available": 450, "held": 0, "ordered": 0}
    assert app.holds.holds() == []
    assert stock.SWEEP < 450
