"""Phone bookings by a coordinator, and residents cancelling or moving their bookings."""

from __future__ import annotations

from care_transcript import HOME_CARE, FakeDispatch, Transcript, booked, buttons, pick, texts

from assistant.services import care, people


async def test_a_coordinator_books_by_phone_and_the_resident_is_told_in_chat(
    dispatch: FakeDispatch,
) -> None:
    t = Transcript(dispatch=dispatch)
    # Given a second resident whose name also has 林
    with t.app.unit() as tx:
        people.create_person(
            tx, name="林爷爷", address=None, language="zh_CN", now="2026-06-01", phone="13900001234"
        )
    # A resident may not enter phone bookings
    refused = await t.say("lin", "/book")
    assert "身份" in texts(refused)
    # When the coordinator looks for 林, both are offered as buttons
    await t.say("grid", "/book")
    nobody = await t.say("grid", "赵")
    assert "没有找到" in texts(nobody)
    both = await t.say("grid", "林")
    assert {"林奶奶 · 锦绣家园", "林爷爷 · - ·1234"} <= set(buttons(both))
    services = await t.press("grid", "林奶奶 · 锦绣家园")
    assert HOME_CARE in buttons(services)
    await t.press("grid", HOME_CARE)
    await pick(t, "grid", "明天 09:00")
    await t.press("grid", "对，就是这里")
    await t.press("grid", "跳过")
    done = await t.press("grid", "确认预约")
    # Then the booking is a phone booking by the coordinator, and 林奶奶 hears of it in chat
    assert "已替林奶奶约好" in texts(done, to="grid") and "聊天里告诉" in texts(done, to="grid")
    assert "您的上门照料约好了：明天 09:00" in texts(done, to="lin")
    [booking] = t.bookings()
    assert booking["via"] == "phone" and booking["booked_by"] == t.person("grid")["id"]
    assert booking["person_id"] == t.person("lin")["id"]


async def test_a_phone_booking_found_by_phone_number_for_someone_without_chat(
    dispatch: FakeDispatch,
) -> None:
    t = Transcript(dispatch=dispatch)
    with t.app.unit() as tx:
        people.create_person(
            tx,
            name="林爷爷",
            address=None,
            language="zh_CN",
            now="2026-06-01",
            phone="13900001234",
            household={"complex": "山水湾", "building": "6", "unit": "1", "room": "201"},
        )
    await t.say("grid", "/book")
    services = await t.say("grid", "13900001234")
    await t.press("grid", "就医陪护（绿色通道） · ¥20")
    await pick(t, "grid", "明天 09:00")
    await t.press("grid", "对，就是这里")
    summary = await t.press("grid", "跳过")
    assert "网格员先确认" not in texts(summary)
    done = await t.press("grid", "确认预约")
    # A coordinator's phone booking of an escort needs no second approval
    assert "请打电话告诉" in texts(done, to="grid") and len(dispatch.opened) == 1
    assert HOME_CARE in buttons(services)


async def test_a_resident_cancels_in_good_time(dispatch: FakeDispatch) -> None:
    t = Transcript(dispatch=dispatch)
    booking_id = await booked(t)
    mine = await t.say("lin", "/mine")
    assert "上门照料 · 林奶奶 · 明天 09:00 · 正在找志愿者" in texts(mine)
    assert "取消：上门照料 明天 09:00" in buttons(mine)
    sure = await t.press("lin", "取消：上门照料 明天 09:00")
    assert "确定要取消吗？\n上门照料，明天 09:00" in texts(sure)
    # A stale press elsewhere does not cancel; "keep it" keeps it
    kept = await t.press("lin", "不取消了")
    assert "预约不变" in texts(kept) and t.booking(booking_id)["status"] == "open"
    await t.say("lin", "/mine")
    await t.press("lin", "取消：上门照料 明天 09:00")
    done = await t.press("lin", "确定取消")
    assert "已经取消了" in texts(done)
    assert dispatch.cancelled == [("tk-1", "cancelled by the resident")]
    # The place is free again, and the booking left the hot file
    assert t.bookings() == [] and t.archived()[0]["status"] == "cancelled"
    with t.app.store.snapshot() as tx:
        assert sum(care.taken(tx, "home_care").values()) == 0
    again = await t.forge("lin", f"a:care:cancelyes:{booking_id}")
    assert "按钮不能用了" in texts(again)


