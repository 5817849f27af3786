"""`assistant up` with a Telegram token serves the whole product on Telegram, workers included."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from fake_bot_api import FakeBotApi
from people_sim import Person

from assistant.bootstrap import build
from assistant.clock import SystemClock
from assistant.config import defaults
from assistant.conversation.vocabulary import Outbound, Reply, make_address
from assistant.services import outbox

pytestmark = pytest.mark.slow


async def test_up_serves_onboarding_booking_and_worker_messages_on_telegram(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    # Given a data folder with the demo community and `assistant up` pointed at a Bot API server
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_TELEGRAM__TOKEN=fake.token,
        ASSISTANT_TELEGRAM__BASE_URL=fake.base_url,
        ASSISTANT_TELEGRAM__BASE_FILE_URL=fake.base_file_url,
        ASSISTANT_TELEGRAM__MAX_CHAT_MESSAGES_PER_SECOND="200",
    )
    command = [sys.executable, "-m", "assistant"]
    demo = subprocess.run([*command, "demo-data", "--data", str(data)], env=env, check=False)
    assert demo.returncode == 0
    up = subprocess.Popen(
        [*command, "up", "--data", str(data)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        await fake.wait_until(lambda: bool(fake.commands), 60)
        # When a newcomer registers through Telegram
        person = Person(fake, 4242, "梅", "zh-hans")
        await person.says("/start", expect=2, timeout=30)
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
        slots = person.buttons()
        await person.presses(slots[0])
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
