"""A deadline typed by the coordinator: read, checked, and answered kindly when it cannot be."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from notices_world import World, texts

from assistant.services.notices import deadline

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # Monday 09:00 local


@pytest.mark.parametrize(
    ("words", "local"),
    [
        ("6月5日 18:00", (2026, 6, 5, 18, 0)),
        ("2026-06-05 18:00", (2026, 6, 5, 18, 0)),
        ("2026/6/5 9:30", (2026, 6, 5, 9, 30)),
        ("６月５日　１８：００", (2026, 6, 5, 18, 0)),
        ("6月5日下午6点", (2026, 6, 5, 18, 0)),
        ("明天下午6点", (2026, 6, 2, 18, 0)),
        ("明晚8点", (2026, 6, 2, 20, 0)),
        ("后天 12:00", (2026, 6, 3, 12, 0)),
        ("明天", (2026, 6, 2, 18, 0)),
        ("6月2日 下午3点半", (2026, 6, 2, 15, 30)),
        ("tomorrow 6pm", (2026, 6, 2, 18, 0)),
        ("Tomorrow 6:30 p.m.", (2026, 6, 2, 18, 30)),
        ("tonight 8", (2026, 6, 1, 20, 0)),
        ("today 20:00", (2026, 6, 1, 20, 0)),
        ("the day after tomorrow noon", (2026, 6, 3, 12, 0)),
        ("5 Jun 18:00", (2026, 6, 5, 18, 0)),
        ("June 5th, 2026 9am", (2026, 6, 5, 9, 0)),
        ("Jun 5", (2026, 6, 5, 18, 0)),
        ("tomorrow at 9", (2026, 6, 2, 9, 0)),
        ("tomorrow 12am", (2026, 6, 2, 0, 0)),
    ],
)
def test_the_forms_a_coordinator_types_are_read(words: str, local: tuple[int, ...]) -> None:
    assert deadline.read(words, NOW, ZONE) == datetime(*local, tzinfo=ZONE)


@pytest.mark.parametrize(
    "words",
    ["下周", "13月1日", "明天 25:00", "6月31日 18:00", "blah", "tomorrow 13pm", "31 Jun", "Foo 5"],
)
def test_words_that_name_no_moment_are_not_guessed(words: str) -> None:
    assert deadline.read(words, NOW, ZONE) is None


def test_january_typed_in_december_is_next_year() -> None:
    december = datetime(2026, 12, 20, 1, 0, tzinfo=UTC)
    assert deadline.read("1月3日 18:00", december, ZONE) == datetime(2027, 1, 3, 18, tzinfo=ZONE)


def test_a_deadline_must_be_ahead_and_within_sixty_days() -> None:
    assert deadline.check(datetime(2026, 6, 1, 8, tzinfo=ZONE), NOW) is deadline.Problem.PAST
    assert deadline.check(datetime(2026, 7, 30, 18, tzinfo=ZONE), NOW) is None
    assert deadline.check(datetime(2026, 8, 1, 18, tzinfo=ZONE), NOW) is deadline.Problem.FAR


async def _at_deadline_question(w: World) -> None:
    await w.say("grid", "/notice")
    await w.press("grid", "锦绣家园一网格")
    await w.press("grid", "下一步")
    await w.say("grid", "周五下午社区体检，请带好身份证。")
    await w.press("grid", "写完了")
    await w.press("grid", "跳过")
    await w.press("grid", "需要确认")


async def test_a_typed_deadline_goes_to_the_preview_and_wrong_ones_are_answered_kindly() -> None:
    # Given a coordinator at the deadline question
    w = World()
    await _at_deadline_question(w)
    # When she types a time in the past, then one too far, then words that are no time
    past = await w.say("grid", "5月30日 18:00")
    far = await w.say("grid", "2026-12-05 18:00")
    unclear = await w.say("grid", "等大家都看到")
    # Then each is answered kindly, and the question stays
    assert "已经过去了" in texts(past, "grid")
    assert "太远了" in texts(far, "grid") and "60 天以内" in texts(far, "grid")
    assert "12月5日 18:00" in texts(unclear, "grid")
    # When she types one that fits
    preview = await w.say("grid", "6月5日 18:00")
    # Then the preview shows it, and the notice keeps it
    assert "6月5日" in texts(preview, "grid") and "18:00" in texts(preview, "grid")
    await w.press("grid", "发送")
    w.settle()
    assert w.notice()["deadline"].startswith("2026-06-05T10:00")
