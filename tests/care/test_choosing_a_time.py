"""Choosing a time in chat: a day first, then every free time of that day, back and forth."""

from __future__ import annotations

from datetime import timedelta

from care_transcript import HOME_CARE, FakeDispatch, Transcript, booked, buttons, pick, texts

from assistant.clock import from_iso
from assistant.domain import slots
from assistant.services import care

PHARMACY = "爱心药房夜间送药 · 免费"


async def _every_offered(t: Transcript, user: str) -> set[str]:
    """Press through every day and every page at the question "when?"; the times seen."""
    seen: set[str] = set()
    days = [label for label in t.labels(user) if label not in ("另选一天", "不约了", "尽快")]
    await t.press(user, "另选一天")
    days += [label for label in t.labels(user) if label not in ("回到最近几天", "不约了")]
    await t.press(user, "回到最近几天")
    for day in days:
        if day not in t.labels(user):
            await t.press(user, "另选一天")
        await t.press(user, day)
        while True:
            seen |= {f"{day} {label}" for label in t.labels(user) if ":" in label}
            if "更晚的时间" not in t.labels(user):
                break
            await t.press(user, "更晚的时间")
        await t.press(user, "换一天")
    return seen


async def test_every_free_slot_of_two_weeks_can_be_reached(dispatch: FakeDispatch) -> None:
    t = Transcript(dispatch=dispatch)
    await t.say("lin", "/care")
    await t.press("lin", HOME_CARE)
    # When 林奶奶 goes through every day and every page of times
    seen = await _every_offered(t, "lin")
    # Then every bookable slot of the next two weeks was offered, tomorrow afternoon too
    now = t.clock.now()
    zone = t.app.settings.timezone
    with t.app.store.snapshot() as tx:
        rules = care.rules_of(t.app.services["home_care"])
        every = slots.free_slots(rules, now, zone, care.taken(tx, "home_care"), limit=1000)
    assert seen == {slots.label(s, now, zone, True) for s in every}
    assert {"明天 14:00", "明天 16:00", "明天 17:00"} <= seen


async def test_earlier_goes_back_and_another_day_changes_the_day(dispatch: FakeDispatch) -> None:
    t = Transcript(dispatch=dispatch)
    await t.say("lin", "/care")
    await t.press("lin", HOME_CARE)
    first = await t.press("lin", "明天")
    later = await t.press("lin", "更晚的时间")
    assert buttons(later)[:2] == ["16:00", "17:00"] and "更晚的时间" not in buttons(later)
    back = await t.press("lin", "更早的时间")
    assert buttons(back) == buttons(first)
    days = await t.press("lin", "换一天")
    assert "想约哪一天" in texts(days) and "明天" in buttons(days)


async def test_the_night_pharmacy_shows_every_hour_of_the_night(dispatch: FakeDispatch) -> None:
    t = Transcript(dispatch=dispatch)
    t.clock.advance(hours=10, minutes=30)  # 19:30 local
    await t.say("lin", "/care")
    days = await t.press("lin", PHARMACY)
    assert buttons(days)[:3] == ["尽快", "今天", "明天"]
    tonight = await t.press("lin", "今天")
    assert buttons(tonight)[:4] == ["20:00", "21:00", "22:00", "23:00"]
    await t.press("lin", "换一天")
    tomorrow = await t.press("lin", "明天")
    assert buttons(tomorrow)[:2] == ["00:00", "01:00"]


async def test_a_booking_made_on_a_later_date(dispatch: FakeDispatch) -> None:
    t = Transcript(dispatch=dispatch)
    booking_id = await booked(t, slot="6月5日 周五 16:00")
    start = from_iso(t.booking(booking_id)["start"])
    assert start == t.clock.now() + timedelta(days=4, hours=7)


async def test_a_day_that_fills_up_while_looking_asks_for_the_day_again(
    dispatch: FakeDispatch,
) -> None:
    import dataclasses

    t = Transcript(dispatch=dispatch)
    t.app.services["home_care"] = dataclasses.replace(t.app.services["home_care"], daily_capacity=1)
    await t.say("lin", "/care")
    await t.press("lin", HOME_CARE)
    await t.press("lin", "明天")
    await booked(t, user="wang", slot="明天 09:00")
    # When 林奶奶 pages on in the day that just filled up, she is asked for a day again
    again = await t.press("lin", "更晚的时间")
    assert "想约哪一天" in texts(again) and "明天" not in buttons(again)
    await pick(t, "lin", "后天 10:00")
