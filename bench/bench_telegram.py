"""Benchmark of the Telegram channel against the local fake Bot API.

Two processes: this one runs the bot under test (our ``TelegramChannel`` with
the product's engine, or a bare PTB echo bot with the same rate limiter); a
child process runs the fake Bot API and the simulated users, so the fake's
work is not charged to the bot. Scenarios:

1. throughput: rates raised to 1,000 so the figure is our own processing;
   200 users each complete onboarding (9 updates), all at once, each waiting
   for the answer before the next step. The echo bot gets 200 users sending
   9 texts each. Reported: updates/s, reply latency p50/p95, and the ratio.
   In the same run, with the same fake and limits: 200 new users send
   ``/start`` at once (the echo bot: 200 users, one text each), and the
   ratio of first replies per second.
1b. population: a ``/start`` and a button press from people who have written
   before, one at a time, with 200, 2,000 and 10,000 of them in the store.
   Reported: p50/p95 per kind of update and the bot's CPU per update.
2. latency under the default limits: users start in a stream and answer after
   a think time, so the bot receives about 20 updates/s. Reported: p50/p95.
3. broadcast: 3,000 messages to distinct users from worker threads through
   ``TelegramDelivery`` under the default limits (30 msg/s). Reported: rate
   against the 30 msg/s ceiling, and the 429 answers (the fake enforces
   Telegram's limits).

A reply's latency is the time from the update's arrival at the fake server to
the arrival of the last message answering it. Our bot runs on the embedded
defaults: the real TinyDB store in a temporary folder (collections sharded as
``assistant.bootstrap.SHARDED``; ``--no-shards`` keeps one file per
collection, as before) holding the demo community.

Run: ``python bench/bench_telegram.py`` (``--quick`` shortens everything for CI;
``--only start,population`` picks scenarios; ``--profile`` prints a cProfile of
the bot process during the 200 ``/start``).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import io
import logging
import multiprocessing
import os
import platform
import pstats
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "telegram")]

from fake_bot_api import FakeBotApi, FloodLimits  # noqa: E402

from assistant.i18n import translator  # noqa: E402

FAST = 1000.0
ZH = translator("zh_CN")
# (kind, what, new messages that answer it) for one resident's onboarding
ONBOARDING = (
    ("text", "/start", 1),
    ("press", "✓ 中文", 1),
    ("text", "林奶奶", 1),
    ("press", "锦绣家园", 1),
    ("press", ZH.t("onboard.building_label", building="1"), 1),
    ("press", ZH.t("onboard.unit_label", unit="1"), 1),
    ("text", "302", 2),
    ("press", ZH.t("onboard.skip"), 1),
    ("press", ZH.t("onboard.accept"), 2),
)
ECHO = tuple(("text", f"你好 {n}", 1) for n in range(len(ONBOARDING)))
START = (("text", "/start", 1),)
ECHO_ONE = (("text", "你好", 1),)
CYCLES = 40
KNOWN = (("text", "/start", 1), ("press", ZH.t("menu.profile"), 1)) * CYCLES
SCRIPTS = {
    "onboarding": ONBOARDING,
    "echo": ECHO,
    "start": START,
    "echo1": ECHO_ONE,
    "known": KNOWN,
}
FIRST_UID = 10_000
PEOPLE_UID = 100_000  # people "who have written before" have these Telegram ids


# -- the child: fake Telegram and its users ---------------------------------------------------


async def _user(
    fake: FakeBotApi, uid: int, script: tuple[tuple[str, str, int], ...], think: float
) -> list[float]:
    """One simulated user going through a script; return each step's latency."""
    user = fake.user(uid, "林", "zh-hans")
    received = 0
    latencies = []
    for step, (kind, what, expect) in enumerate(script):
        if step and think:
            await asyncio.sleep(think)  # the person reads and thinks: pacing, not waiting
        if kind == "text":
            update = fake.send_text(user, what)
        else:
            update = fake.press(user, fake.last_with_buttons(uid), what)
        received += expect
        await fake.wait_for_count(uid, received, timeout=120)
        arrived = fake.update_times[update["update_id"]]
        latencies.append(fake.arrivals[uid][received - 1] - arrived)
    return latencies


