"""Reports benchmark: report-to-case latency, merge correctness, and merge cost as history grows.

1. **Report to case.** Real Redis (the embedded server), real dramatiq worker
   processes and the real TinyDB store: 10,000 reports (``--reports``) over 200
   known places in 20 micro-grids, six categories, 2,000 reporters, filed one
   after another as the report flow files them (``reports.submit`` in one unit
   of work, which hands the patrol task's first wave to the workers after the
   commit). The latency is from the call to the commit: when the reporter's case
   number exists. The workers meanwhile run the waves, escalations and outbox.
2. **Merge correctness.** Every report is in exactly one case; no two open
   cases share a place and a category.
3. **Merge cost as closed cases grow.** The merge decision (the index lookup
   and the few cases it names, in one transaction) timed with 1k, 10k and 100k
   closed cases in the archive (``--closed``), 200 open ones hot.

    python bench/bench_reports.py [--reports N] [--closed 1000,10000,100000] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "dispatch")]

from dispatch_processes import make_app, start_worker, stop  # noqa: E402

from assistant.bootstrap import SHARDED  # noqa: E402
from assistant.clock import FakeClock, to_iso  # noqa: E402
from assistant.domain import geo  # noqa: E402
from assistant.redis_server import EmbeddedRedis  # noqa: E402
from assistant.services import reports  # noqa: E402
from assistant.services.people import community  # noqa: E402
from assistant.services.reports import index, intake  # noqa: E402
from assistant.store.tinydb_store import TinyDbStore  # noqa: E402

GRIDS = 20
PLACES = 200
REPORTERS = 2000
CATEGORIES = ("no_mask", "crowding", "food_hygiene", "fire_escape", "facilities", "noise")
BASE = (25.0600, 118.1800)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def populate(store: Any, now: datetime) -> None:
    """20 grids, 200 places about 300 m apart, each with coordinates."""
    with store.transaction() as tx:
        for number in range(GRIDS):
            tx.put(community.GRIDS, f"g{number:02}", {"name": f"网格{number}", "neighbours": []})
    lines = ["id,grid_id,name_zh,name_en,kind,lat,lon"]
    for number in range(PLACES):
        lat = BASE[0] + (number % 20) * 0.003
        lon = BASE[1] + (number // 20) * 0.003
        lines.append(
            f"p{number:03},g{number % GRIDS:02},地点{number},Place {number},gate,{lat:.5f},{lon:.5f}"
        )
    reports.import_places(store, "\n".join(lines) + "\n", now)


def draft_for(rng: random.Random, number: int) -> reports.Draft:
    """Half the reports pick the place, half send a pin within 40 m of it."""
    place = rng.randrange(PLACES)
    category = rng.choice(CATEGORIES)
    reporter = f"r{number % REPORTERS:04}"
    if number % 2:
        return reports.Draft(reporter_id=reporter, category=category, place_id=f"p{place:03}")
    lat = BASE[0] + (place % 20) * 0.003 + rng.uniform(-0.00025, 0.00025)
    lon = BASE[1] + (place // 20) * 0.003 + rng.uniform(-0.00025, 0.00025)
    return reports.Draft(reporter_id=reporter, category=category, lat=lat, lon=lon, home_grid="g00")


def run_reports(count: int, workers: int, threads: int) -> dict[str, Any]:
    """Part 1 and 2: file ``count`` reports with real workers, then check the cases."""
    base = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    server = EmbeddedRedis(base / "redis")
    url = server.start()
    data, out = base / "data", base / "delivered.jsonl"
    processes: list[Any] = []
    try:
        TinyDbStore(data / "store", shards=SHARDED).close()  # the layout every process then uses
        app = make_app(data, url, out)
        app.settings = app.settings.with_values(reports={"max_per_hour": 1_000_000})
        populate(app.store, app.clock.now())
        processes = [start_worker(data, url, out, threads=threads) for _ in range(workers)]
        rng = random.Random(10)
        latency: list[float] = []
        merged = 0
        started = time.perf_counter()
        for number in range(count):
            draft = draft_for(rng, number)
            began = time.perf_counter()
            with app.unit() as tx:
                filed = reports.submit(tx, app, draft, app.clock.now())
            latency.append(1000 * (time.perf_counter() - began))
            merged += filed.merged
        elapsed = time.perf_counter() - started
        with app.store.snapshot() as tx:
            cases = tx.all(reports.CASES)
        in_cases = sum(len(c["reports"]) for c in cases)
        slots: dict[tuple[str, str], int] = {}
        for case in cases:
            spot = case["place_id"] or _nearest_place(case)
            slots[(spot, case["category"])] = slots.get((spot, case["category"]), 0) + 1
        doubles = sum(1 for n in slots.values() if n > 1)
        return {
            "reports": count,
            "cases": len(cases),
            "merged": merged,
            "in_cases": in_cases,
            "double_open": doubles,
            "p50": percentile(latency, 0.5),
            "p95": percentile(latency, 0.95),
            "max": max(latency),
            "per_second": count / elapsed,
        }
    finally:
        for process in processes:
            stop(process)
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def _nearest_place(case: dict[str, Any]) -> str:
    """The place a pinned case was reported at (pins fall within 40 m of one place)."""
    column = round((case["lon"] - BASE[1]) / 0.003)
    row = round((case["lat"] - BASE[0]) / 0.003)
    return f"p{column * 20 + row:03}"


def merge_cost(closed: int, samples: int = 300) -> dict[str, float]:
    """Part 3: the merge decision's time with ``closed`` closed cases archived, 200 open."""
    from assistant.bootstrap import build
    from assistant.config import defaults

    base = Path(tempfile.mkdtemp(prefix="bench-merge-"))
    try:
        now = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
        store = TinyDbStore(base / "store", shards=SHARDED)
        app = build(
            defaults().with_values(storage={"dir": str(base)}), store=store, clock=FakeClock(now)
        )
        populate(store, now)
        _closed_cases(store, closed, now)
        with app.unit() as tx:  # 200 open cases, one per place
            for place in range(PLACES):
                draft = reports.Draft(
                    reporter_id=f"o{place}", category="noise", place_id=f"p{place:03}"
                )
                reports.submit(tx, app, draft, now)
        rng = random.Random(3)
        timings: list[float] = []
        for _ in range(samples):
            place = rng.randrange(PLACES)
            spot = geo.Point(BASE[0] + (place % 20) * 0.003, BASE[1] + (place // 20) * 0.003)
            began = time.perf_counter()
            with store.transaction() as tx:
                found = intake._match(
                    tx, app, "noise", tx.get(reports.PLACES, f"p{place:03}"), spot, now
                )
            timings.append(1000 * (time.perf_counter() - began))
            assert found is not None
        with store.snapshot() as tx:
            hot = len(tx.all(reports.CASES))
            entries = len(index.entries(tx))
        return {
            "closed": closed,
            "hot": hot,
            "entries": entries,
            "p50": percentile(timings, 0.5),
            "p95": percentile(timings, 0.95),
            "mean": statistics.fmean(timings),
        }
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _closed_cases(store: Any, count: int, now: datetime) -> None:
    """``count`` closed cases of past weeks, archived as the archive job does (in batches)."""
    batch = 2000
    for start in range(0, count, batch):
        with store.transaction() as tx:
            for number in range(start, min(count, start + batch)):
                at = to_iso(now - timedelta(days=30, minutes=number))
                case_id = f"rc-old-{number:06}"
                tx.put(
                    reports.CASES,
                    case_id,
                    {
                        "number": f"0501-{number:06}",
                        "category": "noise",
                        "place_id": f"p{number % PLACES:03}",
                        "stage": "closed",
                        "created_at": at,
                        "reports": [{"reporter_id": "", "at": at, "note": "", "photo": ""}],
                        "followers": [],
                    },
                )
                tx.archive(reports.CASES, case_id)


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=10_000, help="reports to file")
    parser.add_argument(
        "--closed", default="1000,10000,100000", help="closed cases to test merge cost at"
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    result = run_reports(args.reports, args.workers, args.threads)
    print(
        "report to case: {reports} reports -> {cases} cases ({merged} merged); "
        "p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max:.0f} ms, {per_second:.0f} reports/s".format(
            **result
        )
    )
    ok = result["in_cases"] == result["reports"] and result["double_open"] == 0
    print(
        f"merge correctness: {result['in_cases']} reports in cases (of {result['reports']}), "
        f"{result['double_open']} place+category with two open cases -> {'OK' if ok else 'WRONG'}"
    )
    for closed in (int(n) for n in args.closed.split(",") if n):
        cost = merge_cost(closed)
        print(
            "merge decision with {closed} closed cases ({hot} hot, {entries} index entries): "
            "p50 {p50:.2f} ms, p95 {p95:.2f} ms".format(**cost)
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
