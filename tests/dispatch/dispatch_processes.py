"""Real processes for dispatch tests and the benchmark: workers, racers, a file delivery.

Each worker is a separate process (multiprocessing "spawn") running a real
``dramatiq.Worker`` on the real Redis, with the TinyDB store in a shared
folder and a delivery that appends one JSON line per message to a file the
test reads. A "victim" worker can be told to stop dead just before it commits
a wave's offers, holding the store lock, so a test can SIGKILL it mid-dispatch.
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from assistant.bootstrap import App, build, redis_counter
from assistant.clock import Clock
from assistant.config import defaults
from assistant.conversation.vocabulary import Outbound, outbound_to_dict
from assistant.store.base import Doc, Store, Tx

SPAWN = multiprocessing.get_context("spawn")
PING = "bench.ping"


class FileDelivery:
    """Appends each message as one JSON line (one write call, so lines never mix)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)

    def deliver(self, message: Outbound) -> None:
        line = dict(outbound_to_dict(message), at=time.time(), pid=os.getpid())
        data = (json.dumps(line, ensure_ascii=False) + "\n").encode()
        handle = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(handle, data)
        finally:
            os.close(handle)


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Every message delivered so far (a line still being written is not one yet)."""
    if not path.exists():
        return []
    finished = path.read_bytes().decode("utf-8", errors="replace").split("\n")[:-1]
    return [json.loads(line) for line in finished if line]


class _SpyTx:
    """A transaction that remembers which collections it wrote."""

    def __init__(self, inner: Tx) -> None:
        self._inner = inner
        self.written: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def put(self, collection: str, doc_id: str, doc: Doc) -> None:
        self.written.add(collection)
        self._inner.put(collection, doc_id, doc)


class StopBeforeOffersCommit:
    """A store that freezes (holding its lock) just before committing the first offers."""

    def __init__(self, inner: Store, marker: Path) -> None:
        self.inner = inner
        self.marker = marker

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.inner.transaction() as tx:
            spy = _SpyTx(tx)
            yield spy
            if "offers" in spy.written:
                self.marker.write_text(str(os.getpid()), encoding="utf-8")
                threading.Event().wait()  # until SIGKILL

    def snapshot(self) -> Any:
        return self.inner.snapshot()

    def read(self, collection: str, doc_id: str) -> Doc | None:
        return self.inner.read(collection, doc_id)

    def close(self) -> None:
        self.inner.close()


class CommitCounter:
    """A store that appends one byte to a file per commit (shared by every process)."""

    def __init__(self, inner: Store, path: Path) -> None:
        self.inner = inner
        self.path = str(path)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.inner.transaction() as tx:
            yield tx
        handle = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(handle, b".")
        finally:
            os.close(handle)

    def snapshot(self) -> Any:
        return self.inner.snapshot()

    def read(self, collection: str, doc_id: str) -> Doc | None:
        return self.inner.read(collection, doc_id)

    def close(self) -> None:
        self.inner.close()


def commits_counted(path: Path) -> int:
    """How many commits the :class:`CommitCounter` stores wrote down."""
    return path.stat().st_size if path.exists() else 0


def settings_for(data: Path, **dispatch: Any) -> Any:
    values = {"wave_size": 3, "waves": 2, "wave_minutes": 10.0}
    values.update(dispatch)
    return defaults().with_values(storage={"dir": str(data)}, dispatch=values)


def make_app(
    data: Path,
    url: str,
    out: Path,
    clock: Clock | None = None,
    admins: tuple[str, ...] = (),
    **dispatch: Any,
) -> App:
    """An app on the shared TinyDB folder and the real Redis broker, with the test's jobs."""
    from assistant.bootstrap import job_table
    from assistant.services.dispatch import TaskKind
    from assistant.store.tinydb_store import TinyDbStore
    from workers.broker import DramatiqQueue, make_broker

    broker = make_broker(url, job_table(TEST_JOBS))
    declare_ping(broker, out)
    settings = settings_for(data, **dispatch)
    if admins:
        settings = settings.with_values(roles={"admins": list(admins)})
    app = build(
        settings,
        store=TinyDbStore(data / "store"),
        clock=clock,
        queue=DramatiqQueue(broker),
        delivery=FileDelivery(out),
        jobs=TEST_JOBS,
        holds=redis_counter(url),
    )
    app.task_kinds.register(TaskKind(name="test", title_zh="测试", title_en="Test"))
    return app


