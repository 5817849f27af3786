"""Benchmark of the stores: hot-path latency whatever the history, and claims under contention.

TinyDB and PostgreSQL side by side in the same run (``--no-postgres`` leaves
PostgreSQL out). PostgreSQL is a server of the benchmark's own, started with
durable settings (fsync, synchronous commit and full-page writes on), unless
``--pg-url`` names one. For 1k, 10k and 100k closed (archived) requests it
measures, as p50/p95:

- a conversation-state write (read, change, put) in a hot collection of 200 documents;
- a new request put, and closing + archiving a request;
- a read by id of a hot document and of an archived one (and, once, the first
  archived read of a fresh process, which builds the archive index);
- for reference, an insert by plain TinyDB (default JSONStorage) into a table
  that holds the same number of records.

Then claims per second, with 1, 4 and 8 competing processes, two ways: "find
the first open task" (every claimer asks the same question, so they queue on it
in either store) and "claim by id" (each claimer tries the tasks in its own
order, first claim wins: how offers are accepted). By id every process tries
every task, so N processes do N times the units of work for the same claims:
the units of work per second are printed beside the claims.

Usage::

    python bench/bench_store.py            # the full run, a few minutes
    python bench/bench_store.py --quick    # 1k and 10k only, fewer samples
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from tinydb import TinyDB

from assistant.store.base import Doc, Store, new_id
from assistant.store.tinydb_store import TinyDbStore

ROOT = Path(__file__).resolve().parents[1]

HOT_CONVERSATIONS = 200
OPEN_REQUESTS = 100
PLAIN_SAMPLES = {1_000: 60, 10_000: 15, 100_000: 5}


def request(number: int, status: str) -> Doc:
    """A care request of a realistic size (about 500 bytes of JSON)."""
    return {
        "kind": "care",
        "service": "escort",
        "status": status,
        "person_id": f"p-{number % 5000:05d}",
        "booked_by": f"p-{(number * 7) % 5000:05d}",
        "grid_id": f"g-{number % 12:02d}",
        "slot": {"day": "2025-03-14", "start": "09:00", "end": "11:00"},
        "address": "锦绣家园 3栋 2单元 501",
        "notes": "需要轮椅，去县医院复诊，走绿色通道",
        "volunteer_id": f"v-{number % 300:03d}",
        "history": [
            {"at": "2025-03-13T18:02:11+08:00", "event": "booked"},
            {"at": "2025-03-13T18:05:40+08:00", "event": "assigned"},
            {"at": "2025-03-14T11:20:02+08:00", "event": status},
        ],
        "rating": 5,
    }


def conversation(number: int) -> Doc:
    return {
        "address": f"telegram:{100000 + number}",
        "state": "care.when",
        "turn": 0,
        "data": {"service": "escort", "for": "self", "language": "zh"},
    }


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    ordered = sorted(samples)

    def pick(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    return pick(0.50), pick(0.95)


def clocked(work: Callable[[], Any]) -> float:
    """Seconds that one call takes."""
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def timed(work: Callable[[int], Any], count: int) -> list[float]:
    return [clocked(partial(work, number)) for number in range(count)]


# --- the store ---------------------------------------------------------------------------------


def open_store(where: str) -> Store:
    """The store at ``where``: a PostgreSQL URL, or a TinyDB folder."""
    if where.startswith(("postgresql://", "postgres://")):
        from assistant.store.postgres import PostgresStore

        return PostgresStore(where)
    return TinyDbStore(Path(where))


def fresh_database(server_url: str, name: str) -> str:
    """A new, empty, up-to-date database on the server; its URL."""
    import psycopg

    from assistant.store.postgres import upgrade

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = server_url.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    return url


@contextmanager
def durable_postgres(url: str | None) -> Iterator[str]:
    """A PostgreSQL server's URL: ``url``, or a server of our own with durable settings."""
    if url:
        yield url
        return
    sys.path.insert(0, str(ROOT / "tests" / "store"))
    from pg_server import PostgresServer

    server = PostgresServer(fsync=True)
    try:
        yield server.start()
    finally:
        server.stop()


def prepare(store: Store) -> None:
    """The hot documents every size shares: 200 conversations and 100 open requests."""
    with store.transaction() as tx:
        for number in range(HOT_CONVERSATIONS):
            tx.put("conversations", f"c-{number:03d}", conversation(number))
        for number in range(OPEN_REQUESTS):
            tx.put("requests", f"open-{number:03d}", request(number, "open"))


def archive_closed(store: Store, start: int, end: int) -> None:
    """Add closed requests ``start``..``end`` to the archive, in batches of 2,000."""
    for first in range(start, end, 2000):
        with store.transaction() as tx:
            for number in range(first, min(first + 2000, end)):
                doc_id = f"closed-{number:06d}"
                tx.put("requests", doc_id, request(number, "done"))
                tx.archive("requests", doc_id)


