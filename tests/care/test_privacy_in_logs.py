"""Names, addresses, phone numbers and health notes never reach the logs at INFO or above."""

from __future__ import annotations

import logging

import pytest
from care_transcript import Transcript, pick

NOTES = "对青霉素过敏"
PERSONAL = ("林奶奶", "302", NOTES, "13800000001", "陈建国", "锦绣家园 1栋")


async def test_a_whole_booking_story_logs_nothing_personal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    t = Transcript()
    # Given a booking with a health note, offers, a race, the visit, the rating and more
    await t.say("lin", "/care")
    await t.press("lin", "上门照料 · 免费")
    await pick(t, "lin", "明天 09:00")
    await t.press("lin", "对，就是这里")
    await t.say("lin", NOTES)
    booked = await t.press("lin", "确认预约")
    volunteers = sorted({m["to"] for m in booked if m["to"] != "lin"})
    await t.race(*((volunteer, "我来接单") for volunteer in volunteers[:2]))
    t.travel(hours=23)
    for volunteer in volunteers:
        for label in ("我出发了", "我已到达", "已完成"):
            await t.press(volunteer, label)
    await t.press("lin", "⭐⭐⭐⭐⭐")
    await t.say("lin", "/me")
    await t.say("lin", "/forget")
    await t.press("lin", "确定删除")
    # Then no record at INFO or above carries personal data
    loud = [r for r in caplog.records if r.levelno >= logging.INFO]
    for record in loud:
        message = record.getMessage()
        for secret in PERSONAL:
            assert secret not in message, f"{record.name}: {message}"
    assert any(r.levelno >= logging.INFO for r in caplog.records), "the story logged nothing"
