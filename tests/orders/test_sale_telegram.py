"""The produce sale on the real Telegram stack: going live, the group list (接龙), ordering in chat.

python-telegram-bot polls the fake Bot API (``tests/telegram/fake_bot_api.py``); the outbox's
messages (announcements, the group list and its edits, order notes) go through a worker's
``TelegramDelivery`` on the real Redis, as in production; time is a FakeClock the test moves,
running the scheduler and the jobs it hands out.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "telegram"))

from fake_bot_api import FakeBotApi  # noqa: E402
from people_sim import Person  # noqa: E402
from story_stack import Stack, story_stack, texts  # noqa: E402

from assistant.bootstrap import App  # noqa: E402
from assistant.clock import to_iso  # noqa: E402
from assistant.i18n import translator  # noqa: E402
from assistant.services import orders, people  # noqa: E402
from assistant.services.orders import listings  # noqa: E402
from assistant.services.people import community, imports  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

HOST, LIN, MEI, GROUP = 830, 831, 832, -100830
HOUSEHOLDS = """grid_id,grid_name,complex,building,unit,households
tg-2,锦绣家园三网格,锦绣家园,8,1,4
tg-2,锦绣家园三网格,锦绣家园,8,2,4
"""
TITLE = "高山土豆"
PRIVATE = ("林阿婆", "梅阿姨", "13800001111", "13800002222", "301", "502")


def _community(app: App) -> None:
    now = app.clock.now()
    imports.import_households(app.store, HOUSEHOLDS)
    with app.unit() as tx:
        for uid, name, unit, room, phone in (
            (LIN, "林阿婆", "1", "301", "13800001111"),
            (MEI, "梅阿姨", "2", "502", "13800002222"),
        ):
            people.create_person(
                tx,
                name=name,
                address=f"telegram:{uid}",
                language="zh_CN",
                now=to_iso(now),
                grid_id="tg-2",
                household={"complex": "锦绣家园", "building": "8", "unit": unit, "room": room},
                phone=phone,
            )
        people.create_person(
            tx, name="邮政小邮", address=f"telegram:{HOST}", language="zh_CN", now=to_iso(now)
        )
        orders.vendors.add_vendor(
            tx,
            orders.Vendor(
                id="tg-post",
                name_zh="邮政幸福乐购直播间",
                name_en="Post office livestream room",
                kind=orders.VendorKind.LIVESTREAM,
                staff=(f"telegram:{HOST}",),
                pickup_points=(orders.PickupPoint("tg-desk", "八栋服务点", "Block 8 desk"),),
            ),
        )
        community.link_group(tx, "tg-2", f"telegram:{GROUP}")
        listings.create(
            tx,
            listings.ListingDraft(
                vendor_id="tg-post",
                title_zh=TITLE,
                title_en="Highland potatoes",
                unit="袋",
                price=Decimal("20"),
                sale_price=Decimal("15.5"),
                stock=10,
                limit=3,
                starts_at=now + timedelta(minutes=5),
                ends_at=now + timedelta(days=1),
                delivery=(orders.Delivery.PICKUP, orders.Delivery.COMMUNITY),
                pickup_points=("tg-desk",),
            ),
            f"telegram:{HOST}",
            now,
        )


@pytest.fixture
async def stack(redis_url: str) -> AsyncIterator[Stack]:
    async with story_stack(redis_url, _community) as running:
        yield running


def _listing(stack: Stack) -> dict[str, Any]:
    with stack.app.store.snapshot() as tx:
        [found] = [x for x in tx.all(orders.LISTINGS) if x["title_zh"] == TITLE]
        return found


def _group_says(fake: FakeBotApi) -> str:
    """Everything the bot ever put in the group: sent messages and every edit of them."""
    return "\n".join(s.text for s in fake.sent if s.chat_id == GROUP)


async def test_a_sale_goes_live_on_telegram_and_the_group_list_follows_the_orders(
    stack: Stack,
) -> None:
    fake = stack.fake
    lin, mei = Person(fake, LIN, "林阿婆"), Person(fake, MEI, "梅阿姨")
    neighbour = fake.group(GROUP, "锦绣家园三网格邻里群")
    # Given 林阿婆 asks for the going-live announcements in her chat
    told = await lin.says("/subscribe")
    assert "开卖" in texts(told)
    # When the sale window opens
    await stack.travel(minutes=6)
    await fake.wait_until(lambda: any(TITLE in s.text for s in lin.received()))
    await fake.wait_until(lambda: any(TITLE in s.text for s in fake.sent_to(GROUP)))
    # Then she got one announcement, and the neighbours' group one live list with a button
    assert len([s for s in lin.received() if TITLE in s.text]) == 1
    [group_list] = [copy.deepcopy(m) for m in fake.chat_messages(GROUP) if TITLE in m["text"]]
    labels = [b["text"] for row in group_list["reply_markup"]["inline_keyboard"] for b in row]
    assert labels, "the group list has an 'I want some' button"
    # When 梅阿姨 presses "I want some" in the group
    before = len(mei.received())
    fake.press(mei.user, group_list, labels[0])
    await fake.wait_until(lambda: len(mei.received()) > before)
    # Then the ordering opens in her private chat with the potatoes chosen
    assert TITLE in texts(mei.received()[before:])
    held = await mei.presses("2袋", expect=2)
    assert "留了 2袋" in texts(held)
    await mei.presses("社区兜底配送")
    done = await mei.presses("确认下单")
    assert "下单成功" in texts(done)
    # And 林阿婆 orders from her own chat through /shop
    await lin.says("/shop")
    await lin.presses(f"{TITLE} ¥15.50/袋")
    await lin.presses("1袋", expect=2)
    await lin.presses("自提：八栋服务点")
    assert "下单成功" in texts(await lin.presses("确认下单"))
    # When the coalesced edit of the group list runs
    await stack.travel(seconds=30)

    def edited() -> bool:
        text = fake.chat_messages(GROUP)[-1]["text"]
        return "8栋2单元 ×2" in text and "8栋1单元 ×1" in text

    await fake.wait_until(edited)
    # Then the list shows building-unit and quantity only; nothing personal ever reached the group
    said = _group_says(fake)
    assert not [word for word in PRIVATE if word in said], said
    # And the stock adds up: 3 of 10 ordered
    listing = _listing(stack)
    with stack.app.store.snapshot() as tx:
        placed = [o for o in tx.all(orders.ORDERS) if o["listing_id"] == listing["id"]]
    assert sorted(o["quantity"] for o in placed) == [1, 2]
    # When the host ends the sale early, a stale group button answers kindly in private
    with stack.app.unit() as tx:
        host = people.person_at(tx, f"telegram:{HOST}")
        listings.end_early(tx, stack.app, listing["id"], host, stack.app.clock.now())
    await stack.run_jobs()
    answered = len(stack.answers())
    before = len(lin.received())
    fake.press(lin.user, group_list, labels[0])
    await fake.wait_until(lambda: len(stack.answers()) > answered)
    await stack.run_jobs()
    # (the list's keyboard went with the sale, so the button is a stale one: told so at once)
    assert stack.answers()[-1]["text"] == translator("zh_CN").t("tg.button_expired")
    assert "下单成功" not in texts(lin.received()[before:])
    assert TITLE not in texts([s for s in lin.received()[before:] if s.markup])
    assert neighbour["id"] == GROUP
