"""The produce sale on the console: browse → hold → confirm → pack → delivery run → receipt, and more.

Each test is a story told through the console channel in JSON-lines mode, on
in-memory twins with the demo community and its live sale; time is a fake
clock that the story moves on.
"""

from __future__ import annotations

import re

import pytest
from orders_world import GROUP, ORANGE_TITLE, World, buttons, texts

from assistant.conversation.buttons import ShopButton, ShopVerb
from assistant.i18n import translator
from assistant.services import orders
from assistant.services.orders import stock

ZH = translator("zh_CN")
ORANGES = "赣南脐橙（10斤装） ¥39.90/箱"
RICE = "五常大米（5公斤）"
EGGS = "农家土鸡蛋（30枚） ¥29.80/盒"
PHONES = re.compile(r"1[3-9]\d{9}")


async def order_oranges(
    w: World, user: str, quantity: str = "1箱", way: str = "社区兜底配送"
) -> str:
    """``user`` orders oranges through /shop; the new order's id."""
    await w.say(user, "/shop")
    await w.press(user, ORANGES)
    await w.press(user, quantity)
    await w.press(user, way)
    said = texts(await w.press(user, "确认下单"))
    assert "下单成功" in said, said
    return str(sorted(w.orders(), key=lambda o: o["created_at"])[-1]["id"])


async def test_the_whole_story_from_browsing_to_receipt_through_a_delivery_run() -> None:
    w = World()
    # Given the sale is live: 林奶奶 (subscribed) was told, the group list began
    # When she browses, chooses the oranges and a quantity
    shown = await w.say("lin", "/shop")
    assert (
        "赣南脐橙" in texts(shown)
        and "现价 ¥39.90" in texts(shown)
        and "还剩 100箱" in texts(shown)
    )
    card = await w.press("lin", ORANGES)
    assert "每户限购 2箱" in texts(card) and buttons(card)[:2] == ["1箱", "2箱"]
    held = await w.press("lin", "2箱")
    # Then the stock is held while she chooses how to get it
    assert "已经给您留了 2箱，10 分钟内确认" in texts(held)
    assert w.accounting(ORANGE_TITLE) == {"stock": 100, "available": 98, "held": 2, "ordered": 0}
    assert "社区兜底配送" in buttons(held)
    summary = await w.press("lin", "社区兜底配送")
    assert "合计：¥79.80" in texts(summary)
    done = await w.press("lin", "确认下单")
    assert "下单成功" in texts(done)
    assert w.accounting(ORANGE_TITLE) == {"stock": 100, "available": 98, "held": 0, "ordered": 2}
    # When the livestream room packs it and hands it over to the community
    await w.say("post", "/vendor")
    await w.press("post", "处理订单")
    packed = await w.press("post", "1 打包好了")
    assert "已经打包好了" in texts(packed, "lin")
    handed = await w.press("post", "1 交货")
    assert "交给社区志愿者了" in texts(handed, "lin")
    # Then after the gathering time the run is offered to delivery volunteers, coarse words only
    offers = w.travel(minutes=31)
    offered = [m for m in offers if "社区兜底配送（1户）" in m.get("text", "")]
    assert {m["to"] for m in offered} == {"li", "wu", "zheng"}
    assert all("302" not in m["text"] and "林奶奶" not in m["text"] for m in offered)
    # When 李志强 accepts, he (alone) gets the run sheet in building order
    accepted = await w.press("li", "我来接单")
    sheet = [m for m in accepted if m["to"] == "li" and "这一趟要送 1 户" in m["text"]]
    assert sheet and "锦绣家园 1栋 1单元 302" in sheet[0]["text"]
    assert "302" not in texts(accepted, "wu") + texts(accepted, "zheng")
    assert "志愿者已经接单" in texts(accepted, "lin")
    # And he marks it delivered; she confirms receipt with one tap
    delivered = await w.press("li", "1 送到了")
    assert "已经送到了" in texts(delivered, "lin")
    got = await w.press("lin", "收到了")
    assert "谢谢您" in texts(got)
    [order] = [o for o in w.orders() if o["person_id"] == w.person("lin")["id"]]
    assert order["status"] == orders.OrderStatus.DELIVERED and order["received_at"]
    # And the next morning she is asked about the goods
    follow = w.travel(hours=25)
    assert "还满意吗" in texts(follow, "lin")


