"""The product's own commands as real processes, for the tests that start them.

``assistant demo-data`` and ``assistant up`` run with ``python -m assistant`` in a
data folder of the test's own, with an environment free of the caller's
``ASSISTANT_*`` settings plus the ones a test gives; :func:`processes_using` finds
what is still running for a folder (a stop must leave nothing behind).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

COMMAND = [sys.executable, "-m", "assistant"]


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without ``ASSISTANT_*``, plus ``settings`` (full names)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(settings)
    return env


def demo_data(data: Path, env: dict[str, str]) -> None:
    """Fill ``data`` with the demo community (``assistant demo-data``)."""
    done = subprocess.run([*COMMAND, "demo-data", "--data", str(data)], env=env, check=False)
    assert done.returncode == 0


def start_up(data: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``assistant up`` on ``data`` in a session of its own (signals reach it alone)."""
    return subprocess.Popen(
        [*COMMAND, "up", "--data", str(data)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )


def processes_using(folder: Path) -> list[int]:
    """Pids whose command line or environment mention the folder."""
    found = []
    needle = str(folder).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            blob = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in blob:
            found.append(int(entry.name))
    return found