def measure_store(store: Store, where: str, size: int, samples: int) -> dict[str, list[float]]:
    chance = random.Random(size)

    def write_state(number: int) -> None:
        with store.transaction() as tx:
            doc = tx.require("conversations", f"c-{number % HOT_CONVERSATIONS:03d}")
            doc["turn"] += 1
            doc["state"] = "care.confirm" if doc["turn"] % 2 else "care.when"
            tx.put("conversations", doc["id"], doc)

    created: list[str] = []

    def put_request(number: int) -> None:
        doc_id = new_id("req")
        with store.transaction() as tx:
            tx.put("requests", doc_id, request(number, "open"))
        created.append(doc_id)

    def close_request(number: int) -> None:
        with store.transaction() as tx:
            doc = tx.require("requests", created[number])
            doc["status"] = "done"
            tx.put("requests", doc["id"], doc)
            tx.archive("requests", doc["id"])

    put_samples: list[float] = []
    close_samples: list[float] = []
    for number in range(samples):  # one opened, one closed: the hot file keeps its size
        put_samples.append(clocked(partial(put_request, number)))
        close_samples.append(clocked(partial(close_request, number)))

    def read_hot(number: int) -> None:
        with store.snapshot() as tx:
            tx.require("conversations", f"c-{chance.randrange(HOT_CONVERSATIONS):03d}")

    def read_archived(number: int) -> None:
        with store.snapshot() as tx:
            tx.require("requests", f"closed-{chance.randrange(size):06d}")

    fresh = open_store(where)
    start = time.perf_counter()
    with fresh.snapshot() as tx:
        tx.require("requests", "closed-000000")
    first_read = [time.perf_counter() - start]
    fresh.close()
    return {
        "conversation-state write": timed(write_state, samples),
        "new request put": put_samples,
        "close + archive a request": close_samples,
        "read by id, hot": timed(read_hot, samples * 4),
        "read by id, archived": timed(read_archived, samples * 4),
        "first archived read, fresh store": first_read,
    }


# --- plain TinyDB, for reference ----------------------------------------------------------------


def measure_plain_tinydb(folder: Path, size: int, samples: int) -> list[float]:
    path = folder / f"plain-{size}.json"
    with TinyDB(path) as database:
        table = database.table("requests")
        table.insert_multiple(request(number, "done") for number in range(size))
        result = timed(lambda number: table.insert(request(number, "open")), samples)
    path.unlink()
    return result


# --- claims -------------------------------------------------------------------------------------


def claim_until_none(
    where: str, worker: int, by_id: bool, ready: Any, start: Any, results: Any
) -> None:
    """Claim open tasks one unit of work at a time until none is left.

    ``by_id``: try the tasks in this worker's own order, each by id (the first
    claim of a task wins); else ask "the first open task" each time.
    """
    store = open_store(where)
    order: list[str] = []
    if by_id:
        with store.snapshot() as view:
            order = [task["id"] for task in view.all("tasks")]
        random.Random(worker).shuffle(order)
    ready.put(worker)
    start.wait(600)
    claimed = attempts = 0
    while not by_id or order:
        attempts += 1
        with store.transaction() as tx:
            if by_id:  # one task per unit of work: taken already, or ours
                task: Doc | None = tx.require("tasks", order.pop())
                if task is not None and task["status"] != "open":
                    continue
            else:
                open_tasks = tx.find("tasks", status="open")
                task = open_tasks[0] if open_tasks else None
            if task is not None:
                task.update(status="claimed", claimed_by=f"v-{worker}")
                tx.put("tasks", task["id"], task)
        if task is None:
            break
        claimed += 1
    results.put((claimed, attempts))
    store.close()