async def test_a_hold_not_confirmed_lapses_kindly_and_returns_once() -> None:
    w = World()
    await w.say("wang", "/shop")
    await w.press("wang", ORANGES)
    await w.press("wang", "2箱")
    await w.press("wang", "自提：锦绣家园便民服务站")
    assert w.accounting(ORANGE_TITLE)["held"] == 2
    confirm = w.value("wang", "确认下单")
    # When ten minutes pass without confirming
    told = w.travel(minutes=11)  # within a minute of its time
    # Then the units are back, once, and he is told kindly with "order again"
    assert "已经放回去了" in texts(told, "wang") and "再订一次" in buttons(told, "wang")
    assert w.accounting(ORANGE_TITLE) == {"stock": 100, "available": 100, "held": 0, "ordered": 0}
    w.travel(minutes=10)
    assert w.accounting(ORANGE_TITLE)["available"] == 100
    # And confirming now says so, never makes an order
    late = await w.forge("wang", confirm)
    assert ZH.t("orders.hold_lapsed") in texts(late)
    assert not w.orders()


async def test_cancelling_gives_the_units_back_and_the_group_list_drops_the_line() -> None:
    w = World()
    await order_oranges(w, "lin", "2箱", "自提：幸福邻里中心")
    edit = w.travel(seconds=6)
    assert "1栋1单元 ×2" in texts(edit, GROUP)
    mine = await w.say("lin", "/orders")
    assert "已下单" in texts(mine)
    await w.press("lin", "取消第1单")
    sure = await w.press("lin", "确定取消")
    assert "已经取消了" in texts(sure)
    assert w.accounting(ORANGE_TITLE) == {"stock": 100, "available": 100, "held": 0, "ordered": 0}
    edit = w.travel(seconds=6)
    assert "1栋1单元" not in texts(edit, GROUP) and "还没有人接龙" in texts(edit, GROUP)
    # A cancel button pressed again (stale) changes nothing
    again = await w.forge("lin", "a:ord:cancelyes:" + w_order_id(w))
    assert "做不了" in texts(again) or "已经" in texts(again)


def w_order_id(w: World) -> str:
    with w.app.store.snapshot() as tx:
        return str(next(iter(tx.archived(orders.ORDERS)))["id"])


async def test_sold_out_leads_to_the_waiting_list_and_returned_stock_is_offered_in_order() -> None:
    w = World()
    rice = "五常大米（5公斤） ¥49.90/袋"
    # Given the rice (60 bags, one per household) is nearly gone: staff take 59 for the hall
    w.set_stock(RICE, 1, 1)
    await w.say("lin", "/shop")
    await w.press("lin", rice)
    await w.press("lin", "1袋")  # 林奶奶 holds the last bag
    # When 王先生 wants one too: sold out, and he joins the waiting list
    await w.say("wang", "/shop")
    await w.press("wang", rice)
    sold = await w.press("wang", "1袋")
    assert "已经卖完了" in texts(sold) or ZH.t("orders.ask_waitlist") in texts(sold)
    queued = await w.press("wang", "帮我排队")
    assert "排在第 1 位" in texts(queued)
    # When her hold lapses, the bag is offered to him as a hold of his own
    offered = w.travel(minutes=11)
    assert "有货了" in texts(offered, "wang")
    assert w.accounting(RICE) == {
        "stock": 1,
        "available": 0,
        "held": 1,
        "ordered": 0,
    }
    await w.press("wang", "去下单")
    await w.press("wang", "自提：幸福邻里中心")
    done = await w.press("wang", "确认下单")
    assert "下单成功" in texts(done)


