"""Running the assistant for real: Redis, worker processes, the scheduler, channels.

``assistant up`` = :func:`up`: it makes sure Redis is there (the embedded one
when ``[redis] url`` is empty), starts ``[workers] processes`` worker
processes and one scheduler process, then serves every channel whose
credentials are set (the console when none are). Ctrl-C or SIGTERM stops
everything it started within 10 seconds, whatever the network does: the
children are told at once, the channels get a bounded time to finish or hand
unsent messages to the outbox, and what is left after that is killed. The
children and the embedded Redis end with ``up`` even when it is killed
(:func:`~assistant.redis_server.tied_to_this_process`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from assistant.bootstrap import App, build
from assistant.channels import table
from assistant.channels.base import Channel
from assistant.config import Settings
from assistant.conversation.vocabulary import (
    Outbound,
    network_of,
)
from assistant.delivery import RoutedDelivery
from assistant.redis_server import EmbeddedRedis, tied_to_this_process
from handlers import build_engine

log = logging.getLogger(__name__)

STOP_SECONDS = 8.0  # from a stop request to everything gone, with room to spare under 10
CHILDREN_STOP_SECONDS = 6.5  # of which the workers and scheduler may take this long
WORKER_STOP_SECONDS = 4.0  # a worker's jobs in hand get this long, then it exits anyway
REDIS_STOP_SECONDS = 1.0
LOG_FILE_ENV = "ASSISTANT_LOG_FILE"


# -- Redis -----------------------------------------------------------------------------


@contextlib.contextmanager
def redis_for(settings: Settings) -> Iterator[str]:
    """The Redis URL to use; starts the embedded server for the data folder if needed."""
    configured = str(settings.get("redis", "url"))
    if configured:
        yield configured
        return
    server = EmbeddedRedis(settings.data_dir / "redis")
    try:
        yield server.start()
    finally:
        server.stop(REDIS_STOP_SECONDS)


# -- delivery across processes ------------------------------------------------------------


def production_delivery(settings: Settings, url: str, app_store: Any) -> RoutedDelivery:
    """A delivery that reaches every network configured (the table of channels)."""
    return table.delivery(settings, url, app_store)


def load_programme(app: App) -> None:
    """The activities of ``[[activities.programme]]``, created or updated (docs/NOTICES.md)."""
    from assistant.services.activities import configured

    configured.load(app.store, app.settings.get("activities", "programme"), app.clock.now())


def production_app(settings: Settings, url: str) -> App:
    """The app of a worker or bot process: the store, dramatiq queue, real delivery.

    The queue's broker is RabbitMQ when ``[queue] url`` is set, else Redis at ``url``.
    """
    from assistant.bootstrap import redis_counter
    from workers.broker import DramatiqQueue, broker_for

    app = build(settings, queue=DramatiqQueue(broker_for(settings, url)), holds=redis_counter(url))
    app.delivery = production_delivery(settings, url, app.store)
    return app


# -- worker and scheduler processes ----------------------------------------------------------


def stop_signal() -> threading.Event:
    """An event set by SIGINT or SIGTERM."""
    stopping = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    return stopping


def parent_gone() -> bool:
    """Whether the ``assistant up`` that started this process has disappeared."""
    parent = int(os.environ.get("ASSISTANT_PARENT_PID", "0") or 0)
    if parent and os.getppid() != parent:
        log.warning("the parent process is gone; stopping")
        return True
    return False


def wait_until_stopped(stopping: threading.Event, interval: float = 1.0) -> None:
    """Wait for a stop signal, or for the parent ``assistant up`` to disappear."""
    while not stopping.wait(interval):
        if parent_gone():
            stopping.set()


def run_worker(settings: Settings, threads: int | None = None) -> None:
    """A dramatiq worker process: run jobs until told to stop."""
    import dramatiq

    from workers.broker import set_app

    url = str(settings.get("redis", "url"))
    if not url:
        raise SystemExit("assistant worker needs [redis] url (assistant up sets it for you)")
    app = production_app(settings, url)
    set_app(app)
    stopping = stop_signal()
    worker = dramatiq.Worker(
        app.queue.broker,  # type: ignore[attr-defined]
        worker_threads=threads or int(settings.get("workers", "threads")),
        worker_timeout=500,
    )
    worker.start()
    log.info("worker started with %d threads", worker.worker_threads)
    wait_until_stopped(stopping)
    worker.stop(timeout=int(WORKER_STOP_SECONDS * 1000))
    app.queue.broker.close()  # type: ignore[attr-defined]
    log.info("worker stopped")


def run_scheduler(settings: Settings) -> None:
    """The scheduler process: hand due timers to the workers, once a second."""
    from assistant.jobs import scheduler
    from assistant.services import dispatch

    url = str(settings.get("redis", "url"))
    if not url:
        raise SystemExit("assistant scheduler needs [redis] url (assistant up sets it for you)")
    app = production_app(settings, url)
    interval = float(settings.get("workers", "scheduler_interval_seconds"))
    stopping = stop_signal()
    with app.unit() as tx:
        dispatch.ensure_digest(tx, app)  # coordinators get a digest even before any booking
    scheduler.run(app, stopping, interval, parent_gone)


class Children:
    """Child processes started by ``assistant up``, stopped together."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, settings: Settings, url: str, *command: str) -> None:
        """Start ``python -m assistant <command>`` on the same settings and Redis."""
        env = dict(os.environ)
        env["ASSISTANT_REDIS__URL"] = url
        env["ASSISTANT_PARENT_PID"] = str(os.getpid())
        env["ASSISTANT_STORAGE__DIR"] = str(settings.data_dir)
        env.setdefault("ASSISTANT_LOG_LEVEL", logging.getLevelName(logging.getLogger().level))
        log_file = _log_file()
        if log_file:
            env[LOG_FILE_ENV] = log_file  # the children write where this process writes
        if settings.source != "defaults":
            env["ASSISTANT_SETTINGS"] = str(Path(settings.source).resolve())
        self.processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "assistant", *command],
                env=env,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=tied_to_this_process(),  # SIGTERM when `up` ends, even by SIGKILL
            )
        )

    def alive(self) -> bool:
        """Whether every child still runs."""
        return all(process.poll() is None for process in self.processes)

    def terminate(self) -> None:
        """Ask every child to stop (SIGTERM), without waiting."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = CHILDREN_STOP_SECONDS) -> None:
        """SIGTERM every child, wait up to ``timeout`` seconds, then SIGKILL what is left."""
        self.terminate()
        deadline = time.monotonic() + timeout
        for process in self.processes:
            remaining = max(0.1, deadline - time.monotonic())
            try:
                process.wait(remaining)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()


def _log_file() -> str:
    """The file this process logs to, if it logs to one."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            return handler.baseFilename
    return ""


