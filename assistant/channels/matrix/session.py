"""The bot's Matrix session: one device, kept across restarts, with its keys on disk.

A new device at every start would leave earlier messages undecryptable and make
residents' clients warn about a new session, so the device is made once and
kept: ``session.json`` in ``[matrix] store_dir`` (mode 0600) holds the user id,
device id and access token; nio's SQLite key store beside it holds the Olm
account and the Megolm sessions. The first start logs in with ``password``
(or adopts ``access_token``, asking the homeserver which device it belongs to);
later starts restore that session without logging in again.

Residents' devices are trusted on first use (no interactive verification is
asked of a grandmother): every device the key queries bring in is marked
verified unless it was blacklisted.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nio import AsyncClient, AsyncClientConfig, LoginError, WhoamiError

from assistant.config import SettingsError

log = logging.getLogger(__name__)

SESSION_FILE = "session.json"
REQUEST_TIMEOUT = 30.0


class LoginFailed(SettingsError):
    """The homeserver refused the bot's credentials; the message names the settings."""


def check(section: Mapping[str, Any]) -> None:
    """Refuse settings that cannot log in, naming the keys to set.

    Raises:
        SettingsError: ``user_id`` is not a Matrix user id.
    """
    user_id = str(section["user_id"])
    if not (user_id.startswith("@") and ":" in user_id):
        raise SettingsError(
            "[matrix] homeserver is set, so [matrix] user_id must be the bot's Matrix id, "
            "e.g. @centre-bot:example.org (ASSISTANT_MATRIX__USER_ID)"
        )


def store_dir(section: Mapping[str, Any], data_dir: Path) -> Path:
    """The folder of the session and key store (``[matrix] store_dir`` or ``<data>/matrix``)."""
    configured = str(section["store_dir"])
    folder = Path(configured).expanduser() if configured else data_dir / "matrix"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def new_client(section: Mapping[str, Any], folder: Path) -> AsyncClient:
    """An encrypting nio client whose key store and sync token live in ``folder``."""
    config = AsyncClientConfig(
        encryption_enabled=True,
        store_sync_tokens=True,
        request_timeout=REQUEST_TIMEOUT,
        max_limit_exceeded=0,  # M_LIMIT_EXCEEDED comes back to the sender, which keeps the policy
        max_timeouts=2,
    )
    return AsyncClient(
        str(section["homeserver"]).rstrip("/"),
        str(section["user_id"]),
        store_path=str(folder),
        config=config,
    )


async def log_in(client: AsyncClient, section: Mapping[str, Any], folder: Path) -> None:
    """Restore the kept session, or make it once; then load the key store.

    Raises:
        LoginFailed: the homeserver refused the password or the access token.
    """
    saved = _read(folder)
    user_id = str(section["user_id"])
    if saved and saved.get("user_id") == user_id and saved.get("homeserver") == client.homeserver:
        client.restore_login(user_id, str(saved["device_id"]), str(saved["access_token"]))
        log.info("Matrix session restored (device %s)", client.device_id)
        return
    token = str(section["access_token"])
    if not token and not str(section["password"]):
        raise LoginFailed(
            "the bot has no Matrix device yet: set [matrix] password (ASSISTANT_MATRIX__PASSWORD) "
            "or [matrix] access_token for the first start"
        )
    if token:
        client.access_token = token
        whoami = await client.whoami()
        if isinstance(whoami, WhoamiError) or not whoami.device_id:
            raise LoginFailed(
                "[matrix] access_token was refused, or belongs to no device "
                f"({getattr(whoami, 'status_code', '')})"
            )
        client.restore_login(whoami.user_id, whoami.device_id, token)
    else:
        answer = await client.login(str(section["password"]), str(section["device_name"]))
        if isinstance(answer, LoginError):
            raise LoginFailed(
                f"the homeserver refused [matrix] user_id and password ({answer.status_code})"
            )
        client.load_store()
    _write(folder, client)
    log.info("Matrix device %s made for the bot and kept in the store folder", client.device_id)


def trust_devices(client: AsyncClient) -> int:
    """Mark every device the bot knows as verified (trust on first use); return how many."""
    trusted = 0
    if client.olm is None:
        return 0
    for user_id in list(client.device_store.users):
        if user_id == client.user_id:
            continue
        for device in client.device_store.active_user_devices(user_id):
            if not device.verified and not device.blacklisted:
                client.verify_device(device)
                trusted += 1
    return trusted


def _read(folder: Path) -> dict[str, Any] | None:
    path = folder / SESSION_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        log.warning("the Matrix session file cannot be read; logging in anew")
        return None
    return data if isinstance(data, dict) else None


def _write(folder: Path, client: AsyncClient) -> None:
    path = folder / SESSION_FILE
    body = {
        "homeserver": client.homeserver,
        "user_id": client.user_id,
        "device_id": client.device_id,
        "access_token": client.access_token,
    }
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(body, out)
    os.replace(temporary, path)
