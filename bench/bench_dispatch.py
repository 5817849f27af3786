"""Dispatch benchmark: from a confirmed booking to the first offer delivered.

Real Redis (the embedded server), real dramatiq worker processes and the real
TinyDB store, with 500 volunteers in 20 micro-grids. For each rate (1, 10 and
50 bookings a second) it opens care tasks as the booking side does (``open_task``
in one unit of work, whose first wave goes to the queue after the commit; from
``--senders`` threads, as residents book at the same time) and
measures until the first offer of each task is delivered; in the same run it
sends an empty dramatiq actor at the same rate and measures its round trip, for
reference. Every process counts its store commits (a wrapper around the store's
transaction), so the run also reports commits per booking: from the booking to
the moment nothing due is left (the first wave, its offers sent). It also times
the pure ranking at 500 to 4,000 volunteers.

The same run measures PostgreSQL beside TinyDB (``--stores``): the store of
the booking side and of every worker is then a fresh database on a server of
the benchmark's own with durable settings (fsync on), or on ``--pg-url``. With
``--sweep`` each store goes up the rates until the p95 passes 300 ms (or the
sender falls behind), which gives its sustained bookings per second.

    python bench/bench_dispatch.py [--quick] [--workers N] [--threads N]
    python bench/bench_dispatch.py --sweep --rates 5,10,20,40,60,80,100
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "dispatch"), str(ROOT / "bench")]

from bench_store import durable_postgres, fresh_database  # noqa: E402
from dispatch_processes import (  # noqa: E402
    PING,
    SPAWN,
    CommitCounter,
    commits_counted,
    make_app,
    poll,
    read_lines,
    serve_jobs,
    stop,
)
from dispatch_world import add_volunteer  # noqa: E402

from assistant.domain import dispatch as matching  # noqa: E402
from assistant.jobs import timers  # noqa: E402
from assistant.redis_server import EmbeddedRedis  # noqa: E402
from assistant.services import dispatch, people  # noqa: E402
from assistant.services.people import community  # noqa: E402

GRIDS = 20
VOLUNTEERS = 500
SKILLS = ("care", "escort", "pharmacy", "delivery", "patrol", "repair", "mediation")


def populate(app: Any) -> None:
    """20 grids in 10 complexes (two grids each), 500 volunteers, 25 per grid."""
    with app.store.transaction() as tx:
        for number in range(GRIDS):
            grid_id = f"g{number:02}"
            tx.put(community.GRIDS, grid_id, {"name": f"网格{number}", "neighbours": []})
            complex_name = f"小区{number // 2}"
            unit = community.unit_id(complex_name, str(number), "1")
            tx.put(
                community.UNITS,
                unit,
                {
                    "complex": complex_name,
                    "building": str(number),
                    "unit": "1",
                    "grid_id": grid_id,
                    "households": 40,
                    "order": number,
                },
            )
        for number in range(VOLUNTEERS):
            skills = ("care", SKILLS[number % len(SKILLS)])
            add_volunteer(tx, f"v{number:03}", f"g{number % GRIDS:02}", skills)
        people.create_person(
            tx,
            name="网格员",
            address="console:grid",
            language="zh_CN",
            now="2026-01-01T00:00:00+00:00",
            roles=("coordinator",),
        )


def open_one(app: Any, number: int) -> tuple[str, float]:
    """Open one care task as the booking side does; return its id and the confirmed time."""
    grid = f"g{number % GRIDS:02}"
    starts = app.clock.now() + timedelta(days=2, minutes=number)
    with app.unit() as tx:
        task_id = dispatch.open_task(
            tx,
            app,
            kind="care",
            ref=f"b{number}",
            skill="care",
            grid_id=grid,
            starts_at=starts,
            duration_minutes=60,
            summary={
                "title_zh": "上门照料",
                "title_en": "Home care",
                "grid_name": grid,
                "place": "小区",
            },
            private={"name": "x", "address_zh": "x", "address_en": "x", "phone": "", "notes": ""},
            requester_id="p-none",
        )
    confirmed = time.time()  # committed, and its first wave handed to the queue
    return task_id, confirmed


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def bench_app(data: Path, url: str, out: Path, store_url: str) -> Any:
    """The test app of ``dispatch_processes``, on PostgreSQL when ``store_url`` is set."""
    app = make_app(data, url, out)
    if store_url:
        from assistant.store.postgres import PostgresStore

        app.store.close()
        app.store = PostgresStore(store_url)
    return app


def worker_main(data: str, url: str, out: str, store_url: str, threads: int, commits: str) -> None:
    """One worker process on the chosen store: run jobs until SIGTERM."""
    logging.basicConfig(level=logging.WARNING)
    app = bench_app(Path(data), url, Path(out), store_url)
    app.store = CommitCounter(app.store, Path(commits))
    serve_jobs(app, out, threads)


def start_worker(
    data: Path, url: str, out: Path, store_url: str, threads: int, commits: Path
) -> Any:
    """Start a worker process and wait until it consumes."""
    process = SPAWN.Process(
        target=worker_main,
        args=(str(data), url, str(out), store_url, threads, str(commits)),
        daemon=True,
    )
    process.start()
    ready = Path(str(out) + f".ready-{process.pid}")
    poll(lambda: ready.exists() or not process.is_alive(), "worker start", limit=120)
    assert process.is_alive(), "worker died on start"
    return process


def run_rate(
    rate: float, seconds: float, workers: int, threads: int, pg_server: str = "", senders: int = 4
) -> dict[str, float]:
    """One rate on a fresh store (TinyDB, or a new database on ``pg_server``), Redis and workers."""
    base = Path(tempfile.mkdtemp(prefix="bench-dispatch-"))
    server = EmbeddedRedis(base / "redis")
    url = server.start()
    data, out = base / "data", base / "delivered.jsonl"
    processes: list[Any] = []
    counted = base / "commits"
    store_url = fresh_database(pg_server, "bench_dispatch") if pg_server else ""
    try:
        app = bench_app(data, url, out, store_url)
        populate(app)
        app.store = CommitCounter(app.store, counted)
        processes = [
            start_worker(data, url, out, store_url, threads, counted) for _ in range(workers)
        ]
        ping = app.queue.broker.get_actor(PING)
        # warm up: one booking and one ping, not counted
        open_one(app, 10_000)
        ping.send(time.time(), "warm")
        poll(lambda: len(read_lines(out)) >= 1, "warm-up", limit=60)
        poll(lambda: _settled(app), "the warm-up to settle", limit=60)
        commits_before = commits_counted(counted)
        confirmed: dict[str, float] = {}
        count = int(rate * seconds)

        def send(number: int) -> None:
            task_id, at = open_one(app, number)
            confirmed[task_id] = at
            ping.send(time.time(), f"p{number}")

        started = time.perf_counter()
        # several booking sides at once, as several residents book at once: one sender
        # would measure its own round trips, not what the workers keep up with
        with ThreadPoolExecutor(senders) as pool:
            sent = []
            for number in range(count):
                target = started + number / rate
                pause = target - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                sent.append(pool.submit(send, number))
            for done in sent:
                done.result()
        sent_for = time.perf_counter() - started
        pings_file = out.with_suffix(".pings")
        poll(
            lambda: len(read_lines(pings_file)) >= count + 1 and _first_offers(app, out, confirmed),
            "every first offer",
            limit=300,
        )
        poll(lambda: _settled(app), "every due timer done", limit=300)
        commits = commits_counted(counted) - commits_before
        firsts = _first_offers(app, out, confirmed) or {}
        latency = [1000 * (firsts[t] - confirmed[t]) for t in confirmed]
        pings = [1000 * (p["at"] - p["sent"]) for p in read_lines(pings_file) if p["tag"] != "warm"]
        return {
            "rate": rate,
            "achieved": count / sent_for,
            "n": len(latency),
            "p50": percentile(latency, 0.5),
            "p95": percentile(latency, 0.95),
            "ping50": percentile(pings, 0.5),
            "ping95": percentile(pings, 0.95),
            "commits": commits / max(count, 1),
        }
    finally:
        for process in processes:
            stop(process)
        with contextlib.suppress(Exception):
            app.store.close()
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def _settled(app: Any) -> bool:
    """Nothing due is left: every enqueued timer (first waves, their offers) is done."""
    with app.store.snapshot() as tx:
        return not [t for t in timers.pending(tx) if t["status"] == timers.ENQUEUED]


def _first_offers(app: Any, out: Path, confirmed: dict[str, float]) -> dict[str, float] | None:
    """Task id → when its first offer was delivered, once every task has one."""
    with app.store.snapshot() as tx:
        task_of = {o["id"]: o["task_id"] for o in tx.all(dispatch.OFFERS)}
    first: dict[str, float] = {}
    for line in read_lines(out):
        task_id = task_of.get(str(line.get("key", "")).removeprefix("offer:"))
        if task_id in confirmed and not line["edit"]:
            first[task_id] = min(first.get(task_id, line["at"]), line["at"])
    return first if len(first) == len(confirmed) else None


def time_ranking(sizes: tuple[int, ...] = (500, 1000, 2000, 4000)) -> list[tuple[int, float]]:
    """Microseconds for one pure ranking (best 3) at each number of volunteers."""
    t0 = datetime(2026, 6, 2, 9, tzinfo=UTC)
    need = matching.Need(
        skill="care",
        grid_id="g01",
        neighbours=frozenset({"g00", "g02"}),
        starts_at=t0,
        ends_at=t0 + timedelta(hours=1),
        excluded=frozenset({"v7"}),
    )
    results = []
    for size in sizes:
        crowd = [
            matching.Candidate(
                person_id=f"v{i}",
                grid_id=f"g{i % GRIDS:02}",
                skills=frozenset({"care", SKILLS[i % len(SKILLS)]}),
                busy=(
                    matching.Interval(t0 + timedelta(hours=i % 5), t0 + timedelta(hours=i % 5 + 1)),
                ),
                recent_tasks=i % 4,
                last_task_at=t0 - timedelta(days=i % 9),
            )
            for i in range(size)
        ]
        runs = []
        for _ in range(15):
            begin = time.perf_counter()
            matching.best(crowd, need, 3)
            runs.append(time.perf_counter() - begin)
        results.append((size, statistics.median(runs) * 1e6))
    return results


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    return f"nproc {os.cpu_count()}, {model or 'unknown CPU'}, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds per rate")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--rates", default="1,10,50", help="bookings per second, comma-separated")
    parser.add_argument("--seconds", type=float, help="seconds per rate (default 20, quick 4)")
    parser.add_argument(
        "--stores", default="tinydb,postgresql", help="tinydb and/or postgresql, comma-separated"
    )
    parser.add_argument("--pg-url", help="a PostgreSQL server to use (default: start our own)")
    parser.add_argument("--senders", type=int, default=4, help="threads that book at once")
    parser.add_argument(
        "--sweep", action="store_true", help="per store, stop at the first rate whose p95 > 300 ms"
    )
    args = parser.parse_args()
    seconds = args.seconds or (4.0 if args.quick else 20.0)
    print(f"machine: {machine()}")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        f"{VOLUNTEERS} volunteers in {GRIDS} grids; {args.workers} workers x {args.threads}"
        f" threads; {args.senders} booking threads"
    )
    print("ranking (pure, best 3):")
    ranking = time_ranking()
    for size, micros in ranking:
        print(f"  {size:5d} volunteers: {micros:8.0f} us  ({micros / size:.2f} us per volunteer)")
    stores = [name.strip() for name in args.stores.split(",") if name.strip()]
    with contextlib.ExitStack() as stack:
        pg_server = ""
        if "postgresql" in stores:
            pg_server = stack.enter_context(durable_postgres(args.pg_url))
        sustained: dict[str, float] = {}
        for kind in stores:
            print(f"\n{kind}")
            print(
                "rate/s  achieved  n     p50 ms   p95 ms   ping p50  ping p95  ratio p50  "
                "commits/booking"
            )
            for rate in (float(r) for r in args.rates.split(",")):
                row = run_rate(
                    rate,
                    seconds if rate > 1 else max(seconds, 10.0),
                    args.workers,
                    args.threads,
                    pg_server if kind == "postgresql" else "",
                    args.senders,
                )
                print(
                    f"{row['rate']:6.0f}  {row['achieved']:8.1f}  {row['n']:4.0f}  "
                    f"{row['p50']:7.0f}  {row['p95']:7.0f}  {row['ping50']:8.1f}  "
                    f"{row['ping95']:8.1f}  {row['p50'] / max(row['ping50'], 0.001):8.1f}  "
                    f"{row['commits']:8.1f}",
                    flush=True,
                )
                held = row["p95"] <= 300 and row["achieved"] >= 0.9 * rate
                if held:
                    sustained[kind] = max(sustained.get(kind, 0.0), row["achieved"])
                elif args.sweep:
                    break
        if args.sweep:
            print("\nsustained bookings/s with p95 <= 300 ms:")
            for kind in stores:
                print(f"  {kind}: {sustained.get(kind, 0.0):.1f}")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