async def _drive(fake: FakeBotApi, job: dict[str, Any]) -> dict[str, Any]:
    """Run one scenario's users against the fake; return the figures."""
    script = SCRIPTS[job["script"]]
    users, think, stagger = job["users"], job["think"], job["stagger"]
    first = job.get("first_uid", FIRST_UID)

    async def one(n: int) -> list[float]:
        if stagger:
            await asyncio.sleep(n * stagger)  # arrivals spread out: pacing
        return await _user(fake, first + n, script, think)

    started, cpu = time.monotonic(), time.process_time()
    results = await asyncio.gather(*(one(n) for n in range(users)))
    elapsed = time.monotonic() - started
    print(f"  (fake Telegram process busy {100 * (time.process_time() - cpu) / elapsed:.0f}%)")
    latencies = [value for result in results for value in result]
    per_step = [
        round(1000 * sorted(steps)[max(0, int(len(steps) * 0.95) - 1)], 1)
        for steps in zip(*results, strict=True)
    ]
    return {
        "steps": [list(steps) for steps in zip(*results, strict=True)],
        "per_step_p95_ms": per_step,
        "updates": len(latencies),
        "elapsed": elapsed,
        "latencies": latencies,
        "throttled": fake.throttled,
        "calls": dict(collections.Counter(method for method, _ in fake.calls)),
    }


async def _child_main(conn: Connection) -> None:
    fake: FakeBotApi | None = None
    while True:
        command, body = await asyncio.to_thread(conn.recv)
        if command == "serve":
            fake = FakeBotApi(limits=FloodLimits(**body))
            await fake.start()
            conn.send((fake.base_url, fake.base_file_url, fake.token))
        elif command == "drive":
            assert fake is not None
            conn.send(await _drive(fake, body))
        elif command == "recipients":
            assert fake is not None
            for n in range(body):
                fake.user(50_000 + n, "居民")
            conn.send(True)
        elif command == "broadcast_result":
            assert fake is not None
            times = sorted(t for chat, arrived in fake.arrivals.items() for t in arrived)
            conn.send({"times": times, "throttled": fake.throttled})
        elif command == "close":
            if fake is not None:
                await fake.stop()
            fake = None
            conn.send(True)
        elif command == "exit":
            return


def child(conn: Connection) -> None:
    """Entry point of the fake-Telegram process."""
    asyncio.run(_child_main(conn))


# -- this process: the bots under test ------------------------------------------------------


@dataclass
class Figures:
    """What one scenario measured."""

    name: str
    updates: int
    elapsed: float
    p50_ms: float
    p95_ms: float
    throttled: int
    cpu_ms: float = 0.0
    """The bot process's CPU time per update."""

    @property
    def rate(self) -> float:
        """Updates per second."""
        return self.updates / self.elapsed

    def line(self) -> str:
        """One printable line."""
        return (
            f"{self.name:<34} {self.updates:>6} updates  {self.rate:8.1f} updates/s  "
            f"p50 {self.p50_ms:7.1f} ms  p95 {self.p95_ms:7.1f} ms  429s {self.throttled}  "
            f"CPU {self.cpu_ms:.2f} ms/update"
        )


def _figures(name: str, result: dict[str, Any]) -> Figures:
    latencies = sorted(result["latencies"])
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    return Figures(
        name,
        result["updates"],
        result["elapsed"],
        statistics.median(latencies) * 1000,
        p95 * 1000,
        result["throttled"],
    )


def _settings(connection: tuple[str, str, str], rate: float | None) -> Any:
    from assistant.config import defaults

    base_url, base_file_url, token = connection
    section: dict[str, Any] = {"token": token, "base_url": base_url, "base_file_url": base_file_url}
    if rate is not None:
        section.update(
            max_messages_per_second=rate,
            max_chat_messages_per_second=rate,
            max_group_messages_per_minute=rate,
        )
    return defaults().with_values(telegram=section)


SHARDS = True  # --no-shards: every collection in one file, as before the shards


