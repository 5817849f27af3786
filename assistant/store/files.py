"""Durable writes to local files, shared by the hot files, the archive and the journal.

A write is durable once its data is fsynced and, for a new or renamed file,
once its directory is fsynced too. Every JSON line or file the store writes
goes through :func:`dumps`, so they share one compact layout.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

PRIVATE_FILE = 0o600
"""The mode of every file that may hold personal data: the service's user only."""

PRIVATE_DIR = 0o700
"""The mode of every folder the assistant creates for its data."""


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) readable by the service's user only."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    path.chmod(PRIVATE_DIR)
    return path


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, the layout of every file the store writes."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def fsync_dir(directory: Path) -> None:
    """Make renames and new files in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_temp(target: Path, data: bytes) -> Path:
    """Write ``data`` durably to a fresh temporary file beside ``target``."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)
