"""Flash sale: 1,000 residents order one listing of 100 units through the engine, real Redis and workers.

What it measures, in one run:

- **through the engine**: ``--clients`` processes, each with the product's engine on the shared
  TinyDB folder and the real Redis broker, play ``--residents`` residents who press "1 box" on the
  announcement card at the same moment (``a:shop:hold:<listing>:1``), then choose the pickup point
  and confirm, as in chat (a sold-out one reads the answer and goes); two real worker processes
  run the jobs the units hand out (the group list edit, outbox messages). Reported: orders handled per second (every resident's whole story,
  sold-out ones included), p50 / p95 from "order" pressed to the "held" reply, and the final
  stock accounting (``available + held + ordered == stock``; zero oversell, zero lost units).
  Then the same sale again with the residents arriving evenly over ``--over`` seconds (5 by
  default: "within a few seconds"), each as soon as it comes, however many are still busy;
- **the bare hold primitive**: the hold counter's atomic step on its own (``Counter.hold``: one
  Lua script in Redis, given the store's figures as a snapshot read them), in a loop, in one
  process and in ``--clients`` processes at once; then the hold as chat runs it, ``stock.hold_now``
  (the snapshot read of the listing, the person and the household's count, then that script), the
  same way, on the same store and Redis (other listings).

Run: ``.venv/bin/python bench/bench_flash_sale.py`` (``--quick`` for 200 residents). The machine
is printed first; the figures go to ``docs/BENCHMARKS.md``. ``--postgres`` runs the same on
PostgreSQL (a server of the benchmark's own, durable settings), ``--store-url URL`` on that
server's database: the sale is made in TinyDB and copied into a fresh database, and every
process (clients, workers, the primitive) uses the database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import queue
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [
    str(ROOT),
    str(ROOT / "tests" / "dispatch"),
    str(ROOT / "tests" / "orders"),
    str(ROOT / "bench"),
]

from bench_dispatch import bench_app  # noqa: E402
from bench_dispatch import start_worker as start_store_worker  # noqa: E402
from bench_store import durable_postgres, fresh_database, open_store  # noqa: E402
from dispatch_processes import SPAWN, stop  # noqa: E402
from flash_world import make_sale  # noqa: E402

from assistant.bootstrap import SHARDED, build_for_tests, redis_counter  # noqa: E402
from assistant.clock import SystemClock  # noqa: E402
from assistant.conversation.buttons import ShopButton, ShopVerb  # noqa: E402
from assistant.conversation.vocabulary import Incoming, Kind, make_address  # noqa: E402
from assistant.redis_server import EmbeddedRedis  # noqa: E402
from assistant.services import orders  # noqa: E402
from assistant.services.orders import stock  # noqa: E402
from assistant.services.orders.records import household_key  # noqa: E402
from assistant.store import transfer  # noqa: E402
from assistant.store.base import Store, new_id  # noqa: E402
from assistant.store.tinydb_store import TinyDbStore  # noqa: E402

HELD = "已经给您留了"


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()} {platform.release()}"


# -- through the engine ------------------------------------------------------------------------


def sale_store(made: Path, store_url: str) -> str:
    """Where the sale runs: the TinyDB folder it was made in, or a database it is copied to."""
    if not store_url:
        return str(made)
    target = open_store(store_url)
    transfer.copy(transfer.records(TinyDbStore(made, shards=SHARDED)), target)
    target.close()
    return store_url


def store_at(where: str) -> Store:
    if where.startswith("postgresql://"):
        return open_store(where)
    return TinyDbStore(where, shards=SHARDED)


def client_main(
    data: str,
    url: str,
    out: str,
    store_url: str,
    listing: str,
    users: list[int],
    go: Any,
    results: Any,
    concurrency: int,
    over: float = 0.0,
    residents: int = 0,
) -> None:
    """One client process: an engine that plays its residents, ``concurrency`` at a time.

    ``over`` > 0: resident ``n`` (of ``residents`` in all) comes at ``n / residents * over``
    seconds after the start instead, however many are still busy (arrivals spread over a
    few seconds, as a sale's announcement reaches phones).
    """
    import logging

    from handlers import build_engine

    logging.basicConfig(level=logging.ERROR)
    app = bench_app(Path(data), url, Path(out), store_url)
    engine = build_engine(app)
    hold = ShopButton(ShopVerb.HOLD, listing, 1).encode()

    async def resident(number: int) -> tuple[str, float]:
        sender = make_address("console", f"r{number}")

        async def press(value: str) -> str:
            replies = await engine.handle(Incoming(sender=sender, kind=Kind.PRESS, press=value))
            return "\n".join(m.reply.text for m in replies)

        started = time.perf_counter()
        said = await press(hold)
        latency = time.perf_counter() - started
        if HELD not in said:  # sold out: they read it and go (its one button needs no answer)
            return "sold_out", latency
        await press("pickup:desk")
        said = await press("yes")
        return ("ordered" if "下单成功" in said else "lost"), latency

    async def run() -> list[tuple[str, float]]:
        gate = asyncio.Semaphore(concurrency)
        begun = time.perf_counter()

        async def one(number: int) -> tuple[str, float]:
            if over:
                await asyncio.sleep(
                    max(0.0, begun + number / residents * over - time.perf_counter())
                )
                return await resident(number)
            async with gate:
                return await resident(number)

        return list(await asyncio.gather(*(one(n) for n in users)))

    go.wait()
    started = time.perf_counter()
    found = asyncio.run(run())
    results.put((time.perf_counter() - started, found))


def through_the_engine(
    data: Path,
    url: str,
    listing: str,
    residents: int,
    clients: int,
    store_url: str = "",
    over: float = 0.0,
) -> dict[str, Any]:
    out = data / "delivered.jsonl"
    workers = [start_store_worker(data, url, out, store_url, 4, data / "commits") for _ in range(2)]
    go, results = SPAWN.Event(), SPAWN.Queue()
    shares = [list(range(n, residents, clients)) for n in range(clients)]
    processes = [
        SPAWN.Process(
            target=client_main,
            args=(
                str(data),
                url,
                str(out),
                store_url,
                listing,
                share,
                go,
                results,
                25,
                over,
                residents,
            ),
        )
        for share in shares
    ]
    try:
        for process in processes:
            process.start()
        time.sleep(3)  # every client has built its engine and waits
        started = time.perf_counter()
        go.set()
        answers = [results.get(timeout=900) for _ in processes]
        elapsed = time.perf_counter() - started
        for process in processes:
            process.join(30)
    finally:
        for worker in workers:
            stop(worker)
    outcomes = [outcome for _, found in answers for outcome, _ in found]
    latencies = sorted(latency for _, found in answers for _, latency in found)
    held = sorted(lat for _, found in answers for outcome, lat in found if outcome == "ordered")
    return {
        "elapsed": elapsed,
        "per_second": residents / elapsed,
        "ordered": outcomes.count("ordered"),
        "sold_out": outcomes.count("sold_out"),
        "lost": outcomes.count("lost"),
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "p95_held_ms": held[int(len(held) * 0.95) - 1] * 1000 if held else 0.0,
    }


# -- the bare primitive ----------------------------------------------------------------------------


def primitive_main(
    store_dir: str, url: str, listing: str, ids: list[str], go: Any, results: Any
) -> None:
    app = build_for_tests(store=store_at(store_dir), clock=SystemClock(), holds=redis_counter(url))
    go.wait()
    started = time.perf_counter()
    for person in ids:
        stock.hold_now(app, listing, person, person, 1, app.clock.now())
    results.put(time.perf_counter() - started)


def counter_main(
    store_dir: str, url: str, listing: str, ids: list[str], go: Any, results: Any
) -> None:
    """The counter's step alone: the figures are read once, as a snapshot would read them."""
    app = build_for_tests(store=store_at(store_dir), clock=SystemClock(), holds=redis_counter(url))
    with app.store.snapshot() as tx:
        doc = tx.require(orders.LISTINGS, listing)
        people_of = {p: tx.require("people", p) for p in ids}
    mirror, quota, limit = stock.mirror_of(doc), stock.quota_of(None), int(doc["limit"])
    expires = time.time() + 600
    records = [
        {
            "id": new_id("hd"),
            "listing_id": listing,
            "person_id": p,
            "by": p,
            "household": household_key(people_of[p]),
            "quantity": 1,
            "expires": expires,
            "waitlist_id": "",
        }
        for p in ids
    ]
    go.wait()
    started = time.perf_counter()
    for record in records:
        outcome = app.holds.hold(record, mirror, quota, limit)
        assert outcome.kind == "ok", outcome
    results.put(time.perf_counter() - started)


def primitive(
    store_dir: str, url: str, listing: str, ids: list[str], processes: int, target: Any
) -> float:
    go, results = SPAWN.Event(), SPAWN.Queue()
    shares = [ids[n::processes] for n in range(processes)]
    started_all = [
        SPAWN.Process(target=target, args=(str(store_dir), url, listing, s, go, results))
        for s in shares
    ]
    for process in started_all:
        process.start()
    time.sleep(2)
    started = time.perf_counter()
    go.set()
    for _ in started_all:
        while True:
            try:
                results.get(timeout=5)
                break
            except queue.Empty:
                if not all(process.is_alive() for process in started_all):
                    raise RuntimeError("a primitive process died") from None
    elapsed = time.perf_counter() - started
    for process in started_all:
        process.join(30)
    return len(ids) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=1000)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--holds", type=int, default=20000, help="holds for the primitive")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--store-url", default="", help="run on this PostgreSQL server")
    parser.add_argument(
        "--postgres", action="store_true", help="run on a PostgreSQL server of our own"
    )
    parser.add_argument(
        "--over",
        type=float,
        default=5.0,
        help="a second sale whose residents arrive over this many seconds (0: none)",
    )
    args = parser.parse_args()
    if args.quick:
        args.residents, args.holds = 200, 2000
    print("machine:", machine())
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.postgres or args.store_url:
        with durable_postgres(args.store_url or None) as server:
            print("store: PostgreSQL")
            run(args, lambda name: fresh_database(server, name))
    else:
        print("store: TinyDB")
        run(args, lambda name: "")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def run(args: Any, database: Any) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-flash-"))
    redis = EmbeddedRedis(root / "redis")
    try:
        url = redis.start()
        for over in (0.0, *([args.over] if args.over else [])):
            sale(args, database, root / f"sale-{over:g}", url, over)
        for name, target in (("the counter's step", counter_main), ("hold_now", primitive_main)):
            prim_dir = root / f"primitive-{target.__name__}" / "store"
            prim_listing, ids = make_sale(prim_dir, residents=args.holds, units=args.holds)
            prim_where = sale_store(prim_dir, database(f"bench_flash_{target.__name__}"))
            half = args.holds // 2
            one = primitive(prim_where, url, prim_listing, ids[:half], 1, target)
            many = primitive(prim_where, url, prim_listing, ids[half:], args.clients, target)
            with store_at(prim_where).transaction() as tx:
                final = stock.accounting(tx, redis_counter(url), prim_listing)
            print(
                f"bare hold primitive, {name}: {one:.0f} holds/s in 1 process, "
                f"{many:.0f} holds/s in {args.clients} processes"
            )
            print(f"  accounting: {final}")
            assert final["held"] == args.holds and final["available"] == 0, final
    finally:
        redis.stop()
        shutil.rmtree(root, ignore_errors=True)


