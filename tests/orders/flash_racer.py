"""One process of the flash sale: it waits for "go", then its residents order one unit each.

Run as ``python flash_racer.py <store dir> <listing id> <ids file> <first> <count> <redis url>
<mode> <queue>``; prints ``ready``, reads ``go``, then prints one JSON line of what it saw. Each
resident holds 1 unit (in the shared hold counter at the Redis URL, as the chat does) and confirms
it (one unit of work). Mode ``victim`` holds one unit for its first resident, prints ``held <hold
id>`` and then waits to be SIGKILLed. Queue ``broker`` makes the units hand their due timers to
the real broker on that Redis too (a Redis that is down then fails the hand-out *after* the
commit: the order is kept, the timer's lease brings it back); ``memory`` keeps them in-process.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from assistant.bootstrap import SHARDED, build_for_tests, redis_counter
from assistant.clock import SystemClock
from assistant.queue import MemoryQueue
from assistant.services import orders
from assistant.services.orders import ordering, stock
from assistant.store.tinydb_store import TinyDbStore


def main(
    store_dir: str,
    listing_id: str,
    ids_file: str,
    first: str,
    count: str,
    url: str,
    mode: str,
    queue_mode: str,
) -> None:
    ids = Path(ids_file).read_text(encoding="utf-8").split()[int(first) : int(first) + int(count)]
    queue: object = MemoryQueue()
    if queue_mode == "broker":
        from workers.broker import DramatiqQueue, make_broker

        queue = DramatiqQueue(make_broker(url))
    app = build_for_tests(
        store=TinyDbStore(store_dir, shards=SHARDED),
        clock=SystemClock(),
        queue=queue,
        holds=redis_counter(url),
    )
    way = "pickup:desk"
    print("ready", flush=True)
    sys.stdin.readline()
    if mode == "victim":
        held = stock.hold_now(app, listing_id, ids[0], ids[0], 1, app.clock.now())
        print(f"held {held['id']}", flush=True)
        threading.Event().wait()
    seen: dict[str, object] = {"confirmed": [], "sold_out": 0, "after_commit": 0, "other": {}}
    confirmed: list[str] = seen["confirmed"]  # type: ignore[assignment]
    started = time.perf_counter()
    for person in ids:
        try:
            held = stock.hold_now(app, listing_id, person, person, 1, app.clock.now())
        except (orders.SoldOut, orders.NotEnough):
            seen["sold_out"] = int(seen["sold_out"]) + 1  # type: ignore[call-overload]
            continue
        except Exception as error:  # a Redis that is down: no hold (or no hand-out after commit)
            seen["after_commit"] = int(seen["after_commit"]) + 1  # type: ignore[call-overload]
            other = seen["other"]
            assert isinstance(other, dict)
            other[type(error).__name__] = other.get(type(error).__name__, 0) + 1
            continue
        try:
            with app.unit() as tx:
                order = ordering.confirm(tx, app, held["id"], person, way, app.clock.now())
            confirmed.append(order["id"])
        except Exception as error:
            other = seen["other"]
            assert isinstance(other, dict)
            other[type(error).__name__] = other.get(type(error).__name__, 0) + 1
    seen["seconds"] = time.perf_counter() - started
    print(json.dumps(seen), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:9])