# -- channels -------------------------------------------------------------------------------


async def serve(
    channels: list[Channel],
    stopping: asyncio.Event,
    children_alive: Callable[[], bool] = lambda: True,
) -> None:
    """Serve the channels until stopped, a child dies, or one of them ends (console input)."""
    started: list[Channel] = []
    waiting: list[asyncio.Task[Any]] = []

    async def watch() -> None:
        while not stopping.is_set():
            if not children_alive():
                log.info("stopping")
                stopping.set()
            await asyncio.sleep(0.2)

    try:
        for channel in channels:
            await channel.start()
            started.append(channel)
            log.info("%s channel started", channel.name)
        waiting = [asyncio.create_task(channel.ended()) for channel in started]
        waiting += [asyncio.create_task(watch()), asyncio.create_task(stopping.wait())]
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.set()
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        for channel in reversed(started):
            await channel.stop()


def serves_console(settings: Settings) -> bool:
    """Whether ``assistant up`` talks in the terminal: when no chat network is set up.

    Raises:
        SettingsError: a network is configured that has no channel (the message names it).
    """
    return table.serves_console(settings)


def up(settings: Settings, console: bool | None = None, jsonl: bool = False) -> int:
    """Start everything and serve until Ctrl-C, SIGTERM or (console) end of input."""
    table.configured(settings)  # a network set up without a channel stops here, named
    if console is None:
        console = serves_console(settings)
    if console and not jsonl:
        print(
            "No chat network is set up, so the assistant talks here in the terminal.\n"
            "To connect Telegram, set ASSISTANT_TELEGRAM__TOKEN (see README).\n"
            "Load a demo community with: make demo\n"
            "(logs go to the data folder's logs/assistant.log; --verbose shows them here)",
            file=sys.stderr,
        )
    # Signals only set a flag: start-up looks at it between steps, and the event
    # loop watches it too, so a stop request at any moment is never lost.
    requested = threading.Event()
    asked: list[float] = []  # when the stop was asked for

    def on_signal(signum: int, frame: Any) -> None:
        if not asked:
            asked.append(time.monotonic())
        requested.set()

    def left(share: float) -> float:
        """Seconds for the next step of stopping, within the whole stop's budget."""
        since = time.monotonic() - asked[0] if asked else 0.0
        return max(0.5, min(share, STOP_SECONDS - REDIS_STOP_SECONDS - since))

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with redis_for(settings) as url:
        children = Children()
        try:
            for _ in range(int(settings.get("workers", "processes"))):
                if not requested.is_set():
                    children.start(settings, url, "worker")
            if not requested.is_set():
                children.start(settings, url, "scheduler")
                app = production_app(settings, url)
                load_programme(app)

                def keep_going() -> bool:
                    if not children.alive():
                        log.error("a worker or scheduler process stopped; shutting down")
                    elif not requested.is_set():
                        return True
                    children.terminate()  # they stop while the channels finish
                    return False

                asyncio.run(_serve_until_signal(app, url, console, jsonl, keep_going))
            else:
                log.info("stopped during start-up")
        finally:
            signal.signal(signal.SIGTERM, on_signal)
            signal.signal(signal.SIGINT, on_signal)
            if not asked:
                asked.append(time.monotonic())
            children.stop(left(CHILDREN_STOP_SECONDS))
    return 0


