"""Benchmark: a notice to 3,000 people on Telegram, then 3,000 taps on "收到".

The product's own processes do the work: two ``assistant worker`` processes
(``runtime.run_worker``: dramatiq on the embedded Redis, ``TelegramDelivery`` with the
Redis-shared flood limits) and one ``assistant scheduler`` (``runtime.run_scheduler``),
on the real TinyDB store (sharded as ``bootstrap.SHARDED``) holding 60 micro-grids of 50
households. A child process runs the fake Bot API with Telegram's flood limits (30 msg/s
per bot, 1/s per chat), so its work is not charged to ours.

This process confirms the notice (``notices.create`` in one unit of work), then waits for
the copies to arrive at the fake. Reported:

* copies per second between the first and the last arrival, against the 30 msg/s
  ceiling (goal ≥ 95 %); what goes through: the fan-out rounds (durable timers handed
  out by the scheduler), the outbox timers, the send-once marks, the sender;
* the 429 answers of the fake (goal 0) and whether each person got exactly one copy;
* acknowledgement taps: 3,000 presses of "收到" through the product's engine (32 at a
  time, as many people tapping at once), taps per second (goal ≥ 100/s), the hot files
  each tap's commits write (the cost that matters on TinyDB: each is a rewrite and an
  fsync), and how long the coordinator's view (``notices.rates``) takes to read once the
  last tap returned.

Run: ``python bench/bench_notices.py`` (``--quick``: 300 people).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "telegram")]

from fake_bot_api import FakeBotApi, FloodLimits  # noqa: E402

SPAWN = multiprocessing.get_context("spawn")
FIRST_UID = 50_000
AUTHOR_UID = 49_999
PER_GRID = 50
TAPPING_AT_ONCE = 32


# -- the fake Telegram, in a child process ------------------------------------------------------


async def _child_main(conn: Connection, people: int) -> None:
    fake = FakeBotApi(limits=FloodLimits())
    await fake.start()
    fake.user(AUTHOR_UID, "网格员")
    for n in range(people):
        fake.user(FIRST_UID + n, "居民")
    conn.send((fake.base_url, fake.base_file_url, fake.token))
    while True:
        command = await asyncio.to_thread(conn.recv)
        if command == "count":
            conn.send(sum(len(fake.arrivals.get(FIRST_UID + n, [])) for n in range(people)))
        elif command == "result":
            per_chat = {FIRST_UID + n: fake.arrivals.get(FIRST_UID + n, []) for n in range(people)}
            conn.send({"per_chat": per_chat, "throttled": fake.throttled})
        elif command == "exit":
            await fake.stop()
            conn.send(True)
            return


def child(conn: Connection, people: int) -> None:
    asyncio.run(_child_main(conn, people))


# -- the product's processes ----------------------------------------------------------------------


def _settings(data: Path, redis_url: str, connection: tuple[str, str, str]) -> Any:
    from assistant.config import defaults

    base_url, base_file_url, token = connection
    return defaults().with_values(
        storage={"dir": str(data)},
        redis={"url": redis_url},
        telegram={"token": token, "base_url": base_url, "base_file_url": base_file_url},
        workers={"threads": 16},
    )


def worker_process(settings: Any) -> None:
    import logging

    from assistant import runtime

    logging.basicConfig(level=logging.ERROR)
    runtime.run_worker(settings)


def scheduler_process(settings: Any) -> None:
    import logging

    from assistant import runtime

    logging.basicConfig(level=logging.ERROR)
    runtime.run_scheduler(settings)


def _populate(store: Any, people: int, now: str) -> str:
    """Grids of 50 households, one resident each on Telegram; the coordinator; her id."""
    from assistant.services import people as people_face
    from assistant.services.people import community

    grids = (people + PER_GRID - 1) // PER_GRID
    with store.transaction() as tx:
        for g in range(grids):
            tx.put(community.GRIDS, f"g{g:02}", {"name": f"水晶城{g}网格", "neighbours": []})
        for n in range(people):
            g = n // PER_GRID
            people_face.create_person(
                tx,
                name=f"居民{n}",
                address=f"telegram:{FIRST_UID + n}",
                language="zh_CN",
                now=now,
                grid_id=f"g{g:02}",
                household={"complex": "水晶城", "building": str(g), "unit": "1", "room": str(n)},
            )
        author = people_face.create_person(
            tx,
            name="网格员小周",
            address=f"telegram:{AUTHOR_UID}",
            language="zh_CN",
            now=now,
            roles=(people_face.RESIDENT, people_face.COORDINATOR),
        )
        author["coordinator_grids"] = [f"g{g:02}" for g in range(grids)]
        tx.put(people_face.PEOPLE, author["id"], author)
    return str(author["id"])


class _Written:
    """Counts the hot files this process's commits write, by collection (what a tap costs)."""

    def __init__(self) -> None:
        from assistant.store import tinydb_store

        self.module = tinydb_store
        self.original = getattr(tinydb_store, "write_temp")  # noqa: B009
        self.files: Counter[str] = Counter()

    def __enter__(self) -> _Written:
        def counted(target: Path, data: bytes) -> Path:
            self.files[target.name.split(".")[0]] += 1
            found: Path = self.original(target, data)
            return found

        setattr(self.module, "write_temp", counted)  # noqa: B010
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(self.module, "write_temp", self.original)  # noqa: B010