async def test_a_family_helper_orders_for_her_relative_within_one_household_limit() -> None:
    w = World()
    # Given 王先生 acts for his mother (approved by the coordinator)
    await w.say("wang", "/family")
    await w.say("wang", "王奶奶")
    await w.press("wang", w.labels("wang")[0])
    approve = [label for label in w.labels("grid") if "同意" in label]
    await w.press("grid", approve[0])
    # When he orders eggs for her
    await w.say("wang", "/shop")
    whom = w.labels("wang")
    assert "给我自己" in whom and "王奶奶" in whom
    await w.press("wang", "王奶奶")
    await w.press("wang", EGGS)
    await w.press("wang", "3盒")
    await w.press("wang", "商家送货上门")
    done = await w.press("wang", "确认下单")
    assert "下单成功" in texts(done)
    [order] = w.orders()
    assert order["person_id"] != order["by"] == w.person("wang")["id"]
    # Then the household's limit counts her order: he may not buy 3 more for himself
    await w.say("wang", "/shop")
    await w.press("wang", "给我自己")
    await w.press("wang", EGGS)
    refused = await w.press("wang", "1盒")
    assert "每户限购 3盒，您家还能买 0盒" in texts(refused)


async def test_the_group_list_shows_building_unit_and_quantity_only_and_coalesces_edits() -> None:
    w = World()
    await order_oranges(w, "lin", "1箱", "自提：幸福邻里中心")
    # Given a neighbour in the same grid (a new resident) orders too, within the same seconds
    with w.app.store.transaction() as tx:
        from assistant.services import people

        people.create_person(
            tx,
            name="赵阿姨",
            address="console:zhao",
            language="zh_CN",
            now="2026-06-01T01:00:00+00:00",
            grid_id="jx-1",
            household={"complex": "锦绣家园", "building": "1", "unit": "2", "room": "501"},
            phone="13911112222",
        )
    await order_oranges(w, "zhao", "2箱", "自提：幸福邻里中心")
    # When the edit time passes: one edit with both lines
    edits = [m for m in w.travel(seconds=6) if m["to"] == GROUP]
    assert len(edits) == 1 and edits[0].get("edits")
    assert "1. 1栋1单元 ×1" in edits[0]["text"] and "2. 1栋2单元 ×2" in edits[0]["text"]
    # Then no group message ever carried a name, a room or a phone
    everything = [m for m in map(_line, w.out.getvalue().splitlines()) if m.get("to") == GROUP]
    for message in everything:
        assert not PHONES.search(message["text"])
        for secret in ("林奶奶", "赵阿姨", "302", "501"):
            assert secret not in message["text"]
    # And "I want some" pressed in the group answers in private only
    value = ShopButton(ShopVerb.ITEM, w.listing(ORANGE_TITLE)["id"]).encode()
    private = await w.forge("wang", value, group=GROUP)
    assert [m["to"] for m in private] == ["wang"] and "邻里群" in private[0]["text"]


def _line(text: str) -> dict[str, object]:
    import json

    return json.loads(text)


async def test_bad_input_at_every_step_is_answered_kindly() -> None:
    w = World()
    await w.say("lin", "/shop")
    await w.press("lin", ORANGES)
    for typed in ("0", "-1", "1000000000", "两箱", "1.5"):
        said = texts(await w.say("lin", typed))
        assert ZH.t("orders.type_quantity") in said, typed
    said = texts(await w.say("lin", "999999999"))
    assert ZH.t("orders.bad_quantity") in said
    said = texts(await w.say("lin", "3"))
    assert "每户限购 2箱" in said
    assert w.accounting(ORANGE_TITLE)["held"] == 0
    said = texts(await w.say("lin", "２"))  # full-width digits are fine
    assert "已经给您留了 2箱" in said
    # Text where a button is wanted, then a forged quantity button of 0
    said = texts(await w.say("lin", "随便"))
    assert ZH.t("core.use_buttons") in said or ZH.t("core.type_answer") in said
    listing_id = w.listing(ORANGE_TITLE)["id"]
    said = texts(await w.forge("lin", f"a:shop:hold:{listing_id}:0"))
    assert ZH.t("orders.bad_quantity") in said
    # A stale button after the sale ended never makes an order
    await w.press("lin", "自提：幸福邻里中心")
    confirm = w.value("lin", "确认下单")
    w.travel(days=3)
    said = texts(await w.forge("lin", f"a:shop:hold:{listing_id}:1"))
    assert ZH.t("orders.sale_ended") in said
    said = texts(await w.forge("lin", confirm))
    assert "下单成功" not in said
    assert not w.orders()


