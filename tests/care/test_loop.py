"""Closing the loop: task events told to the resident, rating, the next-day follow-up, archiving."""

from __future__ import annotations

from care_transcript import FakeDispatch, Transcript, buttons, texts
from care_transcript import booked as book_at

from assistant.jobs import timers
from assistant.services import care


async def booked(t: Transcript, user: str = "lin", slot: str = "今天 14:00") -> str:
    """A home care visit booked for this afternoon."""
    return await book_at(t, user, slot)


def event(t: Transcript, booking_id: str, name: str, **task: str) -> list[dict[str, object]]:
    care.on_task_event(t.app, booking_id, name, dict(task))
    return t.run_jobs()


async def test_each_step_of_the_task_is_told_once(dispatch: FakeDispatch) -> None:
    t = Transcript(dispatch=dispatch)
    booking_id = await booked(t)
    chen = t.person("chen")
    assigned = event(t, booking_id, "assigned", assignee_id=chen["id"])
    assert "志愿者是陈建国" in texts(assigned, to="lin")
    # The same event again (at-least-once delivery) says nothing new
    assert event(t, booking_id, "assigned", assignee_id=chen["id"]) == []
    dropped = event(t, booking_id, "dropped")
    assert "另找一位" in texts(dropped, to="lin")
    assert t.booking(booking_id)["status"] == "open"
    escalated = event(t, booking_id, "escalated")
    assert "网格员也在帮忙" in texts(escalated, to="lin")
    assert event(t, booking_id, "escalated") == []
    event(t, booking_id, "assigned", assignee_id=chen["id"])
    assert "出发了" in texts(event(t, booking_id, "on_way"), to="lin")
    assert "已经到了" in texts(event(t, booking_id, "arrived"), to="lin")
    # A late "on_way" after "arrived" does not move the booking back
    assert event(t, booking_id, "on_way") == []
    assert t.booking(booking_id)["status"] == "arrived"
    assert event(t, booking_id, "nonsense") == []


async def test_done_then_rating_and_a_comment(dispatch: FakeDispatch) -> None:
    t = Transcript(dispatch=dispatch)
    booking_id = await booked(t)
    event(t, booking_id, "assigned")
    asked = event(t, booking_id, "done")
    assert "完成了" in texts(asked, to="lin") and "⭐⭐⭐⭐⭐" in buttons(asked)
    # Someone else cannot rate it
    forged = await t.forge("wang", f"a:care:rate:{booking_id}:1")
    assert "不是您的" in texts(forged)
    rated = await t.press("lin", "⭐⭐⭐⭐⭐")
    assert "谢谢您的评价" in texts(rated) and "还想说几句" in texts(rated)
    thanks = await t.say("lin", "小陈很细心，谢谢！")
    assert "谢谢您" in texts(thanks)
    booking = t.booking(booking_id)
    assert booking["rating"] == 5 and booking["comment"] == "小陈很细心，谢谢！"
    # A rated booking leaves the hot file
    assert t.bookings() == [] and [b["id"] for b in t.archived()] == [booking_id]
    twice = await t.forge("lin", f"a:care:rate:{booking_id}:1")
    assert "已经回答过了" in texts(twice) and t.booking(booking_id)["rating"] == 5


async def test_the_resident_says_it_did_not_happen(dispatch: FakeDispatch) -> None:
    t = Transcript(dispatch=dispatch)
    booking_id = await booked(t)
    event(t, booking_id, "assigned")
    event(t, booking_id, "done")
    said = await t.press("lin", "其实没有做")
    assert "已经告诉网格员" in texts(said, to="lin")
    to_grid = texts(said, to="grid")
    assert "林奶奶说上门照料其实没有做" in to_grid and "时间：6月1日 周一 14:00" in to_grid


async def test_the_next_day_follow_up_and_a_worrying_answer_goes_to_the_coordinator(
    dispatch: FakeDispatch,
) -> None:
    t = Transcript(dispatch=dispatch)
    booking_id = await booked(t)
    event(t, booking_id, "assigned")
    t.clock.advance(hours=6)  # 15:00 local: done
    event(t, booking_id, "done")
    await t.press("lin", "⭐⭐⭐⭐")
    await t.press("lin", "不用了")
    # Nothing is asked before ten o'clock the next morning
    assert texts(t.travel(hours=18, minutes=59)) == ""
    follow = t.travel(minutes=1)
    assert "林奶奶今天身体还好吗？" in texts(follow, to="lin")
    assert buttons(follow, to="lin") == ["挺好的", "不太好", "需要帮助"]
    # The follow-up runs once, even if its job ran again
    from assistant.services.care import followups as care_followups

    with t.app.unit() as tx:
        care_followups.follow_up_job(tx, t.app, booking_id)
    assert t.run_jobs() == []
    answered = await t.press("lin", "需要帮助")
    assert "已经告诉网格员" in texts(answered, to="lin")
    worry = texts(answered, to="grid")
    assert "林奶奶" in worry and "需要帮助" in worry and "锦绣家园 1栋 1单元 302" in worry
    again = await t.forge("lin", f"a:care:fu:{booking_id}:ok")
    assert "已经回答过了" in texts(again)
    assert t.booking(booking_id)["follow_up_answer"] == "help"


async def test_a_fine_answer_stays_between_us(dispatch: FakeDispatch) -> None:
    t = Transcript(dispatch=dispatch)
    booking_id = await booked(t)
    event(t, booking_id, "done")
    t.travel(days=1, hours=1)
    fine = await t.press("lin", "挺好的")
    assert "太好了" in texts(fine) and texts(fine, to="grid") == ""


async def test_an_unrated_visit_leaves_the_hot_file_a_week_later(dispatch: FakeDispatch) -> None:
    t = Transcript(dispatch=dispatch)
    booking_id = await booked(t)
    event(t, booking_id, "done")
    t.travel(days=6)
    assert [b["id"] for b in t.bookings()] == [booking_id]
    t.travel(days=1)
    assert t.bookings() == [] and t.booking(booking_id)["expired"] is True
    with t.app.store.snapshot() as tx:
        assert timers.pending(tx) == []


async def test_a_failed_visit_is_told_kindly(dispatch: FakeDispatch) -> None:
    t = Transcript(dispatch=dispatch)
    booking_id = await booked(t)
    event(t, booking_id, "assigned")
    failed = event(t, booking_id, "failed")
    assert "没能完成" in texts(failed, to="lin")
    assert event(t, booking_id, "done") == []


async def test_events_for_a_cancelled_booking_are_ignored(dispatch: FakeDispatch) -> None:
    t = Transcript(dispatch=dispatch)
    booking_id = await booked(t, slot="明天 09:00")
    await t.forge("lin", f"a:care:cancelyes:{booking_id}")
    assert event(t, booking_id, "assigned") == []
    assert t.booking(booking_id)["status"] == "cancelled"