class Poison(RuntimeError):
    """What the poison job always raises."""


def poison_job(app: App, tag: str) -> None:
    """A job that fails every time (a bug that no retry mends)."""
    raise Poison(tag)


def _test_jobs() -> dict[str, Any]:
    from assistant.jobs.table import JobSpec

    return {"test.poison": JobSpec(poison_job, max_retries=2, min_backoff_ms=10, max_backoff_ms=40)}


TEST_JOBS = _test_jobs()


def declare_ping(broker: Any, out: Path) -> None:
    """An empty actor that only notes when it ran: the broker's bare round trip."""
    import dramatiq

    from workers.broker import QUEUE

    pings = FileDelivery(out.with_suffix(".pings"))

    def ping(sent_at: float, tag: str) -> None:
        line = json.dumps({"tag": tag, "sent": sent_at, "at": time.time()}) + "\n"
        handle = os.open(pings.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(handle, line.encode())
        finally:
            os.close(handle)

    dramatiq.actor(actor_name=PING, queue_name=QUEUE, broker=broker, max_retries=0)(ping)


def worker_main(
    data: str,
    url: str,
    out: str,
    marker: str = "",
    threads: int = 2,
    idle_ms: int = 100,
    dispatch: dict[str, Any] | None = None,
    admins: tuple[str, ...] = (),
    commits: str = "",
) -> None:
    """One worker process: run jobs until SIGTERM (or until killed)."""
    logging.basicConfig(level=logging.WARNING)
    app = make_app(Path(data), url, Path(out), admins=admins, **(dispatch or {}))
    if marker:
        app.store = StopBeforeOffersCommit(app.store, Path(marker))
    if commits:
        app.store = CommitCounter(app.store, Path(commits))
    serve_jobs(app, out, threads, idle_ms)


def serve_jobs(app: Any, out: str, threads: int, idle_ms: int = 100) -> None:
    """Run ``app``'s jobs in a dramatiq worker until SIGTERM; ``out + ".ready-<pid>"`` says it
    consumes (what :func:`start_worker` waits for)."""
    import dramatiq

    from workers.broker import set_app

    set_app(app)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    worker = dramatiq.Worker(app.queue.broker, worker_threads=threads, worker_timeout=idle_ms)
    worker.start()
    Path(out + f".ready-{os.getpid()}").touch()
    stopping.wait()
    worker.stop(timeout=5000)


def start_worker(
    data: Path, url: str, out: Path, marker: str = "", **options: Any
) -> multiprocessing.process.BaseProcess:
    """Start a worker process and wait until it consumes."""
    process = SPAWN.Process(
        target=worker_main, args=(str(data), url, str(out), marker), kwargs=options, daemon=True
    )
    process.start()
    ready = Path(str(out) + f".ready-{process.pid}")
    poll(lambda: ready.exists() or not process.is_alive(), "worker start", limit=60)
    assert process.is_alive(), "worker died on start"
    return process


def stop(process: multiprocessing.process.BaseProcess) -> None:
    """SIGTERM a worker, then SIGKILL it if it lingers."""
    if process.is_alive():
        process.terminate()
        process.join(10)
    if process.is_alive():
        process.kill()
        process.join(5)


def poll(condition: Any, what: str, limit: float = 30.0) -> None:
    """Wait until ``condition()`` is true, checking often."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def racer_main(
    data: str, url: str, out: str, address: str, value: str, go: Any, results: Any
) -> None:
    """Press one button through the engine as soon as ``go`` is set.

    Any failure is reported on ``results`` at once, so the test fails instead of waiting.
    """
    try:
        from assistant.conversation.engine import Engine
        from assistant.conversation.vocabulary import Address, Incoming, Kind
        from handlers import volunteer

        app = make_app(Path(data), url, Path(out))
        engine = Engine(app, volunteer.FLOWS, volunteer.ACTIONS, onboarding="volunteer")
        incoming = Incoming(sender=Address(address), kind=Kind.PRESS, press=value)
    except Exception as error:
        results.put((address, value, [f"racer failed: {error!r}"]))
        return
    go.wait(60)
    replies = asyncio.run(engine.handle(incoming))
    results.put((address, value, [r.reply.text for r in replies]))
