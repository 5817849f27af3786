"""`assistant up` with Matrix settings serves a resident end to end, worker processes included."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from assistant_processes import clean_env, demo_data, start_up
from synapse_server import Synapse

from assistant.bootstrap import build
from assistant.clock import SystemClock
from assistant.config import defaults
from assistant.conversation.vocabulary import Outbound, Reply, make_address
from assistant.jobs import outbox

pytestmark = pytest.mark.slow

START_BOUND = 180.0  # the bot, a worker and a scheduler process starting on a busy machine


async def test_up_serves_a_resident_and_a_workers_message_on_matrix(
    synapse: Synapse, tmp_path: Path, resident_factory_alone: Any
) -> None:
    # Given a data folder with the demo community and `assistant up` pointed at the homeserver
    bot = synapse.register("centre-up")
    data = tmp_path / "data"
    env = clean_env(
        ASSISTANT_MATRIX__HOMESERVER=synapse.url,
        ASSISTANT_MATRIX__USER_ID=bot.user_id,
        ASSISTANT_MATRIX__PASSWORD=bot.password,
        ASSISTANT_WORKERS__PROCESSES="1",
    )
    demo_data(data, env)
    up = start_up(data, env)
    try:
        # When a resident opens an encrypted direct room and says hello
        mei = await resident_factory_alone()
        await mei.open_direct_room(bot.user_id, timeout=START_BOUND)
        greeting = await mei.says("你好", timeout=START_BOUND)
        # Then the bot answers, encrypted, with the language question
        assert greeting[0].encrypted and "1. ✓ 中文" in greeting[0].body
        # And a message that a worker process sends reaches them too
        app = build(defaults().with_values(storage={"dir": str(data)}))
        now = SystemClock().now()
        with app.store.transaction() as tx:
            message = Outbound(
                make_address("matrix", mei.account.user_id), Reply("提醒：明天记得量血压")
            )
            outbox.post(tx, message, now, due=now + timedelta(seconds=1))
        await mei.until(lambda: "量血压" in mei.last().body, "the worker's message", START_BOUND)
        assert mei.last().encrypted
    finally:
        up.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(up.wait, 15)
    assert code == 0
    # And the device it made is kept in the data folder for the next start
    assert (data / "matrix" / "session.json").exists()
