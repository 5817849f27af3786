"""Benchmark of the Matrix channel against a real Synapse, beside a bare matrix-nio echo bot.

One Synapse (started as ``tests/matrix`` starts it: SQLite, rate limits lifted,
users registered through the shared-secret admin API) serves both bots in the
same run. Each bot runs in a child process of its own, so the residents' work is
not charged to it:

* the echo bot: a bare matrix-nio client with encryption that joins every
  invitation, trusts every device and sends each text back;
* the assistant: our ``MatrixChannel`` with the product's engine, on the
  embedded defaults (the real TinyDB store in a temporary folder, sharded as
  ``assistant.bootstrap.SHARDED``, holding the demo community; an embedded Redis).

The same residents (real encrypting matrix-nio clients, ``tests/matrix/
matrix_resident.py``, all in this process) open an encrypted direct room with
each bot, send one message to set up their Megolm sessions (not measured), then
all write at once: each sends ``/help`` and waits for the answer before the
next, ``--rounds`` times. Reported per bot: replies per second over the
measured phase, reply latency p50/p95 (from sending to the decrypted reply
arriving at the resident), and the bot process's CPU per reply; then the ratio
of our replies per second to the echo bot's (goal ≥ 0.5).

Run: ``python bench/bench_matrix.py`` (``--residents 50 --rounds 5``; needs
``.venv/synapse``, which ``make test`` makes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import os
import platform
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "matrix")]

from matrix_resident import Resident  # noqa: E402
from synapse_server import Account, Synapse, synapse_python  # noqa: E402

READY_SECONDS = 120.0


# -- the bots, each in a child process ------------------------------------------------------


async def _echo(account: Account, folder: str, pipe: Connection) -> None:
    """A bare matrix-nio echo bot with encryption: join, trust, echo."""
    from nio import (
        AsyncClient,
        AsyncClientConfig,
        InviteMemberEvent,
        MatrixRoom,
        RoomMessageText,
    )

    config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True)
    client = AsyncClient(pipe.recv(), account.user_id, store_path=folder, config=config)
    client.restore_login(account.user_id, account.device_id, account.access_token)

    def trust() -> None:
        for user in client.device_store.users:
            for device in client.device_store.active_user_devices(user):
                if not device.verified and not device.blacklisted:
                    client.verify_device(device)

    async def on_invite(room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == client.user_id and event.membership == "invite":
            await client.join(room.room_id)

    async def on_text(room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender == client.user_id:
            return
        trust()
        content = {"msgtype": "m.text", "body": event.body}
        await client.room_send(
            room.room_id, "m.room.message", content, ignore_unverified_devices=True
        )

    client.add_event_callback(on_invite, InviteMemberEvent)  # type: ignore[arg-type]
    client.add_event_callback(on_text, RoomMessageText)  # type: ignore[arg-type]
    await client.sync(timeout=0, full_state=True)
    if client.should_upload_keys:
        await client.keys_upload()
    task = asyncio.ensure_future(
        client.sync_forever(timeout=5000, full_state=True, loop_sleep_time=0)
    )
    await _serve(pipe, task)
    await client.close()


async def _assistant(account: Account, folder: str, pipe: Connection) -> None:
    """Our MatrixChannel with the product's engine, on TinyDB and an embedded Redis."""
    from assistant import demo
    from assistant.bootstrap import SHARDED, build
    from assistant.channels.matrix import MatrixChannel
    from assistant.clock import to_iso
    from assistant.config import defaults
    from assistant.store.tinydb_store import TinyDbStore
    from handlers import build_engine

    homeserver, redis_url = pipe.recv()
    data = Path(folder)
    settings = defaults().with_values(
        storage={"dir": str(data)},
        matrix={
            "homeserver": homeserver,
            "user_id": account.user_id,
            "password": account.password,
            "store_dir": str(data / "matrix"),
            "max_messages_per_second": 1000.0,
            "max_chat_messages_per_second": 1000.0,
        },
    )
    store = TinyDbStore(data / "store", shards=SHARDED)
    app = build(settings, store=store)
    demo.load(app.store, to_iso(app.clock.now()))
    channel = MatrixChannel(app, build_engine(app), redis_url)
    await channel.start()
    await _serve(pipe, None)
    await channel.stop()