def sale(args: Any, database: Any, data: Path, url: str, over: float) -> None:
    """One sale through the engine: all at once (``over`` 0), or arrivals over ``over`` s."""
    listing, _ = make_sale(data / "store", residents=args.residents, units=args.units)
    store_url = database("bench_flash")
    sale_store(data / "store", store_url)
    engine = through_the_engine(
        data, url, listing, args.residents, args.clients, store_url, over=over
    )
    store = store_at(store_url or str(data / "store"))
    with store.transaction() as tx:
        counts = stock.accounting(tx, redis_counter(url), listing)
    store.close()
    how = f"arriving over {over:g} s" if over else "all at once, 25 at a time per client"
    print(
        f"through the engine, {how}: {args.residents} residents, {args.units} units, "
        f"{args.clients} client processes, 2 workers: {engine['elapsed']:.1f} s, "
        f"{engine['per_second']:.0f} residents/s; "
        f"ordered {engine['ordered']}, sold out {engine['sold_out']}, lost {engine['lost']}"
    )
    print(
        f"  order -> held: p50 {engine['p50_ms']:.0f} ms, p95 {engine['p95_ms']:.0f} ms "
        f"(p95 of the 100 that got one: {engine['p95_held_ms']:.0f} ms)"
    )
    oversold = max(0, counts["held"] + counts["ordered"] - counts["stock"])
    lost = counts["stock"] - counts["available"] - counts["held"] - counts["ordered"]
    print(f"  accounting: {counts}; oversold {oversold}, lost {lost}")
    assert oversold == 0 and lost == 0 and engine["ordered"] == min(args.units, args.residents)


if __name__ == "__main__":
    main()
