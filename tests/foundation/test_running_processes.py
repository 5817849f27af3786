"""The real thing: `assistant console --jsonl` and `assistant up` with Redis, workers and scheduler."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import pytest

from assistant.clock import SystemClock
from assistant.conversation.vocabulary import Outbound, Reply, make_address
from assistant.redis_server import ping
from assistant.services import outbox, timers
from assistant.store.base import Tx

pytestmark = pytest.mark.slow


def assistant(*args: str, data: Path, **popen: Any) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_CONSOLE_LINGER"] = "0.5"
    return subprocess.Popen(
        [sys.executable, "-m", "assistant", *args, "--data", str(data)],
        env=env,
        text=True,
        start_new_session=True,
        **popen,
    )


def load_demo(data: Path) -> None:
    done = assistant("demo-data", data=data, stdout=subprocess.PIPE)
    assert done.wait(60) == 0


class Console:
    """A running `assistant console --jsonl` process whose output a thread collects."""

    def __init__(self, data: Path) -> None:
        self.process = assistant(
            "console", "--jsonl", data=data, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin: IO[str] = self.process.stdin
        self.lines: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, args=(self.process.stdout,))
        self._reader.start()

    def _read(self, stdout: IO[str]) -> None:
        for line in stdout:
            self.lines.append(json.loads(line))

    def send(self, **line: Any) -> None:
        self.stdin.write(json.dumps(line, ensure_ascii=False) + "\n")
        self.stdin.flush()

    def wait_for(self, needle: str, limit: float = 60) -> dict[str, Any]:
        """The first output line (from the start) whose text contains ``needle``."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            for message in list(self.lines):
                if needle in message.get("text", ""):
                    return message
            if self.process.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"{needle!r} never came; saw {self.lines}")

    def close(self) -> int:
        self.stdin.close()
        code = self.process.wait(30)
        self._reader.join(10)
        return code


def test_the_jsonl_console_onboards_two_people_and_shows_worker_messages(tmp_path: Path) -> None:
    data = tmp_path / "data"
    load_demo(data)
    console = Console(data)
    try:
        # Given two newcomers, one in Chinese and one in English
        for user, language, name, agree, building, unit, skip in (
            ("mei", "✓ 中文", "梅阿姨", "同意", "1栋", "2单元", "跳过"),
            ("tom", "English", "Tom", "I agree", "Building 1", "Unit 2", "Skip"),
        ):
            console.send(**{"as": user, "text": "/start"})
            console.send(**{"as": user, "press": language})
            console.send(**{"as": user, "text": name})
            console.send(**{"as": user, "press": "锦绣家园"})
            console.send(**{"as": user, "press": building})
            console.send(**{"as": user, "press": unit})
            console.send(**{"as": user, "text": "502"})
            console.send(**{"as": user, "press": skip})
            console.send(**{"as": user, "press": agree})
        # Then both are registered, each in their language
        console.wait_for("登记好了，梅阿姨")
        console.wait_for("You're registered, Tom")
        # When a worker process sends a message (an outbox timer, as reminders are)
        from assistant.bootstrap import build
        from assistant.config import defaults

        app = build(defaults().with_values(storage={"dir": str(data)}))
        now = SystemClock().now()
        with app.store.transaction() as tx:
            outbox.post(
                tx,
                Outbound(make_address("console", "mei"), Reply("来自后台的提醒"), "zh_CN"),
                now,
                due=now + timedelta(seconds=1),
            )
        # Then the scheduler hands it to a worker and the console shows it
        shown = console.wait_for("来自后台的提醒")
        assert shown["to"] == "mei"
        # And the timer is done, so it is never sent again
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with app.store.snapshot() as tx:
                if not outbox_timers(tx):
                    break
            time.sleep(0.05)
        with app.store.snapshot() as tx:
            assert outbox_timers(tx) == []
    finally:
        assert console.close() == 0


def outbox_timers(tx: Tx) -> list[dict[str, Any]]:
    """Outbox messages not yet sent (the daily digest timer is pending on purpose)."""
    return [t for t in timers.pending(tx) if t["job"] == "outbox.deliver"]


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


def test_up_stops_everything_on_sigterm_within_ten_seconds(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    log = (tmp_path / "up.log").open("w")
    up = assistant("up", data=data, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log)
    try:
        # Given `assistant up` with its Redis, two workers and the scheduler running
        deadline = time.monotonic() + 60
        url_file = data / "redis" / "redis.url"
        while time.monotonic() < deadline and (
            len(processes_using(data)) < 4 or not url_file.exists()
        ):
            time.sleep(0.1)
        assert len(processes_using(data)) >= 4, processes_using(data)  # up, 2 workers, scheduler
        url = url_file.read_text()
        assert ping(url)
        # When it gets SIGTERM
        up.send_signal(signal.SIGTERM)
        # Then it stops within the promised ten seconds …
        code = up.wait(timeout=10)
    finally:
        if up.poll() is None:
            up.kill()
        print((tmp_path / "up.log").read_text())
    # … cleanly, and leaves no process behind
    assert code == 0
    assert processes_using(data) == []
    assert not url_file.exists()
    assert not ping(url)  # the embedded Redis is gone too


def test_workers_stop_by_themselves_when_up_is_killed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    up = assistant("up", data=data, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    url_file = data / "redis" / "redis.url"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (len(processes_using(data)) < 4 or not url_file.exists()):
        time.sleep(0.1)
    children = [pid for pid in processes_using(data) if pid != up.pid]
    assert len(children) >= 3
    # When `assistant up` dies without a chance to clean up
    up.kill()
    up.wait()
    # Then its workers and scheduler notice and stop on their own
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and processes_using(data):
        time.sleep(0.1)
    assert processes_using(data) == []
    # And the embedded Redis left behind is reused by the next start, then stopped
    url = url_file.read_text()
    assert ping(url)
    again = assistant("up", data=data, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(processes_using(data)) < 4:
        time.sleep(0.1)
    again.send_signal(signal.SIGTERM)
    assert again.wait(timeout=10) == 0
    assert not ping(url)
