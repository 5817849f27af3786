"""A real PostgreSQL server for the tests: initdb into a temporary folder, on a free loopback port.

The distribution's server binaries are used (``make test`` installs them when
missing). ``initdb`` and ``postgres`` refuse to run as root, so as root the
server runs as the ``postgres`` system user that the package creates, in a
folder owned by it. Without the binaries the tests that need the server skip,
except under CI (``CI=true``), where they fail: CI never skips them silently.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

USER = "assistant"
"""The database superuser made by initdb (trust authentication, loopback only)."""


def unavailable(reason: str) -> None:
    """Skip the test here; fail it under CI, where the server must be had."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is needed in CI: {reason}", pytrace=False)
    pytest.skip(f"no PostgreSQL server here: {reason}")


def server_bin() -> Path | None:
    """The folder of the newest installed ``initdb``/``postgres``/``pg_ctl``, or ``None``."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One throw-away PostgreSQL cluster, started and stopped by the test run.

    Args:
        fsync: Durable settings (benchmarks): fsync, synchronous commit and
            full-page writes on, as a production server has them. Off makes
            the tests faster and is safe here, since the tests kill clients,
            never the server.
    """

    def __init__(self, *, fsync: bool = False) -> None:
        self.fsync = fsync
        self.bin = server_bin()
        self.folder: Path | None = None
        self.port = 0
        self._as: list[str] = []

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{name}"

    def start(self) -> str:
        """Create the cluster and start the server; return its URL (raises ``RuntimeError``)."""
        if self.bin is None:
            raise RuntimeError("initdb not found (apt-get install postgresql)")
        self.folder = Path(tempfile.mkdtemp(prefix="assistant-pg-"))
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root and there is no postgres user") from None
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        data = self.folder / "data"
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(data),
            "-U",
            USER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
        )
        self.port = free_port()
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            f"-c max_connections=300 -c fsync={'on' if self.fsync else 'off'} "
            f"-c synchronous_commit={'on' if self.fsync else 'off'} "
            f"-c full_page_writes={'on' if self.fsync else 'off'}"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(self.folder / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        return self.url

    def create_database(self, name: str) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.database_url(name)

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        if self.folder is None:
            return
        if self.bin is not None and (self.folder / "data" / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError, RuntimeError):
                self._run(
                    str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "stop"
                )
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    def log(self) -> str:
        """The server's log, for a failing test's message."""
        if self.folder is None:
            return ""
        with contextlib.suppress(OSError):
            return (self.folder / "server.log").read_text(errors="replace")[-4000:]
        return ""

    def _run(self, *command: str) -> None:
        done = subprocess.run(
            [*self._as, *command],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.folder,
        )
        if done.returncode:
            raise RuntimeError(
                f"{Path(command[0]).name} failed ({done.returncode}): "
                f"{done.stderr.strip()[-2000:]} {self.log()}"
            )


def wait_for(url: str, limit: float = 30) -> None:
    """Poll until the server accepts a connection."""
    import psycopg

    deadline = time.monotonic() + limit
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