async def _our_bot(settings: Any, redis_url: str, population: int = 0) -> Any:
    """The product: TelegramChannel with the full engine, the real store, the demo community.

    ``population`` people who have written before are added: each has a
    profile, a Telegram address and a conversation record.
    """
    from assistant import demo
    from assistant.bootstrap import SHARDED, build
    from assistant.channels.telegram import TelegramChannel
    from assistant.clock import SystemClock, to_iso
    from assistant.store.tinydb_store import TinyDbStore
    from handlers import build_engine

    folder = Path(tempfile.mkdtemp(prefix="bench-store-"))
    store = TinyDbStore(folder / "store", shards=SHARDED if SHARDS else {})
    app = build(settings, store=store)
    now = to_iso(SystemClock().now())
    demo.load(app.store, now)
    _populate(app.store, population, now)
    channel = TelegramChannel(app, build_engine(app), redis_url)
    await channel.start()
    return channel


def _populate(store: Any, count: int, now: str) -> None:
    """Add ``count`` registered people with a conversation each, in one commit."""
    from assistant.conversation.engine import CONVERSATIONS
    from assistant.services import people

    if not count:
        return
    with store.transaction() as tx:
        for n in range(count):
            address = f"telegram:{PEOPLE_UID + n}"
            people.create_person(tx, name=f"居民{n}", address=address, language="zh_CN", now=now)
            record = {"state": None, "language": "zh_CN", "data": {}}
            tx.put(CONVERSATIONS, address, record)


class EchoBot:
    """A PTB echo bot with our rate limiter: PTB's default HTTP client, or ours (``tuned``)."""

    def __init__(self, settings: Any, redis_url: str, tuned: bool = False) -> None:
        self.section = settings.section("telegram")
        self.redis_url = redis_url
        self.tuned = tuned
        self.application: Any = None

    async def start(self) -> None:
        """Initialise and start polling."""
        from telegram import Update
        from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

        from assistant.channels.telegram import wiring

        client = wiring.redis_client(self.redis_url)
        limiter = wiring.rate_limiter(client, self.section)
        builder = ApplicationBuilder().concurrent_updates(256)
        if self.tuned:
            builder = builder.bot(wiring.ext_bot(self.section, limiter))
        else:
            builder = (
                builder.token(self.section["token"])
                .base_url(self.section["base_url"])
                .base_file_url(self.section["base_file_url"])
                .rate_limiter(limiter)
            )

        async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            assert update.message is not None and update.message.text is not None
            await update.message.reply_text(update.message.text)

        self.application = builder.build()
        self.application.add_handler(MessageHandler(filters.TEXT, echo))
        await self.application.initialize()
        await self.application.updater.start_polling(poll_interval=0.0, timeout=10)
        await self.application.start()

    async def stop(self) -> None:
        """Stop polling and shut down."""
        await self.application.updater.stop()
        await self.application.stop()
        await self.application.shutdown()


async def _ask(conn: Connection, command: str, body: Any = None) -> Any:
    conn.send((command, body))
    return await asyncio.to_thread(conn.recv)


async def _scenario(
    conn: Connection,
    redis_url: str,
    name: str,
    bot_kind: str,
    limits: dict[str, Any],
    rate: float | None,
    job: dict[str, Any],
    population: int = 0,
    profile: bool = False,
) -> tuple[Figures, dict[str, Any]]:
    """Start a fake, a bot on it, drive the users, stop both."""
    _flush(redis_url)
    connection = await _ask(conn, "serve", limits)
    settings = _settings(connection, rate)
    if bot_kind.startswith("echo"):
        bot: Any = EchoBot(settings, redis_url, tuned=bot_kind == "echo-tuned")
        await bot.start()
    else:
        bot = await _our_bot(settings, redis_url, population)
    profiler = cProfile.Profile() if profile else None
    try:
        cpu = time.process_time()
        if profiler is not None:
            profiler.enable()
        result = await _ask(conn, "drive", job)
        if profiler is not None:
            profiler.disable()
        used = time.process_time() - cpu
        print(f"  (bot process busy {100 * used / result['elapsed']:.0f}%)")
    finally:
        await bot.stop()
        await _ask(conn, "close")
    figures = _figures(name, result)
    figures.cpu_ms = 1000 * used / result["updates"]
    print(figures.line(), flush=True)
    if len(result["per_step_p95_ms"]) <= 10:
        print("  p95 per step (ms):", result["per_step_p95_ms"], flush=True)
    print("  Bot API calls:", result["calls"], flush=True)
    if profiler is not None:
        _print_profile(profiler, result["updates"])
    return figures, result


