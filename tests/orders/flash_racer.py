"""One process of the flash sale: it waits for "go", then its residents order one unit each.

Run as ``python flash_racer.py <store dir> <listing id> <ids file> <first> <count> <redis url>
<mode> <queue>``; prints ``ready``, reads ``go``, then prints one JSON line of what it saw. Each
resident holds 1 unit (in the shared hold counter at the Redis URL, as the chat does) and confirms
it (one unit of work). Mode ``victim`` holds one unit for its first resident, prints ``held <hold
id>`` and then waits to be SIGKILLed. Mode ``chat`` plays each resident through the product's
engine instead, as in chat ("1 box" on the card, the pickup point, "place order"); the person ids
told "ordered" are its ``confirmed``. Queue ``broker`` makes the units hand their due timers to
the real broker on that Redis too (a Redis that is down then fails the hand-out *after* the
commit: the order is kept, the timer's lease brings it back); ``memory`` keeps them in-process.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from assistant.app import App
from assistant.bootstrap import SHARDED, build_for_tests, redis_counter
from assistant.clock import SystemClock
from assistant.conversation.buttons import ShopButton, ShopVerb
from assistant.conversation.vocabulary import Incoming, Kind, make_address
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
    if mode == "chat":
        asyncio.run(chat(app, listing_id, ids, int(first), seen))
        seen["seconds"] = time.perf_counter() - started
        print(json.dumps(seen), flush=True)
        return
    for person in ids:
        try:
            held = patiently(seen, lambda p=person: stock.hold_now(app, listing_id, p, p, 1, now()))
        except (orders.SoldOut, orders.NotEnough):
            seen["sold_out"] = int(seen["sold_out"]) + 1  # type: ignore[call-overload]
            continue
        except Exception as error:  # Redis down for longer than a resident waits
            note(seen, type(error).__name__)
            continue
        try:
            order = patiently(seen, lambda h=held, p=person: confirm(app, h["id"], p, way))
            confirmed.append(order["id"])
        except Exception as error:
            note(seen, type(error).__name__)
    seen["seconds"] = time.perf_counter() - started
    print(json.dumps(seen), flush=True)


PATIENCE = 100
"""Tries of a resident whose step failed for want of Redis, 50 ms apart (as one taps again)."""


def now() -> Any:
    return SystemClock().now()


def confirm(app: App, hold_id: str, person: str, way: str) -> dict[str, Any]:
    with app.unit() as tx:
        return ordering.confirm(tx, app, hold_id, person, way, app.clock.now())


def note(seen: dict[str, Any], what: str) -> None:
    seen["other"][what] = seen["other"].get(what, 0) + 1


def patiently(seen: dict[str, Any], step: Any) -> Any:
    """``step()``, tried again while it fails for another reason than a refusal of the sale."""
    for attempt in range(PATIENCE):
        try:
            return step()
        except orders.OrdersError:
            raise
        except Exception:
            if attempt == PATIENCE - 1:
                raise
            seen["retried"] = seen.get("retried", 0) + 1
            time.sleep(0.05)
    raise AssertionError("unreachable")


async def chat(app: App, listing_id: str, ids: list[str], first: int, seen: dict[str, Any]) -> None:
    """Each resident in turn, through the engine: the card's "1 box", the pickup point, "order"."""
    from handlers import build_engine

    engine = build_engine(app)
    card = ShopButton(ShopVerb.HOLD, listing_id, 1).encode()
    for number, person in enumerate(ids, start=first):
        sender = make_address("console", f"r{number}")

        async def press(value: str, sender: str = sender) -> str:
            for _ in range(PATIENCE):  # "something went wrong": the resident taps again
                replies = await engine.handle(Incoming(sender=sender, kind=Kind.PRESS, press=value))
                said = "\n".join(m.reply.text for m in replies)
                if "出了点小问题" not in said:
                    return said
                seen["retried"] = seen.get("retried", 0) + 1
                await asyncio.sleep(0.05)
            return said

        said = await press(card)
        if "已经给您留了" not in said:
            key = "sold_out" if "卖完" in said else said[:12]
            if key == "sold_out":
                seen["sold_out"] += 1
            else:
                seen["other"][key] = seen["other"].get(key, 0) + 1
            continue
        await press("pickup:desk")
        said = await press("yes")
        if "下单成功" in said:
            seen["confirmed"].append(person)
        else:
            seen["other"][said[:12]] = seen["other"].get(said[:12], 0) + 1


if __name__ == "__main__":
    main(*sys.argv[1:9])
