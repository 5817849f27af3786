"""Booking through /care: the whole form, relatives, bad input, approval and the last place."""

from __future__ import annotations

import dataclasses
import logging
import re

import pytest
from care_transcript import FakeDispatch, Transcript, buttons, pick, texts

from assistant.services import care, people

HOME_CARE = "上门照料 · 免费"
ESCORT = "就医陪护（绿色通道） · ¥20"


async def book_home_care(t: Transcript, user: str, slot: str, notes: str = "") -> None:
    """``user`` books a home care visit at ``slot`` for themselves, up to the summary."""
    await t.say(user, "/care")
    await t.press(user, HOME_CARE)
    await pick(t, user, slot)
    await t.press(user, "对，就是这里")
    if notes:
        await t.say(user, notes)
    else:
        await t.press(user, "跳过")


async def test_a_resident_books_a_home_care_visit_in_a_few_presses(
    dispatch: FakeDispatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    t = Transcript(dispatch=dispatch)
    # Given 林奶奶 opens the booking form from the menu
    menu = await t.say("lin", "/menu")
    assert "预约服务" in buttons(menu) and "我的预约" in buttons(menu)
    services = await t.press("lin", "预约服务")
    assert HOME_CARE in buttons(services) and ESCORT in buttons(services)
    # When she picks home care, she is asked for the day first
    when = await t.press("lin", HOME_CARE)
    assert buttons(when)[:4] == ["今天", "明天", "后天", "另选一天"]
    assert "尽快" not in buttons(when)
    # And today's free times leave two hours' notice from 09:00
    today = await t.press("lin", "今天")
    assert buttons(today)[:4] == ["11:00", "12:00", "13:00", "14:00"]
    assert "10:00" not in buttons(today) and "换一天" in buttons(today)
    await t.press("lin", "换一天")
    tomorrow = await t.press("lin", "明天")
    assert "明天 6月2日 周二" in texts(tomorrow) and buttons(tomorrow)[0] == "08:00"
    # And her household address is offered to confirm
    address = await t.press("lin", "09:00")
    assert "锦绣家园 1栋 1单元 302" in texts(address)
    notes = await t.press("lin", "对，就是这里")
    assert "跳过" in buttons(notes)
    summary = await t.say("lin", "腿脚不便，上下楼要扶")
    assert "免费" in texts(summary) and "明天 09:00" in texts(summary)
    assert "腿脚不便" in texts(summary)
    # Then confirming books it and opens a dispatch task
    done = await t.press("lin", "确认预约")
    assert "约好了" in texts(done)
    [booking] = t.bookings()
    lin = t.person("lin")
    assert booking["status"] == "open" and booking["via"] == "chat"
    assert booking["person_id"] == lin["id"] == booking["booked_by"]
    assert booking["start"] == "2026-06-02T01:00:00+00:00"
    assert booking["price"] == 0 and booking["task_id"] == "tk-1"
    [task] = dispatch.opened
    # And health notes and the address go only into the task's private part
    assert task["private"]["notes"] == "腿脚不便，上下楼要扶"
    assert task["private"]["address_zh"] == "锦绣家园 1栋 1单元 302"
    assert task["summary"]["place"] == "锦绣家园" and "302" not in str(task["summary"])
    assert task["skill"] == "care" and task["grid_id"] == "jx-1"
    # And nothing personal was logged
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "腿脚" not in logged and "302" not in logged and "林奶奶" not in logged


async def test_a_family_helper_books_for_a_relative_and_hears_every_change(
    dispatch: FakeDispatch,
) -> None:
    t = Transcript(dispatch=dispatch)
    # Given 王先生 may act for his mother
    with t.app.unit() as tx:
        wang = people.person_at(tx, "console:wang")
        assert wang is not None
        link = people.request_proxy(tx, wang["id"], "王奶奶", "mother", "2026-06-01T00:00:00+00:00")
        people.decide_proxy(tx, link["id"], True, "coordinator")
    await t.say("wang", "/care")
    # When he books, he is asked for whom
    whom = await t.press("wang", HOME_CARE)
    assert buttons(whom)[:2] == ["我自己", "王奶奶"]
    await t.press("wang", "王奶奶")
    await pick(t, "wang", "明天 10:00")
    await t.press("wang", "对，就是这里")
    summary = await t.press("wang", "跳过")
    assert "给谁：王奶奶" in texts(summary)
    await t.press("wang", "确认预约")
    [booking] = t.bookings()
    assert booking["booked_by"] == wang["id"] and booking["person_id"] != wang["id"]
    # Then a change by dispatch is told to him, since his mother has no chat
    care.on_task_event(t.app, booking["id"], "on_way", {})
    told = t.run_jobs()
    assert "志愿者出发了" in texts(told, to="wang") and "王奶奶的上门照料" in texts(told)


async def test_bad_input_in_the_middle_of_the_form_is_answered_kindly(
    dispatch: FakeDispatch,
) -> None:
    t = Transcript(dispatch=dispatch)
    await t.say("lin", "/care")
    await t.press("lin", HOME_CARE)
    old = await t.press("lin", "今天")
    assert "11:00" in buttons(old)
    # A sticker, a typed answer where buttons are needed, a huge text, a forged button
    sticker = await t.send(**{"as": "lin", "sticker": "🌸"})
    assert "按钮" in texts(sticker) and "11:00" in buttons(sticker)
    typed = await t.say("lin", "明天上午吧")
    assert "按钮" in texts(typed)
    huge = await t.say("lin", "字" * 5000)
    assert "太长" in texts(huge)
    forged = await t.forge("lin", "2026-06-01T03:30:00+00:00")
    assert "过期" in texts(forged)
    # At the notes, a huge note is refused but the form goes on
    await t.press("lin", "11:00")
    await t.press("lin", "对，就是这里")
    long_note = await t.say("lin", "药" * 400)
    assert "300" in texts(long_note)
    summary = await t.say("lin", "对青霉素过敏")
    assert "青霉素" in texts(summary)
    # A button of an earlier question is stale now
    stale = await t.forge("lin", "home_care")
    assert "过期" in texts(stale)
    # "Stop" ends the form and keeps nothing
    stopped = await t.press("lin", "不约了")
    assert "取消" in texts(stopped) and t.bookings() == []
    assert dispatch.opened == []


async def test_a_typed_address_when_there_is_no_household(dispatch: FakeDispatch) -> None:
    t = Transcript(dispatch=dispatch)
    with t.app.unit() as tx:
        people.create_person(
            tx, name="陈阿姨", address="console:chenay", language="zh_CN", now="2026-06-01"
        )
    await t.say("chenay", "/care")
    await t.press("chenay", HOME_CARE)
    asked = await pick(t, "chenay", "明天 09:00")
    assert "打字告诉我上门地址" in texts(asked)
    await t.say("chenay", "水晶城B栋2单元 801")
    await t.press("chenay", "跳过")
    await t.press("chenay", "确认预约")
    [booking] = t.bookings()
    assert booking["household"] == {"text": "水晶城B栋2单元 801"}
    assert dispatch.opened[0]["summary"]["place"] == ""


async def test_the_night_pharmacy_offers_as_soon_as_possible(dispatch: FakeDispatch) -> None:
    t = Transcript(dispatch=dispatch)
    t.clock.advance(hours=14)  # 23:00 local
    await t.say("lin", "/care")
    when = await t.press("lin", "爱心药房夜间送药 · 免费")
    assert buttons(when)[0] == "尽快"
    await t.press("lin", "尽快")
    await t.press("lin", "对，就是这里")
    summary = await t.say("lin", "要退烧药")
    assert "时间：尽快" in texts(summary)
    await t.press("lin", "确认预约")
    [booking] = t.bookings()
    assert booking["asap"] and booking["start"] == "2026-06-01T15:00:00+00:00"
    assert dispatch.opened[0]["wave_minutes"] == 2


async def test_an_escort_waits_for_a_coordinator_who_approves_it(dispatch: FakeDispatch) -> None:
    t = Transcript(dispatch=dispatch)
    await t.say("lin", "/care")
    await t.press("lin", ESCORT)
    await pick(t, "lin", "明天 09:00")
    await t.press("lin", "对，就是这里")
    summary = await t.press("lin", "跳过")
    assert "¥20" in texts(summary) and "网格员先确认" in texts(summary)
    sent = await t.press("lin", "确认预约")
    # The coordinator is asked; no task is opened yet
    assert "网格员确认后" in texts(sent, to="lin")
    assert "林奶奶申请就医陪护" in texts(sent, to="grid")
    assert dispatch.opened == []
    [booking] = t.bookings()
    assert booking["status"] == "awaiting_approval"
    # A resident cannot approve it, even with a forged button
    forged = await t.forge("wang", f"a:care:approve:{booking['id']}")
    assert "不是您的" in texts(forged) and dispatch.opened == []
    # The coordinator approves: the task opens and 林奶奶 is told
    approved = await t.press("grid", "同意")
    assert "已同意" in texts(approved, to="grid")
    assert "网格员同意了" in texts(approved, to="lin")
    assert len(dispatch.opened) == 1 and t.booking(booking["id"])["status"] == "open"
    again = await t.forge("grid", f"a:care:decline:{booking['id']}")
    assert "按钮不能用了" in texts(again)


async def test_a_declined_escort_frees_its_place(dispatch: FakeDispatch) -> None:
    t = Transcript(dispatch=dispatch)
    await t.say("lin", "/care")
    await t.press("lin", ESCORT)
    await pick(t, "lin", "明天 09:00")
    await t.press("lin", "对，就是这里")
    await t.press("lin", "跳过")
    await t.press("lin", "确认预约")
    declined = await t.press("grid", "不同意")
    assert "没能安排" in texts(declined, to="lin")
    assert t.bookings() == [] and t.archived()[0]["status"] == "cancelled"
    with t.app.store.snapshot() as tx:
        assert sum(care.taken(tx, "escort").values()) == 0


async def test_two_residents_race_for_the_last_place_and_one_wins(
    dispatch: FakeDispatch,
) -> None:
    t = Transcript(dispatch=dispatch)
    # Given home care takes one visit a day
    t.app.services["home_care"] = dataclasses.replace(t.app.services["home_care"], daily_capacity=1)
    # And both 林奶奶 and 王先生 are at the summary for today 11:00
    for user in ("lin", "wang"):
        await book_home_care(t, user, "今天 11:00")
    # When both confirm at the same moment
    lin, wang = await t.race(("lin", "确认预约"), ("wang", "确认预约"))
    # Then exactly one booking exists
    assert len(t.bookings()) == 1 and len(dispatch.opened) == 1
    winner, loser = (lin, wang) if "约好了" in texts(lin) else (wang, lin)
    assert "约好了" in texts(winner)
    # And the other is told kindly and asked for a day again, today no longer among them
    assert "刚被别人约走了" in texts(loser)
    fresh = buttons(loser)
    assert "今天" not in fresh and "明天" in fresh
    with t.app.store.snapshot() as tx:
        assert sum(care.taken(tx, "home_care").values()) == 1


async def test_a_slot_that_became_too_soon_is_refused_at_confirm(dispatch: FakeDispatch) -> None:
    t = Transcript(dispatch=dispatch)
    await book_home_care(t, "lin", "今天 11:00")
    t.clock.advance(minutes=5)  # 09:05: 11:00 is now less than two hours away
    reply = await t.press("lin", "确认预约")
    assert "太近了" in texts(reply) and "11:00" not in buttons(reply)
    assert t.bookings() == []


async def test_later_times_page_on_and_english_speakers_read_english(
    dispatch: FakeDispatch,
) -> None:
    t = Transcript(dispatch=dispatch)
    people.update(t.app.store, t.person("zhang")["id"], language="en")
    await t.say("zhang", "/care")
    days = await t.press("zhang", "Home care visit · Free")
    assert buttons(days)[:3] == ["Today", "Tomorrow", "Wed 3 Jun"]
    first = await t.press("zhang", "Tomorrow")
    assert "Tomorrow, Tue 2 Jun" in texts(first) and buttons(first)[0] == "08:00"
    later = await t.press("zhang", "Later times")
    assert buttons(later)[:2] == ["16:00", "17:00"] and "Earlier times" in buttons(later)
    assert not set(buttons(first)) & set(buttons(later)) - {"Other days", "Stop"}
    await t.press("zhang", "17:00")
    await t.press("zhang", "Yes, that's it")
    summary = await t.press("zhang", "Skip")
    assert "Price: Free" in texts(summary) and "When: Tomorrow 17:00" in texts(summary)
    assert "Health notes: none" in texts(summary)
    names = ("快递员小张", "水晶城")  # names of people and places stay as they are
    plain = texts(summary)
    for name in names:
        plain = plain.replace(name, "")
    assert not re.search(r"[\u4e00-\u9fff]", plain)
    done = await t.press("zhang", "Confirm")
    assert "Booked!" in texts(done)
