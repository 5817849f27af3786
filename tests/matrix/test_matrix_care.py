"""A care booking on Matrix end to end: the resident books in an encrypted direct room, the
offer reaches two volunteers on Matrix through the worker's delivery, the first to accept
wins and the other's offer is edited to "taken"."""

from __future__ import annotations

import asyncio
from typing import Any

from matrix_world import Running

from assistant.channels.matrix import MatrixDelivery
from assistant.delivery import MemoryDelivery, RoutedDelivery
from assistant.i18n import translator
from assistant.jobs.firing import bound
from assistant.services import care, people

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
