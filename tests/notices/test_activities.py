"""Activities: browse, sign up within capacity, the waiting list, reminders, cancel, attendance."""

from __future__ import annotations

import csv
import io

import pytest
from notices_world import World, texts, to

from assistant.conversation.buttons import ActivityButton, ActivityVerb
from assistant.i18n import translator
from assistant.services import activities

ZH = translator("zh_CN")


def _signups(w: World) -> list[dict[str, object]]:
    with w.app.store.snapshot() as tx:
        return tx.all(activities.SIGNUPS)


async def test_the_demo_has_midday_care_the_canteen_and_a_culture_evening() -> None:
    w = World()
    shown = await w.say("wang", "/activities")
    labels = [label for m in shown for row in m.get("buttons", []) for label in row]
    assert (
        "午托班 · 免费" in labels and "长者食堂午餐 · ¥8" in labels and "南音之夜 · 免费" in labels
    )


async def test_sign_up_until_full_then_the_waiting_list_moves_up_when_a_place_frees() -> None:
    # Given the Nanyin evening (Saturday 19:00) with two places
    w = World()
    with w.app.store.transaction() as tx:
        doc = tx.require(activities.ACTIVITIES, "ac-nanyin")
        doc["capacity"] = 2
        tx.put(activities.ACTIVITIES, "ac-nanyin", doc)
    # When three residents sign up, the third is offered the waiting list
    for user in ("wang", "zhang"):
        await w.say(user, "/activities")
        await w.press(user, "南音之夜 · 免费")
        await w.press(
            user, "6月6日 周六 19:00 · 还剩" + ("2" if user == "wang" else "1") + "个名额"
        )
        booked = await w.press(user, "确认报名")
        assert "报上了" in texts(booked, user)
    await w.say("zhao", "/activities")
    await w.press("zhao", "南音之夜 · 免费")
    summary = await w.press("zhao", "6月6日 周六 19:00 · 已满（可候补）")
    assert "已经满了" in texts(summary, "zhao")
    waiting = await w.press("zhao", "排候补")
    assert "候补" in texts(waiting, "zhao")
    # Then the session holds exactly its capacity
    statuses = sorted(s["status"] for s in _signups(w))
    assert statuses == ["booked", "booked", "waiting"]
    # When 王先生 cancels from "my sign-ups"
    await w.say("wang", "/activities")
    await w.press("wang", "我的报名")
    [wang_signup] = [s for s in _signups(w) if s["person_id"] == w.person("wang")["id"]]
    sure = await w.act("wang", ActivityButton(ActivityVerb.CANCEL, str(wang_signup["id"])).encode())
    assert "确定要取消" in texts(sure, "wang")
    done = await w.act(
        "wang", ActivityButton(ActivityVerb.CANCEL_YES, str(wang_signup["id"])).encode()
    )
    # Then the first on the waiting list gets the place and is told
    assert "已经取消了" in texts(done, "wang")
    assert "有空位了" in texts(done, "zhao")
    assert sorted(s["status"] for s in _signups(w)) == ["booked", "booked", "cancelled"]
    # And the day before at 18:00 the booked are reminded
    reminded = w.travel(days=4, hours=9)  # Friday 18:00 local
    assert {m["to"] for m in reminded if "提醒" in m.get("text", "")} == {"zhang", "zhao"}


async def test_a_coordinator_marks_attendance_and_exports_it() -> None:
    w = World()
    w.clock.advance(days=5, hours=2)  # Saturday 11:00 local: the evening is today
    await w.say("zhang", "/activities")
    await w.press("zhang", "南音之夜 · 免费")
    await w.press("zhang", "今天 19:00 · 还剩60个名额")
    await w.press("zhang", "确认报名")
    shown = await w.say("grid", "/attendance")
    listed = await w.press("grid", "南音之夜 19:00 · 1")
    assert "快递员小张" in texts(listed, "grid")
    [signup] = _signups(w)
    marked = await w.act("grid", ActivityButton(ActivityVerb.PRESENT, str(signup["id"])).encode())
    assert "快递员小张 到了" in texts(marked, "grid")
    # A resident cannot mark anyone
    refused = await w.act("zhang", ActivityButton(ActivityVerb.ABSENT, str(signup["id"])).encode())
    assert "只有网格员" in texts(refused, "zhang")
    with w.app.store.snapshot() as tx:
        exported = activities.export_csv(tx, w.app, "ac-nanyin")
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0][:5] == ["activity", "date", "time", "name", "status"]
    assert rows[1][3:5] == ["快递员小张", "attended"]
    assert shown
    # When [activities] keep_days (30) have passed since the evening
    w.travel(days=30, hours=9)
    # Then the session and its sign-up have left the hot files, and the export still has them
    with w.app.store.snapshot() as tx:
        assert tx.all(activities.SESSIONS) == [] and tx.all(activities.SIGNUPS) == []
        assert [a["id"] for a in tx.archived(activities.SIGNUPS)] == [signup["id"]]
        later = activities.export_csv(tx, w.app, "ac-nanyin")
    assert list(csv.reader(io.StringIO(later)))[1][3:5] == ["快递员小张", "attended"]


