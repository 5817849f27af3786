"""A care booking on Matrix end to end: the resident books in an encrypted direct room, the
offer reaches two volunteers (both on Matrix, or one on Telegram) through the workers'
delivery, the first to accept wins and the other's offer is edited to "taken"."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from matrix_world import Running

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "telegram"))
from fake_bot_api import FakeBotApi  # noqa: E402

from assistant.channels.matrix import MatrixDelivery  # noqa: E402
from assistant.channels.telegram import TelegramDelivery  # noqa: E402
from assistant.delivery import MemoryDelivery, RoutedDelivery  # noqa: E402
from assistant.i18n import translator  # noqa: E402
from assistant.jobs.firing import bound  # noqa: E402
from assistant.services import care, people  # noqa: E402

HOME_CARE = "上门照料 · 免费"


def _link(running: Running, console: str, matrix: str) -> None:
    """A demo person (console address) uses a Matrix address too."""
    with running.app.store.transaction() as tx:
        person = people.person_at(tx, f"console:{console}")
        assert person is not None
        people.link_address(tx, person["id"], matrix)


async def test_a_booking_is_offered_accepted_and_shown_taken_on_matrix(
    running: Running, resident_factory: Any
) -> None:
    # Given 林奶奶 and two volunteers of her grid, all on Matrix, each in a direct room
    tr = translator("zh_CN")
    lin, chen, huang = [await resident_factory() for _ in range(3)]
    for who, demo_name in ((lin, "lin"), (chen, "chen"), (huang, "huang")):
        _link(running, demo_name, who.address)
        await who.open_direct_room(running.bot.account.user_id)
    worker = MatrixDelivery(running.app.settings, running.redis_url, running.app.store)
    console = MemoryDelivery()
    running.app.delivery = RoutedDelivery({"matrix": worker, "console": console})

    async def run_jobs() -> None:  # a worker: the queued jobs, off the event loop
        await asyncio.to_thread(running.app.queue.run_all, bound(running.app))  # type: ignore[attr-defined]

    try:
        # When she books a home care visit, answering by label and by number
        await lin.says("/care")
        await lin.says(HOME_CARE)
        await lin.says("1")  # the first day offered
        await lin.says("1")  # its first time
        await lin.says("对，就是这里")
        await lin.says("跳过")
        await lin.says("确认预约", expect=1)
        await run_jobs()
        # Then both volunteers get the offer, encrypted, with numbered choices
        for volunteer in (chen, huang):
            await volunteer.until(
                lambda v=volunteer: any(tr.t("dispatch.accept") in s.body for s in v.heard),
                "the offer",
            )
        offer = next(s for s in chen.heard if tr.t("dispatch.accept") in s.body)
        assert offer.encrypted
        # When 陈建国 accepts by reacting with the accept choice's keycap
        number = offer.body.split(f". {tr.t('dispatch.accept')}")[0].split("\n")[-1]
        await chen.reacts(offer.event_id, f"{number}\ufe0f\u20e3")
        await run_jobs()
        # Then the booking has its volunteer, and 黄秀英's offer was edited to "taken"
        await huang.until(lambda: "m.new_content" in huang.last().content, "the edit")
        with running.app.store.snapshot() as tx:
            (booking,) = tx.all(care.BOOKINGS)
        assert booking["status"] == "assigned"
        taken = huang.last().content["m.new_content"]["body"]
        assert tr.t("dispatch.accept") not in taken
        # And 陈建国 was told the task is his
        assert any("您接了这个任务" in s.body for s in chen.heard)
    finally:
        worker.close()


async def test_an_offer_taken_on_matrix_is_shown_taken_on_telegram(
    running: Running, resident_factory: Any
) -> None:
    # Given 林奶奶 and 陈建国 on Matrix, and 黄秀英 on Telegram (the fake Bot API)
    tr = translator("zh_CN")
    fake = FakeBotApi()
    await fake.start()
    huang_id = 871
    fake.user(huang_id, "黄秀英")
    lin, chen = await resident_factory(), await resident_factory()
    for who, demo_name in ((lin, "lin"), (chen, "chen")):
        _link(running, demo_name, who.address)
        await who.open_direct_room(running.bot.account.user_id)
    _link(running, "huang", f"telegram:{huang_id}")
    settings = running.app.settings.with_values(
        telegram={"token": fake.token, "base_url": fake.base_url, "bot_username": fake.username}
    )
    worker = MatrixDelivery(running.app.settings, running.redis_url, running.app.store)
    telegram = TelegramDelivery(settings, running.redis_url, running.app.store)
    running.app.delivery = RoutedDelivery(
        {"matrix": worker, "telegram": telegram, "console": MemoryDelivery()}
    )

    async def run_jobs() -> None:
        await asyncio.to_thread(running.app.queue.run_all, bound(running.app))  # type: ignore[attr-defined]

    try:
        # When she books on Matrix and the offers go out
        await lin.says("/care")
        await lin.says(HOME_CARE)
        await lin.says("1")
        await lin.says("1")
        await lin.says("对，就是这里")
        await lin.says("跳过")
        await lin.says("确认预约", expect=1)
        await run_jobs()
        await chen.until(
            lambda: any(tr.t("dispatch.accept") in s.body for s in chen.heard), "the offer"
        )
        await fake.wait_until(
            lambda: any(tr.t("dispatch.accept") in str(s.markup) for s in fake.sent_to(huang_id))
        )
        # And 陈建国 accepts on Matrix by reaction
        offer = next(s for s in chen.heard if tr.t("dispatch.accept") in s.body)
        number = offer.body.split(f". {tr.t('dispatch.accept')}")[0].split("\n")[-1]
        await chen.reacts(offer.event_id, f"{number}\ufe0f\u20e3")
        await run_jobs()
        # Then 黄秀英's offer on Telegram is edited to "taken", its buttons gone
        await fake.wait_until(
            lambda: "已经有志愿者接了" in fake.chat_messages(huang_id)[-1]["text"]
        )
        assert not fake.chat_messages(huang_id)[-1].get("reply_markup", {}).get("inline_keyboard")
        with running.app.store.snapshot() as tx:
            (booking,) = tx.all(care.BOOKINGS)
        assert booking["status"] == "assigned"
    finally:
        worker.close()
        telegram.close()
        await fake.stop()
