"""The processes of the multi-machine profile, each as if on its own machine.

Every process gets its own data folder and shares only the servers: the
PostgreSQL store, Redis (queue, rate limits, choice memory) and the Bot API.
A booker is a spawned process that books through the care service on the
shared store, with its own dramatiq broker, as a bot on another machine would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

COMMAND = [sys.executable, "-m", "assistant"]


def machine_env(base: dict[str, str], data: Path) -> dict[str, str]:
    """The environment of one machine: the shared settings, its own data folder."""
    env = dict(base)
    env["ASSISTANT_STORAGE__DIR"] = str(data)
    return env


def run(env: dict[str, str], *argv: str) -> str:
    """Run one ``assistant`` command to its end; its output (fails the test on an error)."""
    done = subprocess.run(
        [*COMMAND, *argv], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"assistant {' '.join(argv)}: {done.stdout}{done.stderr}"
    return done.stdout


def start(env: dict[str, str], data: Path, *argv: str) -> subprocess.Popen[bytes]:
    """Start a long-running ``assistant`` command on its own machine (data folder)."""
    data.mkdir(parents=True, exist_ok=True)
    log = (data / f"{argv[0]}.log").open("ab")
    return subprocess.Popen(
        [*COMMAND, *argv],
        env=machine_env(env, data),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )


def booker_main(env: dict[str, str], people: list[str], start: str, go: Any, results: Any) -> None:
    """Book one visit for each person at ``start``; report (won, full) counts."""
    os.environ.update(env)
    from assistant import config
    from assistant.runtime import production_app
    from assistant.services import care

    settings = config.load()
    app = production_app(settings, str(settings.get("redis", "url")))
    go.wait(60)
    won = full = 0
    for person_id in people:
        draft = care.Draft("home_care", person_id, person_id, care.CHAT, start, None)
        try:
            with app.unit() as tx:
                care.book(tx, app, draft, app.clock.now())
            won += 1
        except care.SlotFull:
            full += 1
    results.put((won, full))
    app.store.close()


SPAWN_CONTEXT = __import__("multiprocessing").get_context("spawn")