async def test_the_canteen_takes_tomorrows_meals_until_the_cutoff_and_counts_them() -> None:
    w = World()
    await w.say("lin", "/activities")
    about = await w.press("lin", "长者食堂午餐 · ¥8")
    assert "今天 20:00 前" in texts(about, "lin")
    await w.press("lin", "明天 11:30 · 还剩40个名额")
    booked = await w.press("lin", "确认报名")
    assert "报上了" in texts(booked, "lin")
    with w.app.store.snapshot() as tx:
        assert activities.meal_counts(tx, "ac-canteen") == {"2026-06-02": 1}
    w.clock.advance(hours=11, minutes=1)  # 20:01 local: too late for tomorrow
    await w.say("zhao", "/activities")
    late = await w.press("zhao", "长者食堂午餐 · ¥8")
    assert "没有能报名的场次" in texts(late, "zhao")


async def test_cancelling_is_refused_close_to_the_start() -> None:
    w = World()
    w.clock.advance(days=5, hours=8, minutes=30)  # Saturday 17:30 local
    await w.say("zhang", "/activities")
    await w.press("zhang", "南音之夜 · 免费")
    await w.press("zhang", "今天 19:00 · 还剩60个名额")
    await w.press("zhang", "确认报名")
    [signup] = _signups(w)
    refused = await w.act(
        "zhang", ActivityButton(ActivityVerb.CANCEL_YES, str(signup["id"])).encode()
    )
    assert "快开始了" in texts(refused, "zhang")


async def form_up_to_capacity(w: World, name: str, place: str) -> None:
    """The coordinator's /activity: a weekend class at 09:30, up to the capacity question."""
    await w.say("grid", "/activity")
    await w.say("grid", name)
    await w.press("grid", "每周固定几天")
    await w.press("grid", "周末")
    await w.press("grid", "09:30")
    await w.say("grid", place)


@pytest.mark.parametrize("typed", ["0", "-1", "1000000000", "很多", "12.5"])
async def test_a_bad_capacity_is_answered_kindly(typed: str) -> None:
    w = World()
    await form_up_to_capacity(w, "书法班", "中心三楼")
    answer = await w.say("grid", typed)
    assert "1 到 500" in texts(to(answer, "grid"))


async def test_a_coordinator_defines_an_activity_for_older_residents_from_an_age() -> None:
    w = World()
    # Given a coordinator who fills in the whole /activity form
    await form_up_to_capacity(w, "太极拳", "中心广场")
    who = await w.say("grid", "20")
    assert "哪些人可以报名" in texts(to(who, "grid"))
    age = await w.press("grid", "老人家")
    assert "多大年纪以上" in texts(to(age, "grid"))
    wrong = await w.say("grid", "六十")  # typed, where a button is asked
    assert "多大年纪以上" in texts(to(wrong, "grid"))
    await w.press("grid", "65岁以上")
    summary = await w.press("grid", "免费")
    assert "对象：65岁以上的老人家" in texts(to(summary, "grid"))
    added = await w.press("grid", "添加活动")
    assert "活动加好了" in texts(to(added, "grid"))
    with w.app.store.snapshot() as tx:
        [taiji] = [a for a in tx.all(activities.ACTIVITIES) if a["name_zh"] == "太极拳"]
    assert (taiji["who"], taiji["min_age"], taiji["capacity"]) == ("elders", 65, 20)

    # When a resident whose birth year is not on record, then one too young, try to sign up
    async def sign_up(user: str) -> str:
        await w.say(user, "/activities")
        [label] = [x for x in w.labels(user) if x.startswith("太极拳")]
        await w.press(user, label)
        await w.press(user, w.labels(user)[0])  # the first session
        return texts(to(await w.press(user, "确认报名"), user))

    unknown = await sign_up("wang")
    with w.app.store.transaction() as tx:
        wang = tx.require("people", w.person("wang")["id"])
        tx.put("people", wang["id"], {**wang, "birth_year": 1990})
    young = await sign_up("wang")
    with w.app.store.transaction() as tx:
        wang = tx.require("people", w.person("wang")["id"])
        tx.put("people", wang["id"], {**wang, "birth_year": 1950})
    old_enough = await sign_up("wang")
    # Then each is told kindly, and the one old enough is signed up
    assert ZH.t("activity.age_unknown", age=65) in unknown, unknown
    assert ZH.t("activity.too_young", age=65) in young, young
    assert "报上了" in old_enough, old_enough
