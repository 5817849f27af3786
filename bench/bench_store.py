"""Benchmark of the TinyDB store: hot-path latency whatever the history, and claims under contention.

For 1k, 10k and 100k closed (archived) requests it measures, as p50/p95:

- a conversation-state write (read, change, put) in a hot collection of 200 documents;
- a new request put, and closing + archiving a request;
- a read by id of a hot document and of an archived one (and, once, the first
  archived read of a fresh process, which builds the archive index);
- for reference, an insert by plain TinyDB (default JSONStorage) into a table
  that holds the same number of records.

Then claims per second, with one process and with four competing processes.

Usage::

    python bench/bench_store.py            # the full run, about a minute
    python bench/bench_store.py --quick    # 1k and 10k only, fewer samples
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from tinydb import TinyDB

from assistant.store.base import Doc, new_id
from assistant.store.tinydb_store import TinyDbStore

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


def prepare(store: TinyDbStore) -> None:
    """The hot documents every size shares: 200 conversations and 100 open requests."""
    with store.transaction() as tx:
        for number in range(HOT_CONVERSATIONS):
            tx.put("conversations", f"c-{number:03d}", conversation(number))
        for number in range(OPEN_REQUESTS):
            tx.put("requests", f"open-{number:03d}", request(number, "open"))


def archive_closed(store: TinyDbStore, start: int, end: int) -> None:
    """Add closed requests ``start``..``end`` to the archive, in batches of 2,000."""
    for first in range(start, end, 2000):
        with store.transaction() as tx:
            for number in range(first, min(first + 2000, end)):
                doc_id = f"closed-{number:06d}"
                tx.put("requests", doc_id, request(number, "done"))
                tx.archive("requests", doc_id)


def measure_store(store: TinyDbStore, size: int, samples: int) -> dict[str, list[float]]:
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

    fresh = TinyDbStore(store.directory)
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


def claim_until_none(directory: str, worker: int, start: Any, results: Any) -> None:
    """Claim open tasks one unit of work at a time until none is left."""
    store = TinyDbStore(directory)
    start.wait(60)
    claimed = 0
    while True:
        with store.transaction() as tx:
            open_tasks = tx.find("tasks", status="open")
            if open_tasks:
                task = open_tasks[0]
                task.update(status="claimed", claimed_by=f"v-{worker}")
                tx.put("tasks", task["id"], task)
        if not open_tasks:
            break
        claimed += 1
    results.put(claimed)
    store.close()


def measure_claims(folder: Path, tasks: int, processes: int) -> float:
    """Claims per second when ``processes`` processes compete for ``tasks`` open tasks."""
    directory = folder / f"claims-{processes}"
    store = TinyDbStore(directory)
    with store.transaction() as tx:
        for number in range(tasks):
            tx.put("tasks", f"t-{number:04d}", {"status": "open", "claimed_by": None})
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Event(), spawn.Queue()
    workers = [
        spawn.Process(target=claim_until_none, args=(str(directory), worker, start, results))
        for worker in range(processes)
    ]
    for worker in workers:
        worker.start()
    began = time.perf_counter()
    start.set()
    claimed = sum(results.get(timeout=600) for _ in workers)
    elapsed = time.perf_counter() - began
    for worker in workers:
        worker.join(60)
    with store.snapshot() as tx:
        owners = [task["claimed_by"] for task in tx.all("tasks")]
    assert claimed == tasks and None not in owners, "a task was lost or claimed twice"
    store.close()
    return tasks / elapsed


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
    args = parser.parse_args()
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    samples = 40 if args.quick else 300
    folder = Path(tempfile.mkdtemp(prefix="bench-store-", dir=args.dir))
    try:
        run(folder, sizes, samples, quick=args.quick)
    finally:
        shutil.rmtree(folder)


def run(folder: Path, sizes: list[int], samples: int, *, quick: bool) -> None:
    print("\n".join(machine(folder)))
    store = TinyDbStore(folder / "store")
    prepare(store)
    latency: dict[int, dict[str, list[float]]] = {}
    plain: dict[int, list[float]] = {}
    archived = 0
    for size in sizes:
        started = time.perf_counter()
        archive_closed(store, archived, size)
        archived = size
        print(f"\n{size:,} closed requests archived ({time.perf_counter() - started:.1f} s)")
        latency[size] = measure_store(store, size, samples)
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

    header = ["operation (ms)"] + [f"{size:,} p50 / p95" for size in sizes]
    rows = [[name] + [ms(latency[size][name]) for size in sizes] for name in latency[sizes[0]]]
    rows[-1][1:] = [f"{latency[size][rows[-1][0]][0] * 1000:.0f}" for size in sizes]
    rows.append(["plain TinyDB insert"] + [ms(plain[size], count=True) for size in sizes])
    ratios = [
        percentiles(plain[size])[0] / percentiles(latency[size]["new request put"])[0]
        for size in sizes
    ]
    rows.append(["plain TinyDB / store put, p50"] + [f"{ratio:.0f}x" for ratio in ratios])
    print_table(f"TinyDbStore, {samples} writes per row (reads x4)", header, rows)

    tasks = 100 if quick else 400
    claims = [
        [f"{count} process(es), {tasks} tasks", f"{measure_claims(folder, tasks, count):.0f}"]
        for count in (1, 4)
    ]
    print_table("Claims (find first open task, mark it claimed)", ["run", "claims/s"], claims)


def ms(samples: list[float], *, count: bool = False) -> str:
    p50, p95 = percentiles(samples)
    return f"{p50:.2f} / {p95:.2f}" + (f" (n={len(samples)})" if count else "")


if __name__ == "__main__":
    main()