async def test_too_close_to_the_visit_only_a_coordinator_may_cancel(
    dispatch: FakeDispatch,
) -> None:
    t = Transcript(dispatch=dispatch)
    booking_id = await booked(t, slot="今天 12:00")
    # Given it is now 10:30, less than the two hours' notice before 12:00
    t.clock.advance(minutes=90)
    mine = await t.say("lin", "/mine")
    assert not [label for label in buttons(mine) if label.startswith("取消")]
    forged = await t.forge("lin", f"a:care:cancelyes:{booking_id}")
    assert "太近了" in texts(forged) and t.booking(booking_id)["status"] == "open"
    # Another resident may never cancel it
    other = await t.forge("wang", f"a:care:cancelyes:{booking_id}")
    assert "不是您的" in texts(other)
    # The coordinator finds 林奶奶 and cancels it anyway; she is told
    await t.say("grid", "/book")
    current = await t.say("grid", "林奶奶")
    # The coordinator reads dates, not "today"
    assert "林奶奶现在的预约" in texts(current) and "6月1日 周一 12:00" in texts(current)
    assert "取消：林奶奶 上门照料 6月1日 周一 12:00" in buttons(current)
    await t.press("grid", "取消：林奶奶 上门照料 6月1日 周一 12:00")
    done = await t.press("grid", "确定取消")
    assert "已经取消了" in texts(done, to="grid")
    assert "您的上门照料已经取消了，原定今天 12:00" in texts(done, to="lin")
    assert dispatch.cancelled == [("tk-1", "cancelled by a coordinator")]


async def test_a_resident_moves_a_booking_to_another_free_slot(dispatch: FakeDispatch) -> None:
    t = Transcript(dispatch=dispatch)
    booking_id = await booked(t)
    await t.say("lin", "/mine")
    slots = await t.press("lin", "改时间：上门照料 明天 09:00")
    assert "想改到哪一天" in texts(slots) and "尽快" not in buttons(slots)
    assert "明天" in buttons(slots)
    moved = await pick(t, "lin", "明天 10:00")
    assert "新的时间是明天 10:00" in texts(moved)
    booking = t.booking(booking_id)
    assert booking["start"] == "2026-06-02T02:00:00+00:00" and booking["status"] == "open"
    assert [task for task, _ in dispatch.moved] == ["tk-1"]


async def test_moving_into_a_day_that_just_filled_up_is_refused_kindly(
    dispatch: FakeDispatch,
) -> None:
    import dataclasses

    t = Transcript(dispatch=dispatch)
    t.app.services["home_care"] = dataclasses.replace(t.app.services["home_care"], daily_capacity=1)
    booking_id = await booked(t, slot="今天 11:00")
    await t.say("lin", "/mine")
    await t.press("lin", "改时间：上门照料 今天 11:00")
    await t.press("lin", "明天")
    # While 林奶奶 looks at the times, 王先生 takes the last place of tomorrow
    await booked(t, user="wang", slot="明天 09:00")
    refused = await t.press("lin", "10:00")
    assert "刚被别人约走了" in texts(refused) and "明天" not in buttons(refused)
    assert t.booking(booking_id)["start"] == "2026-06-01T03:00:00+00:00"
    with t.app.store.snapshot() as tx:
        assert sorted(care.taken(tx, "home_care").values()) == [1, 1]


async def test_mine_pages_a_long_list_and_drops_what_finished_long_ago(
    dispatch: FakeDispatch,
) -> None:
    t = Transcript(dispatch=dispatch)
    # Given 林奶奶 with eight visits booked, and one cancelled more than two weeks ago
    slots = [f"明天 {hour:02d}:00" for hour in (9, 10, 11, 14, 15, 16)]
    slots += ["后天 09:00", "后天 10:00"]
    for slot in slots:
        await booked(t, "lin", slot)
    with t.app.unit() as tx:
        old = dict(t.bookings()[0], id="b-old", status="cancelled")
        tx.put(care.BOOKINGS, "b-old", dict(old, start="2026-05-01T01:00:00+00:00"))
    # When she opens /mine, she sees the first six, soonest first, and a "next page" button
    first = await t.say("lin", "/mine")
    assert "第 1 页，共 2 页" in texts(first)
    assert "1. 上门照料" in texts(first) and "7." not in texts(first)
    assert "下一页" in buttons(first) and "上一页" not in buttons(first)
    assert all(len(m["text"]) < 4096 for m in first)
    # And the next page has the last two and "previous page"
    second = await t.press("lin", "下一页")
    assert "7. 上门照料" in texts(second) and "8. 上门照料" in texts(second)
    assert "1." not in texts(second) and "9." not in texts(second)
    assert "上一页" in buttons(second) and "下一页" not in buttons(second)
    # The cancelled visit from May is not listed at all, and a page past the end shows the last
    assert "已取消" not in texts(first) + texts(second)
    beyond = await t.forge("lin", "a:mine:99")
    assert "7. 上门照料" in texts(beyond)
    odd = await t.forge("lin", "a:mine:²")
    assert "按钮已经过期" in texts(odd) or "过期" in texts(odd)
