"""A real RabbitMQ node for the tests: the distribution's server, on free loopback ports.

The node is the test run's own: its name is unique, its data (``RABBITMQ_MNESIA_BASE``)
and logs (``RABBITMQ_LOG_BASE``) live in a temporary folder, its Erlang cookie in a
private ``HOME``, and it has its own AMQP port, distribution port and ``epmd`` port,
so it neither meets the system service nor another run's node. ``make test``
installs ``rabbitmq-server`` when missing (``make rabbitmq-server``). Without it
the tests that need the node skip, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from assistant.redis_server import tied_to_this_process

SCRIPTS = Path("/usr/lib/rabbitmq/bin")


def unavailable(reason: str) -> None:
    """Skip the test here; fail it under CI, where the server must be had."""
    if os.environ.get("CI", ""):
        pytest.fail(f"RabbitMQ is needed in CI: {reason}", pytrace=False)
    pytest.skip(f"no RabbitMQ server here: {reason}")


def server_script() -> Path | None:
    """The distribution's ``rabbitmq-server`` script (not the wrapper that switches users)."""
    if (SCRIPTS / "rabbitmq-server").exists():
        return SCRIPTS / "rabbitmq-server"
    found = shutil.which("rabbitmq-server")
    return Path(found) if found else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class RabbitServer:
    """One throw-away RabbitMQ node, started and stopped by the test run."""

    def __init__(self) -> None:
        self.script = server_script()
        self.folder: Path | None = None
        self.port = 0
        self.epmd_port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.epmd: subprocess.Popen[bytes] | None = None
        self.env: dict[str, str] = {}

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def start(self, limit: float = 90) -> str:
        """Start the node and wait until it accepts AMQP connections; its URL.

        Raises:
            RuntimeError: no server installed, or it did not come up (its log is quoted).
        """
        if self.script is None:
            raise RuntimeError("rabbitmq-server not found (apt-get install rabbitmq-server)")
        self.folder = Path(tempfile.mkdtemp(prefix="assistant-rabbit-"))
        home = self.folder / "home"
        home.mkdir(mode=0o700)
        cookie = home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(16))
        cookie.chmod(0o400)
        empty = self.folder / "empty.conf"
        empty.write_text("")
        (self.folder / "enabled_plugins").write_text("[].\n")
        self.port, dist, self.epmd_port = free_port(), free_port(), free_port()
        node = f"assistant-test-{os.getpid()}-{secrets.token_hex(4)}@localhost"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))},
            "HOME": str(home),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "RABBITMQ_NODENAME": node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(dist),
            "RABBITMQ_MNESIA_BASE": str(self.folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.folder / "log"),
            "RABBITMQ_LOGS": str(self.folder / "log" / "node.log"),
            "RABBITMQ_PID_FILE": str(self.folder / "node.pid"),
            "RABBITMQ_CONF_ENV_FILE": str(empty),
            "RABBITMQ_CONFIG_FILE": str(empty),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.folder / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.folder / "enabled_plugins"),
            "RABBITMQ_ENABLED_PLUGINS": "",
        }
        # Our own epmd, in the foreground: it ends with the node, not as a stray daemon.
        epmd = shutil.which("epmd") or "/usr/lib/erlang/bin/epmd"
        self.epmd = subprocess.Popen(
            [epmd, "-port", str(self.epmd_port)],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=tied_to_this_process(),
        )
        deadline = time.monotonic() + 30
        while not _listening(self.epmd_port):
            if self.epmd.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("epmd did not start")
            time.sleep(0.05)
        self.process = subprocess.Popen(
            [str(self.script)],
            env=self.env,
            cwd=self.folder,
            stdin=subprocess.DEVNULL,
            stdout=(self.folder / "stdout.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=tied_to_this_process(),  # the node stops when the test run ends, however
        )
        deadline = time.monotonic() + limit
        while not self._accepts():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"RabbitMQ did not start: {self.log()}")
            time.sleep(0.2)
        return self.url

    def _accepts(self) -> bool:
        import pika

        try:
            connection = pika.BlockingConnection(
                pika.URLParameters(self.url + "?connection_attempts=1&socket_timeout=2")
            )
        except Exception:  # noqa: BLE001 - not up yet, whatever pika says
            return False
        connection.close()
        return True

    def purge(self, *queues: str) -> None:
        """Delete these queues (and their delay queues), so a test starts empty."""
        import pika

        connection = pika.BlockingConnection(pika.URLParameters(self.url))
        channel = connection.channel()
        for queue in queues:
            for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
                channel.queue_delete(name)
        connection.close()

    def stop(self) -> None:
        """Stop the node (and its own epmd), then remove its folder."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        if self.epmd is not None and self.epmd.poll() is None:
            self.epmd.terminate()
            try:
                self.epmd.wait(10)
            except subprocess.TimeoutExpired:
                self.epmd.kill()
                self.epmd.wait(5)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def log(self) -> str:
        """The end of the node's output and log, for a failing test's message."""
        if self.folder is None:
            return ""
        text = ""
        for name in ("stdout.log", "log/node.log"):
            with contextlib.suppress(OSError):
                text += (self.folder / name).read_text(errors="replace")[-3000:]
        return text
