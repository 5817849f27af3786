"""Sending from workers: once, within Telegram's limits, and kind about blocked users."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import redis
from fake_bot_api import FakeBotApi, FloodLimits
from people_sim import Person
from tg_demo import COORDINATOR_ID, Running, demo_app, engine_for, telegram_settings

from assistant.channels.telegram import TelegramChannel, TelegramDelivery, TryLater
from assistant.channels.telegram.delivery import message_key
from assistant.clock import to_iso
from assistant.conversation.vocabulary import Choice, Outbound, Reply, parse_address
from assistant.i18n import translator
from assistant.jobs import timers
from assistant.services import people

ZH = translator("zh_CN")
# PTB itself warns about RetryAfter.retry_after's future type when it builds the error.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
def delivery(running: Running, redis_url: str) -> Iterator[TelegramDelivery]:
    """A worker's delivery, with its own event loop thread, on the same Redis."""
    worker = TelegramDelivery(running.app.settings, redis_url, running.app.store)
    yield worker
    worker.close()


def _resident(running: Running, uid: int) -> None:
    with running.app.store.transaction() as tx:
        people.create_person(
            tx,
            name=f"居民{uid}",
            address=f"telegram:{uid}",
            language="zh_CN",
            now=to_iso(running.app.clock.now()),
            grid_id="jx-1",
        )


def _to(uid: int, text: str, **options: object) -> Outbound:
    meta = options.pop("meta", {})
    return Outbound(parse_address(f"telegram:{uid}"), Reply(text, **options), meta=meta)  # type: ignore[arg-type]


async def test_a_worker_message_with_buttons_is_answered_in_the_bot_process(
    running: Running, delivery: TelegramDelivery
) -> None:
    # Given a registered resident
    fake = running.fake
    _resident(running, 501)
    lin = Person(fake, 501)

    # When a worker thread sends her a message with a button
    offer = Choice("English", "a:lang:en")
    await asyncio.to_thread(delivery.deliver, _to(501, "请选择语言", choices=((offer,),)))
    # And she presses it (the bot process checks the worker's token in Redis)
    reply = await lin.presses("English")

    # Then the engine got the value and answered
    assert reply[0].text == translator("en").t("core.language_set")


async def test_a_redelivered_message_is_sent_once(
    running: Running, delivery: TelegramDelivery, redis_url: str
) -> None:
    # Given a message a worker already sent
    _resident(running, 502)
    Person(running.fake, 502)
    message = _to(502, "明天上午9点有上门照料")
    await asyncio.to_thread(delivery.deliver, message)

    # When the queue delivers it again (the worker died before acknowledging)
    await asyncio.to_thread(delivery.deliver, message)

    # Then the resident got it once
    assert [s.text for s in running.fake.sent_to(502)] == ["明天上午9点有上门照料"]


async def test_a_message_claimed_by_a_dead_worker_waits_for_its_lease(
    running: Running, delivery: TelegramDelivery, redis_url: str
) -> None:
    # Given a worker that claimed a message and was killed before Telegram answered
    _resident(running, 503)
    Person(running.fake, 503)
    message = _to(503, "提醒")
    client = redis.Redis.from_url(redis_url)
    client.set(message_key(message), "sending:dead-worker", px=60_000)

    # When the message is redelivered to another worker
    with pytest.raises(TryLater) as later:
        await asyncio.to_thread(delivery.deliver, message)

    # Then it is not sent now, but retried after the claim's lease
    assert 0 < later.value.seconds <= 60
    assert running.fake.sent_to(503) == []
    client.close()


async def test_a_keyed_message_is_edited_in_place(
    running: Running, delivery: TelegramDelivery
) -> None:
    # Given a volunteer who received a task offer with buttons
    fake = running.fake
    _resident(running, 504)
    volunteer = Person(fake, 504)
    accept = Choice("接单", "a:offer:accept:t1")
    await asyncio.to_thread(
        delivery.deliver, _to(504, "新任务：上门照料", choices=((accept,),), key="offer:t1")
    )
    offer = fake.last_with_buttons(504)

    # When someone else took it, and the offer is edited by key
    await asyncio.to_thread(
        delivery.deliver, _to(504, "这个任务已经有人接了，谢谢您！", key="offer:t1", edit=True)
    )

    # Then the same message now says so, without buttons, and nothing new was sent
    assert len(fake.sent_to(504)) == 1
    edited = fake.chat_messages(504)[-1]
    assert edited["message_id"] == offer["message_id"]
    assert edited["text"] == "这个任务已经有人接了，谢谢您！"
    assert "reply_markup" not in edited
    # And the old button, pressed from a stale copy, has expired
    fake.press(volunteer.user, offer, "接单")
    answer = await fake.wait_until(lambda: fake.answers and fake.answers[-1])
    assert answer["text"] == ZH.t("tg.button_expired")


async def test_a_blocked_user_becomes_unreachable_and_the_coordinator_is_told(
    running: Running, delivery: TelegramDelivery
) -> None:
    # Given a resident who blocked the bot
    _resident(running, 505)
    Person(running.fake, 505)
    running.fake.blocked.add(505)

    # When a worker sends her an important message
    important = _to(505, "明天上午9点有上门照料", meta={"important": "1"})
    await asyncio.to_thread(delivery.deliver, important)

    # Then her address is marked unreachable, nothing is retried
    with running.app.store.snapshot() as tx:
        assert tx.get(people.ADDRESSES, "telegram:505")["reachable"] is False
        queued = timers.pending(tx)
    # And her grid's coordinators are told through the outbox
    notices = {t["args"][0]["to"]: t["args"][0]["text"] for t in queued}
    assert f"telegram:{COORDINATOR_ID}" in notices and "console:grid" in notices
    assert "居民505" in notices[f"telegram:{COORDINATOR_ID}"]
    assert [c[0] for c in running.fake.calls].count("sendMessage") == 1


async def test_a_429_storm_delivers_everything_once(redis_url: str) -> None:
    # Given a Telegram far stricter than our limits (5 messages/s), answering 429s
    fake = FakeBotApi(limits=FloodLimits(bot_per_second=5, bot_burst=2, retry_after=1))
    await fake.start()
    app = demo_app(telegram_settings(fake))
    worker = TelegramDelivery(app.settings, redis_url, app.store)
    channel = TelegramChannel(app, engine_for(app), redis_url)
    await channel.start()
    try:
        # When six people open the bot at once while workers send six reminders
        users = [Person(fake, 600 + n) for n in range(6)]
        others = [Person(fake, 700 + n) for n in range(6)]
        for user in users:
            fake.send_text(user.user, "/start")
        sends = [
            asyncio.to_thread(worker.deliver, _to(other.uid, f"提醒 {other.uid}"))
            for other in others
        ]
        await asyncio.gather(*sends)
        await fake.wait_until(lambda: all(len(u.received()) == 1 for u in users), timeout=30)

        # Then Telegram said 429, yet every message arrived exactly once
        assert fake.throttled > 0
        assert all([s.text for s in o.received()] == [f"提醒 {o.uid}"] for o in others)
        assert all(len(u.received()) == 1 for u in users)
    finally:
        await channel.stop()
        worker.close()
        await fake.stop()