async def _serve(pipe: Connection, task: asyncio.Future[Any] | None) -> None:
    """Say ready, wait for "stop", answer with this process's CPU seconds."""
    pipe.send("ready")
    await asyncio.to_thread(pipe.recv)
    if task is not None:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
    pipe.send(time.process_time())


def _bot_main(kind: str, account: Account, folder: str, pipe: Connection) -> None:
    logging.basicConfig(level=logging.WARNING)
    run = _echo if kind == "echo" else _assistant
    asyncio.run(run(account, folder, pipe))


# -- the residents -----------------------------------------------------------------------------


@dataclass
class Figures:
    """What one bot did in the measured phase."""

    kind: str
    replies: int
    seconds: float
    latencies: list[float]
    cpu: float

    @property
    def per_second(self) -> float:
        return self.replies / self.seconds

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def line(self) -> str:
        return (
            f"{self.kind:9} {self.replies:5d} replies in {self.seconds:6.2f} s: "
            f"{self.per_second:6.1f} replies/s, p50 {1000 * self.quantile(0.5):6.0f} ms, "
            f"p95 {1000 * self.quantile(0.95):6.0f} ms, "
            f"bot CPU {1000 * self.cpu / max(1, self.replies):5.1f} ms/reply"
        )


async def _one_bot(
    kind: str,
    synapse: Synapse,
    residents: list[Resident],
    redis_url: str,
    folder: Path,
    rounds: int,
) -> Figures:
    account = synapse.register(f"{kind}-{secrets.token_hex(3)}")
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    bot_dir = folder / kind
    bot_dir.mkdir()
    child = ctx.Process(target=_bot_main, args=(kind, account, str(bot_dir), theirs))
    child.start()
    ours.send(synapse.url if kind == "echo" else (synapse.url, redis_url))
    if not await asyncio.to_thread(ours.poll, READY_SECONDS):
        child.kill()
        raise RuntimeError(f"the {kind} bot did not start")
    ours.recv()
    try:
        await asyncio.gather(*(r.open_direct_room(account.user_id) for r in residents))
        await asyncio.gather(*(r.says("/help", timeout=120) for r in residents))  # warm-up
        cpu_before = await _cpu_mark(child)
        latencies: list[float] = []

        async def write(resident: Resident) -> None:
            for _ in range(rounds):
                start = time.perf_counter()
                await resident.says("/help", timeout=120)
                latencies.append(time.perf_counter() - start)

        started = time.perf_counter()
        await asyncio.gather(*(write(r) for r in residents))
        seconds = time.perf_counter() - started
    finally:
        ours.send("stop")
        answered = await asyncio.to_thread(ours.poll, 60)
        cpu_after = ours.recv() if answered else 0.0
        child.join(30)
        if child.is_alive():
            child.kill()
    return Figures(kind, len(latencies), seconds, latencies, float(cpu_after) - cpu_before)


async def _cpu_mark(child: multiprocessing.process.BaseProcess) -> float:
    """The child's CPU seconds so far (from /proc), to leave the set-up out of the figure."""
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks
    return 0.0


async def main(args: argparse.Namespace) -> None:
    from assistant.redis_server import EmbeddedRedis

    with tempfile.TemporaryDirectory(prefix="bench-matrix-") as tmp:
        folder = Path(tmp)
        (folder / "synapse").mkdir()
        synapse = Synapse(folder / "synapse", synapse_python())
        redis_server = EmbeddedRedis(folder / "redis")
        started = time.perf_counter()
        synapse.start()
        redis_url = redis_server.start()
        print(f"Synapse up in {time.perf_counter() - started:.1f} s at {synapse.url}")
        residents = []
        try:
            for n in range(args.residents):
                account = synapse.register(f"resident-{n}-{secrets.token_hex(2)}")
                residents.append(Resident(synapse.url, account, folder / f"r{n}"))
            await asyncio.gather(*(r.start() for r in residents))
            print(f"{len(residents)} residents syncing; {args.rounds} rounds each, all at once")
            echo = await _one_bot("echo", synapse, residents, redis_url, folder, args.rounds)
            print(echo.line())
            ours = await _one_bot("assistant", synapse, residents, redis_url, folder, args.rounds)
            print(ours.line())
            print(
                f"ratio (assistant / echo, replies per second): {ours.per_second / echo.per_second:.2f}"
            )
        finally:
            for resident in residents:
                await resident.close()
            synapse.stop()
            redis_server.stop()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args()))