async def test_pressing_order_twice_makes_one_order() -> None:
    w = World()
    await w.say("lin", "/shop")
    await w.press("lin", ORANGES)
    await w.press("lin", "1箱")
    await w.press("lin", "自提：幸福邻里中心")
    value = w.value("lin", "确认下单")
    first = await w.forge("lin", value)
    second = await w.forge("lin", value)
    assert "下单成功" in texts(first) and "下单成功" not in texts(second)
    assert len(w.orders()) == 1


def test_the_counter_refuses_a_hold_as_the_store_would() -> None:
    w = World()
    listing = w.listing(RICE)
    lin, wang = w.person("lin")["id"], w.person("wang")["id"]
    now = w.app.clock.now()
    w.set_stock(RICE, 1, 1)
    # Given 林奶奶 holds the last bag (no store commit: the counter decides)
    stock.hold_now(w.app, listing["id"], lin, lin, 1, now)

    def refused(person: str, quantity: object) -> type[Exception] | None:
        try:
            stock.hold_now(w.app, listing["id"], person, person, quantity, now)
        except orders.OrdersError as error:
            return type(error)
        return None

    # Then 王先生 is told it is sold out, and a bad quantity is refused first
    assert refused(wang, 1) is orders.SoldOut
    assert refused(wang, 0) is orders.BadQuantity
    assert refused(wang, 10**9) is orders.BadQuantity
    # And she may choose again: her earlier hold is given back in the same step
    assert refused(lin, 1) is None
    assert w.accounting(RICE) == {"stock": 1, "available": 0, "held": 1, "ordered": 0}
    # And when staff count more, the next hold brings the counter the store's new figures
    w.set_stock(RICE, 5, 6)
    assert refused(wang, 1) is None
    # And over the household limit it refuses before any stock question
    assert refused(wang, 2) is orders.OverLimit
    assert w.accounting(RICE) == {"stock": 6, "available": 3, "held": 2, "ordered": 0}


async def test_sold_out_on_the_card_is_one_button_and_writes_nothing() -> None:
    from assistant.conversation.records import CONVERSATIONS

    w = World()
    listing = w.set_stock(RICE, 0, 1)
    with w.app.store.snapshot() as tx:
        before = tx.get(CONVERSATIONS, "console:wang")
    # When 王先生 presses "1 bag" on the announcement card of the sold-out rice
    hold = ShopButton(ShopVerb.HOLD, listing["id"], 1).encode()
    sold = await w.forge("wang", hold)
    # Then he is told kindly, with one button to wait in line, and nothing was written
    assert "已经卖完了" in texts(sold) and buttons(sold) == ["帮我排队"]
    with w.app.store.snapshot() as tx:
        assert tx.get(CONVERSATIONS, "console:wang") == before
    # And the button puts him on the list, once
    wait = ShopButton(ShopVerb.WAIT, listing["id"], 1).encode()
    queued = await w.forge("wang", wait)
    assert "排在第 1 位" in texts(queued)
    again = await w.forge("wang", wait)
    assert "已经在排队" in texts(again)
    # And forged waiting buttons get kind answers: an unknown item, an absurd quantity
    gone = await w.forge("wang", ShopButton(ShopVerb.WAIT, "ls-nothing", 1).encode())
    assert texts(gone) and "Traceback" not in texts(gone)
    huge = await w.forge("wang", f"a:shop:wait:{listing['id']}:9999")
    assert texts(huge) and "排在" not in texts(huge)
    assert await w.forge("wang", f"a:shop:wait:{listing['id']}:x") != []


