"""Where log lines go: the terminal, or a private file when the terminal is a chat.

The interactive console shows the conversation, so log lines must not appear
between its messages: ``assistant console`` and an ``assistant up`` that talks
in the terminal write their logs to ``<data folder>/logs/assistant.log``
(folder 0700, file 0600, since lines may name ids and addresses), unless
``--verbose`` asks for them on stderr. The worker and scheduler processes of
``up`` inherit the choice through :data:`LOG_FILE_ENV`. Every other command
(and the JSON-lines console, whose chat is on stdout) logs to stderr.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

LOG_FILE_ENV = "ASSISTANT_LOG_FILE"
LOG_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
FOLDER_MODE = 0o700
FILE_MODE = 0o600
# Loggers that say too much at INFO: httpx logs every request URL, and a Bot API
# URL holds the bot's token.
CHATTY = ("httpx", "httpcore")


def log_file_of(data_dir: Path) -> Path:
    """The log file of a data folder."""
    return data_dir / "logs" / "assistant.log"


def private_file(path: Path) -> Path:
    """Create ``path`` (mode 0600), in a folder only its owner can enter (0700) if it makes one.

    Only what it creates is given those modes: an existing folder keeps its own
    (it may be ``/tmp`` or ``/dev``), and a path that is not a regular file (a
    device such as ``/dev/null``, a pipe) is used as it is and never chmod-ed.
    """
    folder = path.parent
    if not folder.exists():
        folder.mkdir(mode=FOLDER_MODE, parents=True)
        os.chmod(folder, FOLDER_MODE)
    if path.exists() and not path.is_file():
        return path
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    os.close(fd)
    os.chmod(path, FILE_MODE)
    return path


def setup(level: str, file: Path | None = None) -> None:
    """Send every log line at ``level`` or above to ``file``, else to stderr.

    Like :func:`logging.basicConfig`, it leaves a root logger that already has
    handlers (a test runner's) alone.
    """
    root = logging.getLogger()
    if root.handlers:
        return
    handler: logging.Handler
    if file is not None:
        handler = logging.FileHandler(private_file(file), encoding="utf-8")
        logging.captureWarnings(True)  # a warning printed to the terminal would break the chat
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    for name in CHATTY:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def inherited_file() -> Path | None:
    """The log file a parent ``assistant up`` chose for this process, if any."""
    value = os.environ.get(LOG_FILE_ENV, "")
    return Path(value) if value else None
