"""Real worker processes for the notice tests: a file delivery with send-once marks in Redis.

Each worker is a ``spawn`` process running a real ``dramatiq.Worker`` on the real Redis
with the TinyDB store in a shared folder. Its delivery claims each message in Redis
(:class:`assistant.channels.common.once.SendOnce`, as the Telegram channel does), then
appends one JSON line to a file. A "victim" freezes in the middle of sending — after
some copies went out, holding the claim of the next one — so the test can SIGKILL it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from assistant.bootstrap import App, build
from assistant.channels.common.once import Mark, SendOnce
from assistant.channels.telegram.sender import TryLater
from assistant.clock import Clock
from assistant.config import defaults
from assistant.conversation.vocabulary import Outbound, outbound_to_dict

SPAWN = multiprocessing.get_context("spawn")
CLAIM_MS = 3000


class OnceFileDelivery:
    """Sends each message once (claimed in Redis first) by appending it to a file."""

    def __init__(self, path: str, redis_url: str, freeze_after: int = 0, marker: str = "") -> None:
        import redis.asyncio as aioredis

        self.path = path
        self.freeze_after = freeze_after
        self.marker = marker
        self.sent = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        client = aioredis.Redis.from_url(redis_url)
        self.once = SendOnce(client, "test:", lease_ms=CLAIM_MS)

    def _run(self, work: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    def deliver(self, message: Outbound) -> None:
        claim = self._run(self.once.claim(message))
        if claim.mark is Mark.DONE:
            return
        if claim.mark is Mark.BUSY:
            raise TryLater(claim.wait)
        with self._lock:
            if self.freeze_after and self.sent >= self.freeze_after:
                Path(self.marker).write_text(str(os.getpid()), encoding="utf-8")
                threading.Event().wait()  # mid-send, holding a claim: until SIGKILL
            line = dict(outbound_to_dict(message), at=time.time(), pid=os.getpid())
            handle = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(handle, (json.dumps(line, ensure_ascii=False) + "\n").encode())
            finally:
                os.close(handle)
            self.sent += 1
        self._run(self.once.done(claim, "sent"))


def read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def make_app(data: Path, url: str, clock: Clock | None = None, delivery: Any = None) -> App:
    from assistant.bootstrap import job_table
    from assistant.store.tinydb_store import TinyDbStore
    from workers.broker import DramatiqQueue, make_broker

    settings = defaults().with_values(
        storage={"dir": str(data)}, notices={"in_flight": 120, "progress_seconds": 1.0}
    )
    broker = make_broker(url, job_table())
    return build(
        settings,
        store=TinyDbStore(data / "store"),
        clock=clock,
        queue=DramatiqQueue(broker),
        delivery=delivery,
    )


def worker_main(data: str, url: str, out: str, freeze_after: int, marker: str) -> None:
    import dramatiq

    from workers.broker import set_app

    logging.basicConfig(level=logging.ERROR)
    delivery = OnceFileDelivery(out, url, freeze_after, marker)
    app = make_app(Path(data), url, delivery=delivery)
    set_app(app)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    worker = dramatiq.Worker(app.queue.broker, worker_threads=4, worker_timeout=100)  # type: ignore[attr-defined]
    worker.start()
    Path(out + f".ready-{os.getpid()}").touch()
    stopping.wait()
    worker.stop(timeout=5000)


def start_worker(
    data: Path, url: str, out: Path, freeze_after: int = 0, marker: str = ""
) -> multiprocessing.process.BaseProcess:
    process = SPAWN.Process(
        target=worker_main, args=(str(data), url, str(out), freeze_after, marker), daemon=True
    )
    process.start()
    ready = Path(str(out) + f".ready-{process.pid}")
    poll(lambda: ready.exists() or not process.is_alive(), "worker start", limit=60)
    assert process.is_alive(), "worker died on start"
    return process


def stop(process: multiprocessing.process.BaseProcess) -> None:
    if process.is_alive():
        process.terminate()
        process.join(10)
    if process.is_alive():
        process.kill()
        process.join(5)


def poll(condition: Any, what: str, limit: float = 60.0, every: Any = None) -> None:
    """Wait until ``condition()`` holds, calling ``every()`` (a scheduler round) meanwhile."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return
        if every is not None:
            every()
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