def _print_profile(profiler: cProfile.Profile, updates: int) -> None:
    """The top costs of the bot process, by own time and by cumulative time."""
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats(order).print_stats(25)
        print(f"  profile of {updates} updates, by {order}:")
        print("\n".join("    " + line for line in out.getvalue().splitlines()[6:]), flush=True)


async def _broadcast(conn: Connection, redis_url: str, count: int) -> dict[str, Any]:
    """Send ``count`` messages to distinct users from worker threads, default limits."""
    from assistant.channels.telegram import TelegramDelivery
    from assistant.conversation.vocabulary import Outbound, Reply, parse_address
    from assistant.store.memory import MemoryStore

    _flush(redis_url)
    connection = await _ask(conn, "serve", {})
    await _ask(conn, "recipients", count)
    delivery = TelegramDelivery(_settings(connection, None), redis_url, MemoryStore(), budget=600)
    messages = [
        Outbound(parse_address(f"telegram:{50_000 + n}"), Reply(f"社区通知 {n}：明天上午停水。"))
        for n in range(count)
    ]
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            await asyncio.get_running_loop().run_in_executor(
                None, lambda: list(pool.map(delivery.deliver, messages))
            )
        result = await _ask(conn, "broadcast_result")
    finally:
        delivery.close()
        await _ask(conn, "close")
    times = result["times"]
    span = times[-1] - times[0]
    rate = (len(times) - 1) / span if span > 0 else 0.0
    line = (
        f"{'broadcast, default limits':<34} {len(times):>6} messages {rate:8.2f} msg/s  "
        f"= {rate / 30 * 100:5.1f}% of 30 msg/s  429s {result['throttled']}"
    )
    print(line, flush=True)
    return {"sent": len(times), "rate": rate, "throttled": result["throttled"]}


