"""Reports and the produce group list on Matrix: the closed loop in encrypted rooms, and a
neighbour's reaction on the grid room's list opening the order in their own room."""

from __future__ import annotations

import asyncio
from typing import Any

from matrix_world import Running
from synapse_server import Synapse

from assistant.channels.matrix import MatrixDelivery
from assistant.delivery import MemoryDelivery, RoutedDelivery
from assistant.i18n import translator
from assistant.jobs.firing import bound
from assistant.services import people, reports
from assistant.services.orders import demo as orders_demo

TR = translator("zh_CN")
GATE_URI = "geo:25.06412,118.18903"  # 锦绣家园东门 of the demo


def _link(running: Running, console: str, matrix: str) -> None:
    with running.app.store.transaction() as tx:
        person = people.person_at(tx, f"console:{console}")
        assert person is not None
        people.link_address(tx, person["id"], matrix)


def _workers(running: Running) -> MatrixDelivery:
    worker = MatrixDelivery(running.app.settings, running.redis_url, running.app.store)
    running.app.delivery = RoutedDelivery({"matrix": worker, "console": MemoryDelivery()})
    return worker


async def _run_jobs(running: Running) -> None:
    await asyncio.to_thread(running.app.queue.run_all, bound(running.app))  # type: ignore[attr-defined]


def _number_of(body: str, label: str) -> str:
    """The number a label has in a numbered list (``2. 我来接单`` → ``2``)."""
    for line in body.splitlines():
        number, _, text = line.partition(". ")
        if text.strip() == label and number.strip().isdigit():
            return number.strip()
    raise AssertionError(f"{label!r} not in {body!r}")


async def test_a_report_on_matrix_goes_round_the_closed_loop(
    running: Running, resident_factory: Any
) -> None:
    lin, chen = await resident_factory(), await resident_factory()
    for who, demo_name in ((lin, "lin"), (chen, "chen")):
        _link(running, demo_name, who.address)
        await who.open_direct_room(running.bot.account.user_id)
    worker = _workers(running)
    try:
        # When 林奶奶 reports people without masks with a pin by the east gate
        await lin.says("/report")
        await lin.says("未戴口罩")
        where = await lin.sends({"msgtype": "m.location", "body": "东门", "geo_uri": GATE_URI})
        assert where[0].body
        filed = await lin.says("提交")
        with running.app.store.snapshot() as tx:
            reporter = people.person_at(tx, lin.address)
            assert reporter is not None
            # (the demo's own open cases name a resident chosen by id, sometimes her)
            [case] = [
                c
                for c in tx.all(reports.CASES)
                if reporter["id"] in c.get("followers", []) and not c.get("demo")
            ]
        assert case["category"] == "no_mask" and case["number"] in filed[0].body
        await _run_jobs(running)
        # Then 陈建国 is offered the patrol on Matrix, without the reporter's name
        await chen.until(
            lambda: any(TR.t("dispatch.accept") in s.body for s in chen.heard), "offer"
        )
        offer = next(s for s in chen.heard if TR.t("dispatch.accept") in s.body)
        assert "未戴口罩" in offer.body and "林奶奶" not in offer.body
        # When he accepts by number and reports the outcome by its label
        await chen.says(_number_of(offer.body, TR.t("dispatch.accept")))
        await _run_jobs(running)
        await chen.until(lambda: any("已劝导" in s.body for s in chen.heard[-3:]), "outcomes")
        await chen.says("已劝导")
        await _run_jobs(running)
        # Then she hears the outcome in her encrypted room
        await lin.until(
            lambda: any("劝导" in s.body and s.encrypted for s in lin.heard[-3:]), "outcome"
        )
    finally:
        worker.close()


async def test_a_reaction_on_the_grid_rooms_list_opens_the_order_privately(
    running: Running, resident_factory: Any, synapse: Synapse
) -> None:
    # Given 锦绣家园一网格's room on Matrix, linked by its coordinator, and 林奶奶 in it
    zhou, lin = await resident_factory(), await resident_factory()
    _link(running, "grid", zhou.address)
    _link(running, "lin", lin.address)
    await lin.open_direct_room(running.bot.account.user_id)
    await zhou.open_group_room(running.bot.account.user_id, [lin.account.user_id])
    await lin.client.join(zhou.room_id)
    await zhou.says("!linkgrid jx-1")
    worker = _workers(running)
    try:
        # When the sale goes live, the room gets the live list with a numbered "我也要"
        orders_demo.announce_now(running.app)
        await _run_jobs(running)
        await zhou.until(lambda: any("【接龙】" in s.body for s in zhou.heard), "the group list")
        listed = next(s for s in zhou.heard if "【接龙】" in s.body)
        number = _number_of(listed.body, "我也要")
        # And 林奶奶 reacts to it in the group with that keycap
        before = len(lin.heard)
        lin.room_id, dm = zhou.room_id, lin.room_id
        await lin.reacts(listed.event_id, f"{number}\ufe0f\u20e3", expect=0)
        lin.room_id = dm
        # Then the item's card comes to her own room, not to the group
        await lin.until(
            lambda: any("您在邻里群里点了" in s.body for s in lin.heard[before:]), "the card"
        )
        assert not any("您在邻里群里点了" in s.body for s in zhou.heard)
    finally:
        worker.close()