async def _taps(app: Any, notice_id: str, people: int) -> tuple[float, float, int]:
    """Every resident taps "收到"; taps per second, the view's read time, households acked."""
    from assistant.conversation.buttons import NoticeButton, NoticeVerb
    from assistant.conversation.vocabulary import Incoming, Kind, parse_address
    from assistant.services import notices
    from handlers import build_engine

    engine = build_engine(app)
    value = NoticeButton(NoticeVerb.ACK, notice_id).encode()
    gate = asyncio.Semaphore(TAPPING_AT_ONCE)

    async def tap(n: int) -> None:
        incoming = Incoming(
            sender=parse_address(f"telegram:{FIRST_UID + n}"), kind=Kind.PRESS, press=value
        )
        async with gate:
            await engine.handle(incoming)

    started = time.perf_counter()
    with _Written() as written:
        await asyncio.gather(*(tap(n) for n in range(people)))
    tapped = time.perf_counter() - started
    per_tap = {name: round(count / people, 2) for name, count in sorted(written.files.items())}
    print(f"files written per tap: {per_tap}", flush=True)
    read = time.perf_counter()
    with app.store.snapshot() as tx:
        rates = notices.rates(tx, tx.require(notices.NOTICES, notice_id))
    view = time.perf_counter() - read
    return people / tapped, view, sum(r.acked for r in rates)


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}"


def main(quick: bool) -> None:
    from assistant import runtime
    from assistant.bootstrap import SHARDED
    from assistant.clock import SystemClock, to_iso
    from assistant.redis_server import EmbeddedRedis
    from assistant.services import notices
    from assistant.store.tinydb_store import TinyDbStore

    people = 300 if quick else 3000
    print(f"bench_notices: {people} people, {machine()}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        data.mkdir()
        redis = EmbeddedRedis(data / "redis")
        url = redis.start()
        parent, child_end = SPAWN.Pipe()
        fake = SPAWN.Process(target=child, args=(child_end, people), daemon=True)
        fake.start()
        connection = parent.recv()
        settings = _settings(data, url, connection)
        store = TinyDbStore(data / "store", shards=SHARDED)
        author = _populate(store, people, to_iso(SystemClock().now()))
        store.close()
        processes = [SPAWN.Process(target=worker_process, args=(settings,)) for _ in range(2)]
        processes.append(SPAWN.Process(target=scheduler_process, args=(settings,)))
        for process in processes:
            process.start()
        app = runtime.production_app(settings, url)
        try:
            time.sleep(3)  # the workers connect to Redis and start consuming
            grids = tuple(f"g{g:02}" for g in range((people + PER_GRID - 1) // PER_GRID))
            draft = notices.Draft(author, grids, "【停水通知】明天上午9点到11点停水，请提前储水。")
            confirmed = time.perf_counter()
            with app.unit() as tx:
                notice = notices.create(tx, app, draft, app.clock.now())
            create_s = time.perf_counter() - confirmed
            deadline = time.monotonic() + people / 30 * 3 + 60
            while time.monotonic() < deadline:
                parent.send("count")
                if parent.recv() >= people:
                    break
                time.sleep(0.5)
            all_out = time.perf_counter() - confirmed
            parent.send("result")
            result = parent.recv()
            times = sorted(t for arrived in result["per_chat"].values() for t in arrived)
            per_person = Counter(len(arrived) for arrived in result["per_chat"].values())
            span = times[-1] - times[0] if len(times) > 1 else 0.0
            rate = (len(times) - 1) / span if span else 0.0
            print(
                f"confirm (notice, households, {people} recipients in batches): {create_s * 1000:.0f} ms",
                flush=True,
            )
            print(
                f"copies: {len(times)} in {span:.1f} s = {rate:.2f} msg/s = {rate / 30 * 100:.1f}% "
                f"of 30 msg/s; confirm to last copy {all_out:.1f} s; 429s {result['throttled']}; "
                f"copies per person {dict(per_person)}",
                flush=True,
            )
            taps, view, acked = asyncio.run(_taps(app, notice["id"], people))
            print(
                f"taps: {people} '收到' at {taps:.0f} taps/s ({TAPPING_AT_ONCE} at once); "
                f"coordinator's view read in {view * 1000:.1f} ms, {acked}/{people} households",
                flush=True,
            )
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(15)
                if process.is_alive():
                    process.kill()
            parent.send("exit")
            parent.recv()
            fake.join(10)
            redis.stop()


if __name__ == "__main__":
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--quick", action="store_true", help="300 people instead of 3,000")
    main(options.parse_args().quick)