async def test_leaving_the_form_gives_a_held_unit_back_at_once() -> None:
    w = World()
    # Given 林奶奶 holds 2 boxes three times over, and leaves the form each time another way
    for leave in ("不买了", "/cancel", "算了", "/care", "/shop"):
        await w.say("lin", "/shop")
        await w.press("lin", ORANGES)
        held = await w.press("lin", "2箱")
        assert "已经给您留了 2箱" in texts(held)
        assert w.accounting(ORANGE_TITLE)["held"] == 2
        if leave == "不买了":  # the form's own stop button
            assert leave in w.labels("lin")
            await w.press("lin", leave)
        else:
            await w.say("lin", leave)
        # Then the boxes are back for her neighbours at once, not when the hold lapses
        assert w.accounting(ORANGE_TITLE) == {
            "stock": 100,
            "available": 100,
            "held": 0,
            "ordered": 0,
        }, leave
    # And pressing another item's card in the form gives the first item's hold back too
    await w.press("lin", ORANGES)
    await w.press("lin", "2箱")
    rice = w.listing(RICE)
    await w.forge("lin", ShopButton(ShopVerb.HOLD, rice["id"], 1).encode())
    assert w.accounting(ORANGE_TITLE)["held"] == 0
    assert w.accounting(RICE)["held"] == 1
    # And an order placed is not given back by leaving afterwards
    await w.say("lin", "/cancel")
    assert w.accounting(RICE)["held"] == 0
    await order_oranges(w, "lin", "2箱", "自提：幸福邻里中心")
    await w.say("lin", "/cancel")
    assert w.accounting(ORANGE_TITLE)["ordered"] == 2


async def test_a_button_of_another_kind_mid_question_keeps_the_question_whole() -> None:
    w = World()
    await order_oranges(w, "lin", "2箱", "自提：幸福邻里中心")
    await w.say("lin", "/orders")
    sure = await w.press("lin", "取消第1单")
    question = sure[-1]["text"]
    assert ORANGE_TITLE in question
    # When a "do you mean my bookings?" button is pressed in the middle (a flow that shows
    # her list and ends at once)
    gone = await w.forge("lin", "a:guess:mine")
    # Then she is told, and the question about cancelling is asked again, whole
    assert gone[-1]["text"] == question
    assert ZH.t("core.error") not in texts(gone)


async def test_a_confirm_cut_short_is_settled_or_given_back_by_the_sweep() -> None:
    from assistant.services.orders import ordering

    w = World()
    wang, lin = w.person("wang")["id"], w.person("lin")["id"]
    listing = w.listing(ORANGE_TITLE)
    now = w.app.clock.now()
    first = stock.hold_now(w.app, listing["id"], wang, wang, 2, now)
    second = stock.hold_now(w.app, listing["id"], lin, lin, 1, now)
    # Given 王先生's order commits but its process dies before the counter hears of it
    # (a bare transaction runs nothing after its commit)
    with w.app.store.transaction() as tx:
        ordering.confirm(tx, w.app, first["id"], wang, "pickup:centre", now)
    # And 林奶奶's order is begun in the counter near her hold's end, but never commits
    w.travel(minutes=9, seconds=50)
    with pytest.raises(RuntimeError), w.app.unit() as tx:
        stock.take(tx, w.app, second["id"], lin, w.app.clock.now())
        raise RuntimeError("the process died here")
    assert w.app.holds.get(second["id"])["status"] == "confirming"  # type: ignore[index]
    # When the holds' time passes: his is settled as the order it is, nobody is told "lapsed"
    told = w.travel(minutes=1, seconds=10)
    assert w.app.holds.get(first["id"]) is None
    assert "已经放回去了" not in texts(told, "wang")
    # And hers waits for its grace, in case its order still comes
    assert w.app.holds.get(second["id"]) is not None
    assert w.accounting(ORANGE_TITLE) == {"stock": 100, "available": 97, "held": 1, "ordered": 2}
    # Then once the grace is past too, her unit comes back, once, and she is told kindly
    told = w.travel(minutes=3)
    assert "已经放回去了" in texts(told, "lin")
    assert w.app.holds.get(second["id"]) is None
    assert w.accounting(ORANGE_TITLE) == {"stock": 100, "available": 98, "held": 0, "ordered": 2}
