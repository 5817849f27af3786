"""Keyed edits with a version: a progress count delivered late never replaces a later one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram_world import QUICK, FakeBotApi, telegram_settings

from assistant.channels.telegram import TelegramDelivery
from assistant.conversation.vocabulary import Outbound, Reply, parse_address
from assistant.store.memory import MemoryStore

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
UID = 730
KEY = "notice-progress:n-1"


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    server = FakeBotApi(limits=QUICK)
    await server.start()
    yield server
    await server.stop()


def _progress(text: str, version: int, edit: bool = True) -> Outbound:
    reply = Reply(text, key=KEY, edit=edit, version=version)
    return Outbound(parse_address(f"telegram:{UID}"), reply)


async def test_an_older_progress_edit_delivered_after_a_newer_one_is_skipped(
    fake: FakeBotApi, redis_url: str
) -> None:
    # Given the author's progress message, sent by one worker
    fake.user(UID, "小周")
    delivery = TelegramDelivery(telegram_settings(fake), redis_url, MemoryStore())
    try:
        await asyncio.to_thread(delivery.deliver, _progress("已发送 0 / 3,000 人", 1, edit=False))
        [first] = fake.sent_to(UID)

        # When the 1,200 edit arrives first and the 900 edit, held up in another worker, after it
        await asyncio.to_thread(delivery.deliver, _progress("已发送 1,200 / 3,000 人", 2401))
        await asyncio.to_thread(delivery.deliver, _progress("已发送 900 / 3,000 人", 1801))

        # Then the message still says 1,200: the older edit was skipped
        shown = fake.chat_messages(UID)[-1]
        assert shown["message_id"] == first.message_id
        assert shown["text"] == "已发送 1,200 / 3,000 人"
        assert len(fake.sent_to(UID)) == 1  # and nothing was sent as a new message

        # When the final edit comes, it is applied, and a late count cannot undo it
        await asyncio.to_thread(delivery.deliver, _progress("通知发完了：3,000 / 3,000 人 ✓", 6002))
        await asyncio.to_thread(delivery.deliver, _progress("已发送 2,950 / 3,000 人", 5901))
        assert fake.chat_messages(UID)[-1]["text"] == "通知发完了：3,000 / 3,000 人 ✓"
        assert len(fake.sent_to(UID)) == 1
    finally:
        delivery.close()


async def test_the_same_version_again_is_admitted(redis_url: str) -> None:
    # A retried delivery of the same edit carries the same version: it must not be skipped.
    import redis.asyncio as aioredis

    from assistant.channels.common.edits import SentMessages

    client = aioredis.Redis.from_url(redis_url)
    sent = SentMessages(client, "tg:")
    try:
        assert await sent.admit("telegram:1", KEY, 5)
        assert await sent.admit("telegram:1", KEY, 5)
        assert not await sent.admit("telegram:1", KEY, 4)
        assert await sent.admit("telegram:1", KEY, 6)
        assert await sent.admit("telegram:2", KEY, 1)  # each address and key on its own
    finally:
        await client.aclose()
