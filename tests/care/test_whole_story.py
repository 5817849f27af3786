"""The whole story with the real dispatch: book → offers → a race to accept → visit → rating → follow-up."""

from __future__ import annotations

from care_transcript import Transcript, buttons, pick, texts

NOTES = "腿脚不便，上下楼要扶"
ROOM = "1单元 302"


async def test_from_booking_to_the_next_day_follow_up() -> None:
    t = Transcript()
    # Given 林奶奶 books a home care visit for tomorrow 09:00 with a health note
    await t.say("lin", "/care")
    await t.press("lin", "上门照料 · 免费")
    await pick(t, "lin", "明天 09:00")
    await t.press("lin", "对，就是这里")
    await t.say("lin", NOTES)
    booked = await t.press("lin", "确认预约")
    assert "约好了" in texts(booked, to="lin")
    # Then three volunteers get an offer that shows the complex but no address or notes
    offered = sorted({m["to"] for m in booked if "我来接单" in buttons([m])})
    assert len(offered) == 3, texts(booked)
    offers = texts([m for m in booked if m["to"] in offered])
    assert "锦绣家园" in offers and NOTES not in offers and ROOM not in offers
    assert "林奶奶" not in offers

    # When two of them accept at the same moment
    first, second, third = offered
    results = await t.race((first, "我来接单"), (second, "我来接单"))
    won = [r for r in results if NOTES in texts(r)]
    lost = [r for r in results if "已经有人接了" in texts(r)]
    # Then exactly one wins and sees the address and the notes; the other sees "taken"
    assert len(won) == 1 and len(lost) == 1
    winner = first if won[0] is results[0] else second
    assert ROOM in texts(won[0])
    [booking] = t.bookings()
    assert booking["status"] == "assigned"

    # And the resident hears who is coming; the third volunteer's offer now says it is taken
    history = t.out.getvalue().splitlines()
    assert any("已经安排好了，志愿者是" in line and '"to": "lin"' in line for line in history)
    assert any("已经有志愿者接了" in line and f'"to": "{third}"' in line for line in history)

    # When the morning comes, the volunteer is reminded, then goes, arrives and finishes
    reminded = t.travel(hours=23)
    assert texts(reminded, to=winner)
    assert "出发了" in texts(await t.press(winner, "我出发了"), to="lin")
    assert "已经到了" in texts(await t.press(winner, "我已到达"), to="lin")
    rating = await t.press(winner, "已完成")
    assert "完成了" in texts(rating, to="lin") and "⭐⭐⭐⭐⭐" in buttons(rating, to="lin")

    # Then 林奶奶 rates it and the booking leaves the hot file
    await t.press("lin", "⭐⭐⭐⭐⭐")
    await t.press("lin", "不用了")
    assert t.bookings() == [] and t.booking(booking["id"])["rating"] == 5

    # And at ten the next morning she is asked how she is; "not so well" reaches the coordinator
    assert "身体还好吗" not in texts(t.travel(hours=8))  # 16:00 the same day
    follow = t.travel(hours=18)  # 10:00 the next day
    assert "林奶奶今天身体还好吗？" in texts(follow, to="lin")
    answer = await t.press("lin", "不太好")
    assert "林奶奶" in texts(answer, to="grid") and "不太好" in texts(answer, to="grid")
