"""`assistant up` with a Telegram token serves the whole product on Telegram, workers included."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from assistant_processes import clean_env, demo_data, processes_using, start_up
from fake_bot_api import FakeBotApi
from people_sim import Person

from assistant.bootstrap import build
from assistant.clock import SystemClock
from assistant.config import defaults
from assistant.conversation.vocabulary import Outbound, Reply, make_address
from assistant.jobs import outbox
from assistant.jobs.timers import pending as outbox_timers
from assistant.redis_server import ping

pytestmark = pytest.mark.slow


async def test_up_serves_onboarding_booking_and_worker_messages_on_telegram(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    # Given a data folder with the demo community and `assistant up` pointed at a Bot API server
    data = tmp_path / "data"
    env = _telegram_env(fake)
    demo_data(data, env)
    up = start_up(data, env)
    try:
        await fake.wait_until(lambda: bool(fake.commands), 60)
        # When a newcomer registers through Telegram
        person = Person(fake, 4242, "梅", "zh-hans")
        await person.says("/start", expect=1, timeout=30)
        await person.presses("✓ 中文")
        await person.says("梅阿姨")
        await person.presses("锦绣家园")
        await person.presses("1栋")
        await person.presses("2单元")
        await person.says("502", expect=2)
        await person.presses("跳过")
        done = await person.presses("同意", expect=2)
        assert "登记好了" in done[0].text
        # And books a home care visit, as on the console
        await person.says("/care")
        await person.presses("上门照料 · 免费")
        days = person.buttons()
        await person.presses(days[0])  # the first day with a free time
        times = person.buttons()
        await person.presses(times[0])  # its first free time
        await person.presses("对，就是这里")
        await person.presses("跳过")
        booked = await person.presses("确认预约")
        assert "约好了" in booked[-1].text
        # Then a message that a worker process sends reaches them through Telegram too
        app = build(defaults().with_values(storage={"dir": str(data)}))
        now = SystemClock().now()
        with app.store.transaction() as tx:
            message = Outbound(make_address("telegram", 4242), Reply("提醒：明天记得量血压"))
            outbox.post(tx, message, now, due=now + timedelta(seconds=1))
        await fake.wait_until(lambda: any("量血压" in sent.text for sent in person.received()), 30)
    finally:
        up.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(up.wait, 15)
    assert code == 0


def _telegram_env(fake: FakeBotApi) -> dict[str, str]:
    """The environment of an `assistant up` pointed at the fake Bot API."""
    return clean_env(
        ASSISTANT_TELEGRAM__TOKEN=fake.token,
        ASSISTANT_TELEGRAM__BASE_URL=fake.base_url,
        ASSISTANT_TELEGRAM__BASE_FILE_URL=fake.base_file_url,
        ASSISTANT_TELEGRAM__MAX_CHAT_MESSAGES_PER_SECOND="200",
    )


async def _poll(check: Callable[[], object], limit: float, what: str) -> None:
    """Wait until ``check()`` is truthy, looking every 0.1 s for at most ``limit`` seconds."""
    deadline = asyncio.get_running_loop().time() + limit
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: not within {limit} s")
        await asyncio.sleep(0.1)


def _outbox_left(data: Path) -> list[dict[str, object]]:
    app = build(defaults().with_values(storage={"dir": str(data)}))
    with app.store.snapshot() as tx:
        return [t for t in outbox_timers(tx) if t["job"] == "outbox.deliver"]


async def test_a_stop_is_bounded_when_the_bot_api_never_answers_and_nothing_is_lost(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    # Given `assistant up` on Telegram, and a Bot API that then accepts sends but never answers
    data = tmp_path / "data"
    env = _telegram_env(fake)
    demo_data(data, env)

    def start() -> subprocess.Popen[bytes]:
        return start_up(data, env)

    up = start()
    try:
        await fake.wait_until(lambda: bool(fake.commands), 60)
        fake.stall()
        newcomer = Person(fake, 4343, "梅")
        fake.send_text(newcomer.user, "/start")
        await fake.wait_until(lambda: fake.stalls, 30)
        url = (data / "redis" / "redis.url").read_text()
        # When `up` is asked to stop while its reply hangs
        up.send_signal(signal.SIGTERM)
        # Then it ends cleanly (the product promises 10 s; the bound here is generous) …
        await _poll(lambda: up.poll() is not None, 30, "assistant up ending")
        assert up.returncode == 0
        # … and leaves nothing running: no worker, no scheduler, no Redis
        await _poll(lambda: not processes_using(data), 30, "its children ending")
        assert not ping(url)
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    # When the Bot API answers again and `up` starts once more
    fake.unstall()
    again = start()
    try:
        # Then the replies that were cut off arrive, once each
        await fake.wait_until(lambda: len(newcomer.received()) >= 1, 90)
        await _poll(lambda: not _outbox_left(data), 60, "the outbox emptying")
        texts = [sent.text for sent in newcomer.received()]
        assert len(texts) == 1, texts
        assert any("欢迎" in text for text in texts)
    finally:
        again.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(again.wait, 30) == 0
