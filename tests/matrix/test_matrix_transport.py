"""Transport on the real homeserver: workers' messages, restarts, M_LIMIT_EXCEEDED, plain rooms."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from matrix_world import Running
from synapse_server import Synapse

from assistant.channels.matrix import MatrixDelivery
from assistant.conversation.vocabulary import Address, Choice, Outbound, Reply
from assistant.i18n import translator


async def test_a_worker_sends_through_the_bot_process_once(
    running: Running, resident_factory: Any
) -> None:
    # Given a resident with a direct room, and a worker's delivery (another thread)
    lin = await resident_factory()
    await lin.open_direct_room(running.bot.account.user_id)
    await lin.says("你好")
    delivery = MatrixDelivery(running.app.settings, running.redis_url, running.app.store)
    message = Outbound(
        Address(lin.address),
        Reply("明天上午九点有人上门。", choices=((Choice("知道了", "x:ok"),),)),
        meta={"dedup": "reminder-1"},
    )
    try:
        # When the worker delivers a message, and a redelivery of the same job runs again
        await asyncio.to_thread(delivery.deliver, message)
        await lin.until(lambda: "明天上午九点" in lin.last().body, "the worker's message")
        await asyncio.to_thread(delivery.deliver, message)
    finally:
        delivery.close()
    # Then the resident got it once, encrypted, with its numbered choice
    got = [said for said in lin.heard if "明天上午九点" in said.body]
    assert len(got) == 1 and got[0].encrypted
    assert "1. 知道了" in got[0].body


async def test_a_restart_keeps_the_device_and_replays_nothing(
    running: Running, resident_factory: Any
) -> None:
    # Given a resident who talked with the bot
    lin = await resident_factory()
    await lin.open_direct_room(running.bot.account.user_id)
    await lin.says("你好")
    await lin.says("1")
    device = running.channel.client.device_id if running.channel.client else ""
    heard = len(lin.heard)

    # When the bot restarts (a new channel on the same store folder)
    channel = await running.restart()

    # Then it is the same device, it answered nothing again, and it reads new encrypted messages
    assert channel.client is not None and channel.client.device_id == device
    answer = await lin.says("林奶奶")
    assert len(lin.heard) == heard + 1
    assert "锦绣家园" in answer[0].body and answer[0].encrypted


async def test_messages_written_while_the_bot_was_down_are_answered_once(
    running: Running, resident_factory: Any
) -> None:
    # Given a resident who writes while the bot is stopped
    lin = await resident_factory()
    await lin.open_direct_room(running.bot.account.user_id)
    await lin.says("你好")
    await running.channel.stop()
    await lin.says("1", expect=0)
    # When the bot starts again
    await running.restart()
    # Then the message is answered, once
    await lin.until(
        lambda: lin.last().body == translator("zh_CN").t("onboard.ask_name"), "the late answer"
    )
    after = await lin.says("林奶奶")
    assert "锦绣家园" in after[0].body
    assert sum(s.body == translator("zh_CN").t("onboard.ask_name") for s in lin.heard) == 1


async def test_an_unencrypted_direct_room_is_answered_in_plain(
    running: Running, resident_factory: Any
) -> None:
    # Given a resident whose client makes plain direct rooms
    lin = await resident_factory()
    await lin.open_direct_room(running.bot.account.user_id, encrypted=False)
    # When they write
    answer = await lin.says("/help")
    # Then the bot answers, unencrypted
    assert answer[0].body and not answer[0].encrypted


async def test_m_limit_exceeded_waits_and_sends_everything_in_order(
    running: Running, resident_factory: Any, synapse: Synapse, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a homeserver that really limits the bot: one message a second, no burst
    lin = await resident_factory()
    await lin.open_direct_room(running.bot.account.user_id)
    await lin.says("你好")
    synapse.limit_messages(running.bot.account.user_id, 1, 1)
    caplog.set_level(logging.INFO, logger="assistant.channels.matrix")
    # When the bot sends four messages at once
    outs = [Outbound(Address(lin.address), Reply(f"第{n}条")) for n in range(1, 5)]
    await running.channel.dispatch(outs)
    # Then Synapse said M_LIMIT_EXCEEDED, and every message still arrived, in order
    await lin.until(lambda: lin.last().body == "第4条", "the fourth message")
    bodies = [s.body for s in lin.heard if s.body.startswith("第")]
    assert bodies == ["第1条", "第2条", "第3条", "第4条"]
    assert any("asked to wait" in record.getMessage() for record in caplog.records)