def _ms(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[max(0, int(len(ordered) * share + 0.5) - 1)]


def _flush(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushall()
    client.close()


def machine() -> str:
    """nproc, CPU model and Python version."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}"


async def main(quick: bool, only: set[str], profile: bool) -> None:
    """Run every scenario and print the figures."""
    from assistant.redis_server import EmbeddedRedis

    logging.basicConfig(level=logging.WARNING)
    print("machine:", machine(), flush=True)
    folder = tempfile.mkdtemp(prefix="bench-telegram-")
    server = EmbeddedRedis(Path(folder) / "redis")
    redis_url = server.start()
    parent, child_end = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(target=child, args=(child_end,))
    process.start()
    print("store:", "sharded" if SHARDS else "one file per collection", flush=True)
    try:
        if not only or "throughput" in only or "start" in only:
            await _throughput(parent, redis_url, 50 if quick else 200, only, profile)
        if not only or "population" in only:
            sizes = (200, 2_000) if quick else (200, 2_000, 10_000)
            await _population(parent, redis_url, sizes)
        if not only or "paced" in only:
            await _paced(parent, redis_url, users=60 if quick else 200)
        if not only or "broadcast" in only:
            await _broadcast(parent, redis_url, 300 if quick else 3000)
    finally:
        parent.send(("exit", None))
        process.join(timeout=10)
        server.stop()


async def _throughput(
    conn: Connection, redis_url: str, users: int, only: set[str], profile: bool
) -> None:
    """Scenario 1: our onboarding and our /start against echo bots, every limit raised to 1,000."""
    job = {"users": users, "think": 0.0, "stagger": 0.0}
    off = {"enabled": False}
    if not only or "start" in only:
        one, _ = await _scenario(
            conn,
            redis_url,
            "PTB echo bot, 1 text each",
            "echo",
            off,
            FAST,
            {**job, "script": "echo1"},
        )
        start, _ = await _scenario(
            conn,
            redis_url,
            f"our /start, {users} new users",
            "ours",
            off,
            FAST,
            {**job, "script": "start"},
            profile=profile,
        )
        print(f"first replies to /start per second, ours / PTB echo: {start.rate / one.rate:.2f}")
    if only and "throughput" not in only:
        return
    echo, _ = await _scenario(
        conn, redis_url, "PTB echo bot, rates 1000", "echo", off, FAST, {**job, "script": "echo"}
    )
    tuned, _ = await _scenario(
        conn,
        redis_url,
        "echo, our HTTP pool, rates 1000",
        "echo-tuned",
        off,
        FAST,
        {**job, "script": "echo"},
    )
    ours, _ = await _scenario(
        conn,
        redis_url,
        "our onboarding, rates 1000",
        "ours",
        off,
        FAST,
        {**job, "script": "onboarding"},
    )
    print(f"throughput ratio ours / PTB echo: {ours.rate / echo.rate:.2f} (goal >= 0.5)")
    print(f"throughput ratio ours / echo on our HTTP pool: {ours.rate / tuned.rate:.2f}")


async def _population(conn: Connection, redis_url: str, sizes: tuple[int, ...]) -> None:
    """Scenario 1b: /start and a button press by people who wrote before, one at a time."""
    off = {"enabled": False}
    rows = []
    for size in sizes:
        job = {
            "users": 1,
            "think": 0.0,
            "stagger": 0.0,
            "script": "known",
            "first_uid": PEOPLE_UID + size // 2,
        }
        name = f"known people: {size}"
        figures, result = await _scenario(
            conn, redis_url, name, "ours", off, FAST, job, population=size
        )
        steps = [latency for step in result["steps"] for latency in step]
        starts, presses = steps[2::2], steps[3::2]  # the first cycle warms up
        rows.append((size, starts, presses, figures.cpu_ms))
    print("people | /start p50 / p95 ms | press p50 / p95 ms | CPU ms/update")
    for size, starts, presses, cpu in rows:
        print(
            f"{size:>6} | {_ms(starts, 0.5):6.2f} / {_ms(starts, 0.95):6.2f} | "
            f"{_ms(presses, 0.5):6.2f} / {_ms(presses, 0.95):6.2f} | {cpu:.2f}"
        )
    first, last = rows[0], rows[-1]
    for label, index in (("/start", 1), ("press", 2)):
        growth = _ms(last[index], 0.5) / _ms(first[index], 0.5)  # type: ignore[arg-type]
        print(f"{label} p50 at {last[0]} ÷ at {first[0]}: {growth:.2f} (goal <= 1.2)")


async def _paced(conn: Connection, redis_url: str, users: int) -> None:
    """Scenario 2: default limits, a steady 20 updates/s.

    A new user starts every 9/20 s and answers each question 5 s after it
    arrived, so once the first users are at their last step about 90 people
    are mid-onboarding and together send 20 updates a second.
    """
    think, rate = 5.0, 20.0
    stagger = len(ONBOARDING) / rate
    job = {"users": users, "think": think, "stagger": stagger, "script": "onboarding"}
    paced, _ = await _scenario(
        conn, redis_url, "our onboarding, default limits", "ours", {}, None, job
    )
    life = (len(ONBOARDING) - 1) * think
    peak = len(ONBOARDING) / stagger if users * stagger >= life else users / think
    print(
        f"paced load: {peak:.0f} updates/s in the steady state; p95 {paced.p95_ms:.1f} ms "
        "(goal <= 100 ms at 20 updates/s)"
    )


if __name__ == "__main__":
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--quick", action="store_true", help="shorter runs, for CI")
    arguments.add_argument(
        "--only",
        default="",
        help="comma-separated: start, throughput, population, paced, broadcast",
    )
    arguments.add_argument("--profile", action="store_true", help="cProfile the 200 /start")
    arguments.add_argument(
        "--no-shards", action="store_true", help="one file per collection (before the shards)"
    )
    parsed = arguments.parse_args()
    SHARDS = not parsed.no_shards
    wanted = {name.strip() for name in parsed.only.split(",") if name.strip()}
    asyncio.run(main(parsed.quick, wanted, parsed.profile))
