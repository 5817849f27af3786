"""The real thing: `assistant console --jsonl` and `assistant up` with Redis, workers and scheduler."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import pytest
import redis
from assistant_processes import processes_using

from assistant.clock import SystemClock
from assistant.conversation.vocabulary import Outbound, Reply, make_address
from assistant.jobs import outbox, timers
from assistant.redis_server import EmbeddedRedis, ping
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


def _wait_for_up(data: Path, up: subprocess.Popen[str]) -> None:
    """Until `up`, its two workers, its scheduler and its Redis are all there."""
    url_file = data / "redis" / "redis.url"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (len(processes_using(data)) < 4 or not url_file.exists()):
        assert up.poll() is None, "assistant up ended during start-up"
        time.sleep(0.1)
    assert len(processes_using(data)) >= 4, processes_using(data)


def _gone(pid: int) -> bool:
    """Whether a process has ended (a zombie waiting for its reaper counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")


def _poll(check: Callable[[], bool], limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {limit} s")
        time.sleep(0.1)


def test_nothing_of_up_outlives_a_sigkill(tmp_path: Path) -> None:
    # Given `assistant up` with its embedded Redis, two workers and the scheduler
    data = tmp_path / "data"
    data.mkdir()
    up = assistant("up", data=data, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        _wait_for_up(data, up)
        url = (data / "redis" / "redis.url").read_text()
        client = redis.Redis.from_url(url)
        redis_pid = int(client.info("server")["process_id"])
        client.close()
        # When `assistant up` dies without a chance to clean up
        up.kill()
        up.wait()
        # Then its workers, its scheduler and its Redis all end by themselves
        _poll(lambda: not processes_using(data), 30, "the workers and the scheduler ending")
        _poll(lambda: _gone(redis_pid), 30, "the embedded Redis ending")
        assert not ping(url)
        assert not (data / "redis" / "dump.rdb").exists()  # no snapshots: the AOF is enough
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()


def test_a_redis_left_running_for_the_folder_is_adopted_then_stopped(tmp_path: Path) -> None:
    # Given a Redis still running for the data folder (left by an owner that could not tie it)
    data = tmp_path / "data"
    left = EmbeddedRedis(data / "redis")
    url = left.start()
    try:
        # When `assistant up` starts on that folder
        up = assistant("up", data=data, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        _wait_for_up(data, up)
        # Then it uses that Redis instead of starting another
        assert (data / "redis" / "redis.url").read_text() == url
        assert ping(url)
        # And stops it when it stops
        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=30) == 0
        assert not ping(url)
    finally:
        left.stop()


def test_the_embedded_redis_stops_on_sigterm_even_when_its_folder_was_removed(
    tmp_path: Path,
) -> None:
    # Given an embedded Redis that has written some data
    folder = tmp_path / "redis"
    server = EmbeddedRedis(folder)
    url = server.start()
    client = redis.Redis.from_url(url)
    client.set("k", "v")
    client.close()
    process = server.process
    assert process is not None
    # When its folder disappears and it is asked to stop
    shutil.rmtree(folder)
    process.terminate()
    # Then it stops (no final snapshot to fail)
    assert process.wait(timeout=30) is not None
    server.process = None


LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (DEBUG|INFO|WARNING|ERROR)")


def test_the_interactive_console_shows_the_chat_and_logs_to_a_private_file(
    tmp_path: Path,
) -> None:
    # Given `assistant console` in a terminal, typed at with a line that is not UTF-8
    data = tmp_path / "data"
    load_demo(data)
    console = subprocess.Popen(
        [sys.executable, "-m", "assistant", "console", "--data", str(data)],
        env={k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
        | {"ASSISTANT_CONSOLE_LINGER": "0.5"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    log_file = data / "logs" / "assistant.log"
    try:
        assert console.stdin is not None
        console.stdin.write(b"mei> \xff\xfe\xc3(\n" + "mei> 你好\n".encode())
        console.stdin.flush()
        # The terminal stays open until its worker has started (however slow the machine is)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and console.poll() is None:
            if log_file.exists() and "worker started" in log_file.read_text(encoding="utf-8"):
                break
            time.sleep(0.1)
        out, err = console.communicate(None, 120)
    finally:
        if console.poll() is None:
            console.kill()
            console.wait()
    shown, errors = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    # Then the bad line is reported, the next one answered, and the console ends at end of input
    assert console.returncode == 0, errors
    assert "not UTF-8" in shown and "欢迎" in shown
    # And no log line appears in the terminal; they are in a file only the owner can read
    assert not LOG_LINE.search(shown) and not LOG_LINE.search(errors), errors
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(log_file.parent.stat().st_mode) == 0o700
    logged = log_file.read_text(encoding="utf-8")
    assert "embedded Redis started" in logged  # this process
    assert "worker started" in logged  # and its children


def test_verbose_puts_the_log_lines_on_stderr(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    console = assistant(
        "console",
        "--verbose",
        data=data,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _, err = console.communicate("", 120)
    finally:
        if console.poll() is None:
            console.kill()
            console.wait()
    assert console.returncode == 0
    assert LOG_LINE.search(err) and "embedded Redis started" in err
    assert not (data / "logs" / "assistant.log").exists()