async def _serve_until_signal(
    app: App, url: str, console: bool, jsonl: bool, alive: Callable[[], bool]
) -> None:
    serving = table.Serving(app, build_engine(app), url, jsonl)
    await serve(table.channels(serving, console), asyncio.Event(), alive)


# -- inline mode (no Redis, no other processes) --------------------------------------------------


class InlineQueue:
    """Runs jobs on a background thread of this process (``assistant console --inline``)."""

    def __init__(self) -> None:
        self.app: App | None = None
        self._pending: list[tuple[float, str, tuple[Any, ...]]] = []
        self._lock = threading.Condition()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="inline-jobs")
        self._stopped = False

    def enqueue(self, job: str, *args: Any, delay_ms: int = 0) -> None:
        """Run ``job(*args)`` soon on the job thread."""
        with self._lock:
            self._pending.append((time.monotonic() + delay_ms / 1000, job, args))
            self._lock.notify()

    def start(self, app: App) -> None:
        """Start the job thread for this app."""
        self.app = app
        self._thread.start()

    def stop(self) -> None:
        """Stop the job thread."""
        with self._lock:
            self._stopped = True
            self._lock.notify()

    def _loop(self) -> None:
        from assistant.jobs.firing import bound

        assert self.app is not None
        table = bound(self.app)
        while True:
            with self._lock:
                while not self._stopped and not self._due():
                    self._lock.wait(0.2)
                if self._stopped:
                    return
                now = time.monotonic()
                ready = [item for item in self._pending if item[0] <= now]
                self._pending = [item for item in self._pending if item[0] > now]
            for _, job, args in ready:
                try:
                    table[job](*args)
                except Exception:
                    log.exception("inline job %s failed", job)

    def _due(self) -> bool:
        now = time.monotonic()
        return any(item[0] <= now for item in self._pending)


def console_inline(settings: Settings, jsonl: bool) -> int:
    """The console with jobs and timers run inside this one process."""
    from assistant.channels.common.media import MediaLibrary, media_dir
    from assistant.channels.console.channel import ConsoleChannel
    from assistant.jobs.scheduler import tick

    queue = InlineQueue()
    app = build(settings, queue=queue)
    load_programme(app)
    engine = build_engine(app)
    media = MediaLibrary(app.store, media_dir(settings.data_dir))
    channel = ConsoleChannel(engine.handle, jsonl=jsonl, media=media)

    async def main() -> None:
        loop = asyncio.get_running_loop()

        class LoopDelivery:
            def deliver(self, message: Outbound) -> None:
                if network_of(message.to) == "console":
                    loop.call_soon_threadsafe(channel.deliver, message)
                else:
                    log.warning("no channel for %s in inline mode", network_of(message.to))

        app.delivery = LoopDelivery()
        channel.forward = app.delivery.deliver
        queue.start(app)
        stopping = asyncio.Event()

        async def scheduler() -> None:
            interval = float(settings.get("workers", "scheduler_interval_seconds"))
            while not stopping.is_set():
                await asyncio.to_thread(tick, app)
                await asyncio.sleep(interval)

        ticking = asyncio.create_task(scheduler())
        await channel.run()
        await asyncio.sleep(float(os.environ.get("ASSISTANT_CONSOLE_LINGER", "0.5")))
        stopping.set()
        ticking.cancel()
        queue.stop()

    asyncio.run(main())
    return 0


__all__ = ["console_inline", "run_scheduler", "run_worker", "up"]
