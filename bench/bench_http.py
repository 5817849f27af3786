"""Benchmark: the CPU one Bot API call costs the bot, per HTTP client.

A child process runs the local fake Bot API (flood limits off), so only the
client's work is charged to this process. For each client, this process makes
``sendMessage`` calls through a PTB ``Bot`` (no rate limiter) one at a time and
64 at once, and reports CPU milliseconds per call (this process only) and calls
per second. Clients:

* ``httpx, PTB default``: ``HTTPXRequest()`` (a pool of 256 connections);
* ``httpx, gated 16``: PTB's httpx client behind a semaphore of 16, as the
  assistant used before;
* ``aiohttp 8`` / ``aiohttp 16``: :class:`assistant.channels.telegram.http.AiohttpRequest`.

Run: ``python bench/bench_http.py`` (``--quick`` for a short run).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "telegram")]

CHAT = 777


async def _serve(conn: Connection) -> None:
    from fake_bot_api import FakeBotApi, FloodLimits

    fake = FakeBotApi(limits=FloodLimits(enabled=False))
    await fake.start()
    fake.user(CHAT, "居民")
    conn.send((fake.base_url, fake.base_file_url, fake.token))
    while True:
        command = await asyncio.to_thread(conn.recv)
        fake.calls.clear()
        fake.arrivals.clear()
        fake.sent.clear()
        if command == "exit":
            await fake.stop()
            conn.send(True)
            return
        conn.send(True)


def child(conn: Connection) -> None:
    """Entry point of the fake Bot API process."""
    asyncio.run(_serve(conn))


def _client(kind: str) -> Any:
    from telegram.request import HTTPXRequest

    from assistant.channels.telegram.http import AiohttpRequest

    if kind == "httpx, PTB default":
        return HTTPXRequest()
    if kind == "httpx, gated 16":
        return _gated_httpx(16)
    return AiohttpRequest(int(kind.split()[-1]))


def _gated_httpx(connections: int) -> Any:
    """The assistant's earlier client: httpx with a semaphore in front of its pool."""
    from telegram.request import HTTPXRequest

    class GatedHTTPXRequest(HTTPXRequest):
        def __init__(self) -> None:
            super().__init__(connection_pool_size=connections)
            self._gate = asyncio.Semaphore(connections)

        async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
            async with self._gate:
                return await super().do_request(*args, **kwargs)

    return GatedHTTPXRequest()


async def measure(kind: str, server: tuple[str, str, str], calls: int, at_once: int) -> str:
    """``calls`` sendMessage calls, ``at_once`` in flight; one printable line."""
    from telegram import Bot

    base_url, base_file_url, token = server
    bot = Bot(token, base_url=base_url, base_file_url=base_file_url, request=_client(kind))
    await bot.initialize()
    gate = asyncio.Semaphore(at_once)

    async def one(n: int) -> None:
        async with gate:
            await bot.send_message(CHAT, f"社区通知 {n}")

    await asyncio.gather(*(one(n) for n in range(min(100, calls))))  # warm up
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(calls)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await bot.shutdown()
    return (
        f"{kind:<20} {at_once:>3} at once  {1000 * cpu / calls:6.2f} ms CPU/call  "
        f"{calls / wall:7.0f} calls/s"
    )


async def main(quick: bool) -> None:
    """Every client, one at a time and 64 at once."""
    parent, child_end = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(target=child, args=(child_end,))
    process.start()
    server = await asyncio.to_thread(parent.recv)
    calls = 300 if quick else 2000
    try:
        for at_once in (1, 64):
            for kind in ("httpx, PTB default", "httpx, gated 16", "aiohttp 8", "aiohttp 16"):
                print(await measure(kind, server, calls, at_once), flush=True)
                parent.send("reset")
                await asyncio.to_thread(parent.recv)
    finally:
        parent.send("exit")
        await asyncio.to_thread(parent.recv)
        process.join(timeout=10)


if __name__ == "__main__":
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--quick", action="store_true", help="a short run")
    asyncio.run(main(arguments.parse_args().quick))