def measure_claims(where: str, tasks: int, processes: int, *, by_id: bool) -> tuple[float, float]:
    """Claims per second when ``processes`` processes compete for ``tasks`` open tasks, and
    units of work per second (by id every process tries every task: a claim or a refusal)."""
    store = open_store(where)
    with store.transaction() as tx:
        for number in range(tasks):
            tx.put("tasks", f"t-{number:04d}", {"status": "open", "claimed_by": None})
    spawn = multiprocessing.get_context("spawn")
    ready, start, results = spawn.Queue(), spawn.Event(), spawn.Queue()
    workers = [
        spawn.Process(target=claim_until_none, args=(where, worker, by_id, ready, start, results))
        for worker in range(processes)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:  # every process has started and opened its store
        ready.get(timeout=600)
    began = time.perf_counter()
    start.set()
    answers = [results.get(timeout=600) for _ in workers]
    elapsed = time.perf_counter() - began
    claimed = sum(done for done, _ in answers)
    attempts = sum(tried for _, tried in answers)
    for worker in workers:
        worker.join(60)
    with store.snapshot() as tx:
        owners = [task["claimed_by"] for task in tx.all("tasks")]
    assert claimed == tasks and None not in owners, "a task was lost or claimed twice"
    with store.transaction() as tx:
        for number in range(tasks):
            tx.delete("tasks", f"t-{number:04d}")
    store.close()
    return tasks / elapsed, attempts / elapsed


# --- report -------------------------------------------------------------------------------------


def machine(folder: Path) -> list[str]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    fs = max((m for m in mounts if str(folder.resolve()).startswith(m[1])), key=lambda m: len(m[1]))
    return [
        f"cpu: {cpu}, {len(os.sched_getaffinity(0))} cores (nproc)",
        f"python: {platform.python_version()}, {platform.system()} {platform.release()}",
        f"disk: {fs[2]} on {fs[0]}",
    ]


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    for row in [header, ["-" * width for width in widths], *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k only, fewer samples")
    parser.add_argument("--dir", type=Path, help="where to put the files (default: a temp folder)")
    parser.add_argument("--pg-url", help="a PostgreSQL server to use (default: start our own)")
    parser.add_argument("--no-postgres", action="store_true", help="TinyDB only")
    args = parser.parse_args()
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    samples = 40 if args.quick else 300
    folder = Path(tempfile.mkdtemp(prefix="bench-store-", dir=args.dir))
    print("\n".join(machine(folder)))
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    try:
        stores = {"TinyDB": str(folder / "store")}
        with contextlib.ExitStack() as stack:
            if not args.no_postgres:
                server = stack.enter_context(durable_postgres(args.pg_url))
                stores["PostgreSQL"] = fresh_database(server, "bench_store")
            run(folder, stores, sizes, samples, quick=args.quick)
    finally:
        shutil.rmtree(folder)
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def run(
    folder: Path, stores: dict[str, str], sizes: list[int], samples: int, *, quick: bool
) -> None:
    latency: dict[str, dict[int, dict[str, list[float]]]] = {}
    plain: dict[int, list[float]] = {}
    for kind, where in stores.items():
        store = open_store(where)
        prepare(store)
        latency[kind] = {}
        archived = 0
        for size in sizes:
            started = time.perf_counter()
            archive_closed(store, archived, size)
            archived = size
            print(
                f"\n{kind}: {size:,} closed requests archived ({time.perf_counter() - started:.1f} s)"
            )
            latency[kind][size] = measure_store(store, where, size, samples)
            if kind == "TinyDB":
                print(
                    "  files: "
                    + ", ".join(
                        f"{path.name} {path.stat().st_size / 1024:,.0f} KiB"
                        for path in sorted((folder / "store").glob("*.json*"))
                    )
                )
                count = max(2, PLAIN_SAMPLES[size] // (3 if quick else 1))
                plain[size] = measure_plain_tinydb(folder, size, count)
        store.close()

    for kind in stores:
        header = ["operation (ms)"] + [f"{size:,} p50 / p95" for size in sizes]
        table = latency[kind]
        rows = [[name] + [ms(table[size][name]) for size in sizes] for name in table[sizes[0]]]
        rows[-1][1:] = [f"{table[size][rows[-1][0]][0] * 1000:.0f}" for size in sizes]
        if kind == "TinyDB":
            rows.append(["plain TinyDB insert"] + [ms(plain[size], count=True) for size in sizes])
            ratios = [
                percentiles(plain[size])[0] / percentiles(table[size]["new request put"])[0]
                for size in sizes
            ]
            rows.append(["plain TinyDB / store put, p50"] + [f"{ratio:.0f}x" for ratio in ratios])
        print_table(f"{kind}, {samples} writes per row (reads x4)", header, rows)

    tasks = 100 if quick else 400
    header = ["claims/s"] + [f"{kind}, {way}" for way in ("first open", "by id") for kind in stores]
    claims = []
    for count in (1, 4, 8):
        row = [f"{count} process(es), {tasks} tasks"]
        for by_id in (False, True):
            for where in stores.values():
                rate, units = measure_claims(where, tasks, count, by_id=by_id)
                row.append(f"{rate:.0f} ({units:.0f} units/s)" if by_id else f"{rate:.0f}")
        claims.append(row)
    print_table("Claims (mark an open task claimed, one unit of work each)", header, claims)


def ms(samples: list[float], *, count: bool = False) -> str:
    p50, p95 = percentiles(samples)
    return f"{p50:.2f} / {p95:.2f}" + (f" (n={len(samples)})" if count else "")


if __name__ == "__main__":
    main()
