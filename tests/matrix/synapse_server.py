"""A real Synapse homeserver on loopback for the Matrix tests: SQLite, no federation, no internet.

:class:`Synapse` writes a complete ``homeserver.yaml`` (no generated config, so
nothing in it reaches out: no federation listener and an empty federation
whitelist, no trusted key servers, no URL previews, no presence, no stats),
starts ``synapse.app.homeserver`` with the interpreter of its own virtual
environment (``.venv/synapse``, made by ``make test``) on a free loopback port,
and polls ``/_matrix/client/versions`` until it answers, within a generous
bound for a busy machine. Users are registered through the shared-secret admin
API, as ``register_new_matrix_user`` does. Rate limits are lifted for everyone;
a test that wants Synapse's ``M_LIMIT_EXCEEDED`` lowers one user's limit with the
admin API (:meth:`Synapse.limit_messages`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVER_NAME = "centre.test"
START_SECONDS = 240.0  # a first start on a busy 2-core machine creates the whole schema
STOP_SECONDS = 15.0
ROOT = Path(__file__).resolve().parents[2]
PYTHON_ENV = "ASSISTANT_SYNAPSE_PYTHON"
LIFTED = {"per_second": 10000, "burst_count": 10000}


class SynapseMissing(RuntimeError):
    """No interpreter with Synapse installed was found."""


def synapse_python() -> str:
    """The interpreter that runs Synapse: ``$ASSISTANT_SYNAPSE_PYTHON``, ``.venv/synapse``,
    or this one when it has Synapse.

    Raises:
        SynapseMissing: none of them has Synapse.
    """
    candidates = [
        os.environ.get(PYTHON_ENV, ""),
        str(ROOT / ".venv" / "synapse" / "bin" / "python"),
    ]
    candidates.append(sys.executable)
    for candidate in candidates:
        if candidate and Path(candidate).exists() and _has_synapse(candidate):
            return candidate
    raise SynapseMissing("Synapse is not installed (make test installs it into .venv/synapse)")


def _has_synapse(python: str) -> bool:
    probe = subprocess.run(
        [python, "-c", "import synapse.app.homeserver"], capture_output=True, timeout=120
    )
    return probe.returncode == 0


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Account:
    """A registered user: id, password, and the access token of its first device."""

    user_id: str
    password: str
    access_token: str
    device_id: str


class Synapse:
    """One Synapse process and its folder."""

    def __init__(self, folder: Path, python: str) -> None:
        self.folder = folder
        self.python = python
        self.port = 0
        self.secret = secrets.token_hex(16)
        self.process: subprocess.Popen[bytes] | None = None
        self._admin: Account | None = None

    @property
    def url(self) -> str:
        """The client-server API base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Write the config, start Synapse, return once it answers.

        Raises:
            RuntimeError: it exited, or did not answer within :data:`START_SECONDS`.
        """
        self.port = free_port()
        config = self.folder / "homeserver.yaml"
        config.write_text(json.dumps(self._config(), indent=1))
        key = base64.b64encode(os.urandom(32)).decode().rstrip("=")
        (self.folder / "signing.key").write_text(f"ed25519 a_test {key}\n")
        log = (self.folder / "synapse.out").open("ab")
        self.process = subprocess.Popen(
            [self.python, "-m", "synapse.app.homeserver", "--config-path", str(config)],
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "SYNAPSE_ASYNC_IO_REACTOR": "0"},
        )
        log.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        delay = 0.1
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"Synapse exited at start-up:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=5):
                    return
            except (OSError, urllib.error.URLError):
                time.sleep(delay)
                delay = min(delay * 1.5, 1.0)
        self.stop()
        raise RuntimeError(f"Synapse did not answer in {START_SECONDS:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop Synapse (SIGTERM, then SIGKILL after :data:`STOP_SECONDS`)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_SECONDS)

    def log_tail(self, lines: int = 40) -> str:
        """The end of Synapse's output, for failure messages."""
        path = self.folder / "synapse.out"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # -- users -------------------------------------------------------------------------

    def register(self, name: str, password: str = "", admin: bool = False) -> Account:
        """Register a user through the shared-secret admin API; return its account."""
        password = password or secrets.token_urlsafe(12)
        nonce = self._call("GET", "/_synapse/admin/v1/register")["nonce"]
        body = {
            "nonce": nonce,
            "username": name,
            "password": password,
            "admin": admin,
            "mac": _mac_hex(self.secret, nonce, name, password, admin),
        }
        got = self._call("POST", "/_synapse/admin/v1/register", body)
        return Account(got["user_id"], password, got["access_token"], got["device_id"])

    def user_id(self, name: str) -> str:
        """The full Matrix id of a local user name."""
        return f"@{name}:{SERVER_NAME}"

    def limit_messages(self, user_id: str, per_second: float, burst: int) -> None:
        """Put ``user_id`` under a real message rate limit (lifted for everyone else)."""
        path = f"/_synapse/admin/v1/users/{user_id}/override_ratelimit"
        body = {"messages_per_second": per_second, "burst_count": burst}
        self._call("POST", path, body, token=self.admin().access_token)

    def admin(self) -> Account:
        """An administrator of this homeserver (registered on first use)."""
        if self._admin is None:
            self._admin = self.register("admin-" + secrets.token_hex(3), admin=True)
        return self._admin

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, token: str = ""
    ) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=30) as answer:
            return dict(json.loads(answer.read() or b"{}"))

    # -- config --------------------------------------------------------------------------

    def _config(self) -> dict[str, Any]:
        folder = self.folder
        return {
            "server_name": SERVER_NAME,
            "public_baseurl": self.url + "/",
            "pid_file": str(folder / "synapse.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {"name": "sqlite3", "args": {"database": str(folder / "homeserver.db")}},
            "media_store_path": str(folder / "media"),
            "signing_key_path": str(folder / "signing.key"),
            "registration_shared_secret": self.secret,
            "enable_registration": False,
            "report_stats": False,
            "enable_metrics": False,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "federation_domain_whitelist": [],
            "url_preview_enabled": False,
            "presence": {"enabled": False},
            "user_directory": {"enabled": False},
            "bcrypt_rounds": 4,
            "rc_message": dict(LIFTED),
            "rc_registration": dict(LIFTED),
            "rc_login": {
                "address": dict(LIFTED),
                "account": dict(LIFTED),
                "failed_attempts": dict(LIFTED),
            },
            "rc_joins": {"local": dict(LIFTED), "remote": dict(LIFTED)},
            "rc_joins_per_room": dict(LIFTED),
            "rc_invites": {
                "per_room": dict(LIFTED),
                "per_user": dict(LIFTED),
                "per_issuer": dict(LIFTED),
            },
            "rc_admin_redaction": dict(LIFTED),
            "rc_3pid_validation": dict(LIFTED),
            "rc_key_requests": dict(LIFTED),
        }


def _mac_hex(secret: str, nonce: str, name: str, password: str, admin: bool) -> str:
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha1)
    mac.update(b"\x00".join(p.encode() for p in (nonce, name, password)))
    mac.update(b"\x00")
    mac.update(b"admin" if admin else b"notadmin")
    return mac.hexdigest()


def clean(folder: Path) -> None:
    """Remove a Synapse folder (after a run)."""
    shutil.rmtree(folder, ignore_errors=True)
