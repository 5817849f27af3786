"""The vendor side and the supervision line on the console; vendors, imports and exports from the CLI."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from orders_world import GROUP, ORANGE_TITLE, World, buttons, texts
from test_shop_transcripts import ORANGES, order_oranges

from assistant import cli
from assistant.bootstrap import build
from assistant.config import defaults
from assistant.i18n import translator
from assistant.services import dispatch, orders
from assistant.services.orders import files, vendors
from assistant.services.orders.notify import vendor_of

ZH = translator("zh_CN")


async def test_staff_put_up_a_listing_in_chat_and_it_goes_live_to_subscribers_and_groups() -> None:
    w = World()
    await w.say("mart", "/newlisting")
    await w.say("mart", "本地小青菜 / Local greens")
    await w.press("mart", "斤")
    for bad in ("0", "-1", "abc", "1.234"):
        assert ZH.t("orders.type_amount") in texts(await w.say("mart", bad)), bad
    await w.say("mart", "4.5")
    assert ZH.t("orders.sale_above_price") in texts(await w.say("mart", "5"))
    await w.say("mart", "3.8")
    assert ZH.t("orders.type_quantity") in texts(await w.say("mart", "1000000000"))
    await w.say("mart", "50")
    await w.press("mart", "5")
    await w.press("mart", "现在起一天")
    await w.press("mart", "商家送货")
    summary = await w.press("mart", "好了")
    assert "原价 ¥4.50，活动价 ¥3.80 / 斤" in texts(summary)
    assert ZH.t("orders.photo_may") in texts(summary)
    live = await w.press("mart", "上架")
    assert ZH.t("orders.published") in texts(live, "mart")
    assert "本地小青菜" in texts(live, "lin") and "开卖啦" in texts(live, "lin")
    assert "【接龙】本地小青菜" in texts(live, GROUP)
    # A resident who is no staff cannot get in
    refused = await w.say("lin", "/newlisting")
    assert ZH.t("core.not_allowed") in texts(refused)


async def test_staff_pause_add_stock_and_end_a_sale_early_and_stale_buttons_then_do_nothing() -> (
    None
):
    w = World()
    await w.say("post", "/vendor")
    await w.press("post", "管理商品")
    await w.press("post", "赣南脐橙（10斤装）（剩 100箱）")
    await w.press("post", "暂停")
    paused = await w.say("lin", "/shop")
    assert "赣南脐橙" not in texts(paused)
    await w.press("post", "继续卖")
    await w.press("post", "补货")
    added = await w.say("post", "20")
    assert "现在还剩 120箱" in texts(added)
    assert w.accounting(ORANGE_TITLE) == {"stock": 120, "available": 120, "held": 0, "ordered": 0}
    await w.press("post", "提前结束")
    ended = await w.press("post", "确定结束")
    assert ZH.t("orders.listing_ended") in texts(ended)
    assert ZH.t("orders.list_closed") in texts(ended, GROUP)
    # An old "I want some" press after the sale ended changes nothing
    listing_id = w.listing(ORANGE_TITLE)["id"]
    said = await w.forge("lin", f"a:shop:hold:{listing_id}:1")
    assert ZH.t("orders.sale_ended") in texts(said)
    assert not w.orders()


async def test_payment_is_recorded_and_a_not_home_delivery_goes_back_to_the_pickup_point() -> None:
    w = World()
    await order_oranges(w, "lin")
    await w.say("post", "/vendor")
    await w.press("post", "处理订单")
    await w.press("post", "1 收款")
    await w.press("post", "现金")
    assert ZH.t("orders.type_amount") in texts(await w.say("post", "很多"))
    paid = await w.say("post", "39.9")
    assert "收款 ¥39.90" in texts(paid, "post") and "收到您的付款 ¥39.90" in texts(paid, "lin")
    await w.press("post", "1 打包好了")
    await w.press("post", "1 交货")
    w.travel(minutes=31)
    await w.press("li", "我来接单")
    # Someone else's delivery buttons do nothing
    order_id = w.orders()[0]["id"]
    stranger = await w.forge("wu", f"a:ord:nothome:{order_id}")
    assert ZH.t("orders.not_yours") in texts(stranger)
    gone = await w.press("li", "1 不在家")
    assert "家里没人" in texts(gone, "lin") and "锦绣家园便民服务站" in texts(gone, "lin")
    [order] = w.orders()
    assert order["fulfilment"] == "pickup:jx-station" and order["payment"]["amount"] == "39.90"
    # Every household of the run is marked, so the run is done and so is its task
    w.run_jobs()
    with w.app.store.snapshot() as tx:
        [task] = [t for t in tx.all(dispatch.TASKS) if t["kind"] == orders.RUN_KIND]
        assert task["status"] == dispatch.DONE
        assert tx.get(orders.RUNS, order["run_id"])["status"] == "done"


async def test_a_household_that_asks_to_be_forgotten_leaves_the_run_sheet() -> None:
    w = World()
    await order_oranges(w, "lin")
    await w.say("post", "/vendor")
    await w.press("post", "处理订单")
    await w.press("post", "1 打包好了")
    await w.press("post", "1 交货")
    w.travel(minutes=31)
    sheet = await w.press("li", "我来接单")
    assert "林奶奶" in texts(sheet, "li") and "302" in texts(sheet, "li")
    # When 林奶奶 asks to be forgotten while her oranges are on the run
    await w.say("lin", "/forget")
    await w.press("lin", w.labels("lin")[0])
    w.run_jobs()
    with w.app.store.snapshot() as tx:
        [task] = [t for t in tx.all(dispatch.TASKS) if t["kind"] == orders.RUN_KIND]
        run = tx.require(orders.RUNS, w.orders()[0]["run_id"])
        # Then the task's private part no longer names her, and the emptied run is done
        assert "林奶奶" not in str(task["private"]) and "302" not in str(task["private"])
        assert task["status"] == dispatch.DONE and run["status"] == "done" and not run["orders"]
    [order] = w.orders()
    assert order["fulfilment"].startswith("pickup:") and order["household"] == {}
    # And her oranges are no longer on the sheet: a stale button of it changes nothing
    stale = await w.press("li", "1 送到了")
    assert ZH.t("orders.not_changeable") in texts(stale) or "过期" in texts(stale)


async def test_a_complaint_reaches_the_supervision_centre_and_its_answer_the_resident() -> None:
    w = World()
    await w.say("lin", "/complain")
    await w.press("lin", "城东生鲜超市")
    await w.press("lin", "卫生")
    await w.say("lin", "鸡蛋盒子里有碎壳，有点脏")
    sent = await w.press("lin", "跳过")
    assert ZH.t("orders.complaint_sent") in texts(sent, "lin")
    assert "卫生" in texts(sent, "grid") and "回复" in buttons(sent, "grid")
    await w.press("grid", "回复")
    answered = await w.say("grid", "已经联系超市整改，谢谢您的监督！")
    assert "已经联系超市整改" in texts(answered, "lin")
    with w.app.store.snapshot() as tx:
        [complaint] = list(tx.archived(orders.COMPLAINTS))
    assert complaint["report_case"] == "pending"  # the seam to the reports context


async def test_open_complaints_come_in_the_coordinators_daily_digest() -> None:
    w = World()
    await w.say("lin", "/complain")
    await w.press("lin", "邮政幸福乐购直播间")
    await w.press("lin", "价格")
    await w.say("lin", "直播价和实际收的不一样")
    await w.press("lin", "跳过")
    digest = w.travel(hours=24)
    assert "还有 1 条反映没回复" in texts(digest, "grid")


async def test_forgetting_a_person_gives_their_units_back_and_keeps_no_home_on_orders() -> None:
    w = World()
    await order_oranges(w, "lin", "2箱", "自提：幸福邻里中心")
    await w.say("lin", "/shop")
    await w.press("lin", "五常大米（5公斤） ¥49.90/袋")
    await w.press("lin", "1袋")
    await w.say("lin", "/forget")
    await w.press("lin", w.labels("lin")[0])
    assert w.accounting(ORANGE_TITLE)["available"] == 100
    assert w.accounting("五常大米（5公斤）")["available"] == 60
    with w.app.store.snapshot() as tx:
        kept = [*tx.all(orders.ORDERS), *tx.archived(orders.ORDERS)]
        assert all(o["household"] == {} for o in kept)
        assert not tx.all("shop_subscribers")


def test_vendor_add_import_and_export_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "data")
    assert cli.main(["demo-data", "--data", data]) == 0
    code = cli.main(
        [
            "vendor",
            "add",
            "farm-1",
            "--name",
            "青山农场",
            "--name-en",
            "Green Hill Farm",
            "--kind",
            "farm",
            "--staff",
            "console:farmer",
            "--pickup",
            "gate=农场门口|Farm gate",
            "--data",
            data,
        ]
    )
    assert code == 0 and "farm-1" in capsys.readouterr().out
    good = tmp_path / "good.csv"
    good.write_text(
        "vendor_id,title_zh,title_en,unit,price,sale_price,stock,limit,starts_at,ends_at,delivery,pickup_points\n"
        "farm-1,高山土豆,Mountain potatoes,斤,3.5,2.8,200,10,2026-06-02 08:00,2026-06-02 20:00,pickup;community,gate\n",
        encoding="utf-8-sig",
    )
    assert cli.main(["import", "listings", str(good), "--data", data]) == 0
    assert "added 1" in capsys.readouterr().out
    assert cli.main(["import", "listings", str(good), "--data", data]) == 0
    assert "added 0; 1 already there" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(
        good.read_text(encoding="utf-8-sig")
        + "farm-1,红薯,Sweet potatoes,斤,2.0.1,,5,1,2026-06-02 08:00,2026-06-02 20:00,pickup,gate\n",
        encoding="utf-8",
    )
    assert cli.main(["import", "listings", str(bad), "--data", data]) == 2
    assert "row 3, column price" in capsys.readouterr().err
    # An order, then the export: UTF-8 with a BOM, Chinese intact
    app = build(defaults().with_values(storage={"dir": data}))
    with app.store.snapshot() as tx:
        vendor = vendor_of(tx, "post-live")
    assert vendor is not None
    out = tmp_path / "orders.csv"
    assert (
        cli.main(
            [
                "export",
                "orders",
                "--vendor",
                "post-live",
                "--date",
                "2026-06-01",
                "--out",
                str(out),
                "--data",
                data,
            ]
        )
        == 0
    )
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and "order_id" in raw.decode("utf-8-sig")
    assert files.EXPORT_COLUMNS[0] == "order_id"


async def test_the_export_names_the_households_of_the_day() -> None:
    w = World()
    await order_oranges(w, "lin")
    with w.app.store.snapshot() as tx:
        vendor = vendor_of(tx, "post-live")
        assert vendor is not None
        text = files.export_orders(tx, w.app, vendor, w.clock.now().date())
    assert "赣南脐橙（10斤装）" in text and "锦绣家园 1栋 1单元 302" in text and "林奶奶" in text
    assert ORANGES


async def test_staff_who_register_after_vendor_add_hold_the_vendor_role() -> None:
    w = World()
    # Given a vendor whose staff chat has not talked to the assistant yet
    with w.app.unit() as tx:
        vendor = vendor_of(tx, "cd-fresh")
        assert vendor is not None
        vendors.add_vendor(
            tx, dataclasses.replace(vendor, staff=(*vendor.staff, "console:newstaff"))
        )
    # When that person registers
    await w.say("newstaff", "/start")
    for value in ("zh_CN", "店员小孙", "锦绣家园", "1", "1", "502", "skip", "yes"):
        await (
            w.forge("newstaff", value)
            if value != "店员小孙" and value != "502"
            else w.say("newstaff", value)
        )
    # Then /vendor is theirs without running the command again
    home = await w.say("newstaff", "/vendor")
    assert ZH.t("orders.vendor_orders") in buttons(home)
