"""Plain words: each service asks its own question, coordinators read dates, no doubled brackets."""

from __future__ import annotations

import re

from care_transcript import FakeDispatch, Transcript, buttons, pick, texts

from assistant.i18n import catalog, placeholders

REPAIR = "便民维修 · ¥10"
ESCORT = "就医陪护（绿色通道） · ¥20"
HAN = re.compile(r"[\u4e00-\u9fff]")


async def test_a_repair_asks_what_needs_fixing_and_shows_it_so(dispatch: FakeDispatch) -> None:
    t = Transcript(dispatch=dispatch)
    await t.say("lin", "/care")
    await t.press("lin", REPAIR)
    await pick(t, "lin", "明天 10:00")
    asked = await t.press("lin", "对，就是这里")
    assert "哪里要修" in texts(asked) and "身体情况" not in texts(asked)
    summary = await t.say("lin", "厨房水龙头漏水")
    assert "要修的：厨房水龙头漏水" in texts(summary) and "身体情况" not in texts(summary)


async def test_every_service_names_its_own_notes(dispatch: FakeDispatch) -> None:
    t = Transcript(dispatch=dispatch)
    for service in t.app.services.values():
        assert service.notes_question("zh_CN") and service.notes_question("en")
        assert service.notes_label("zh_CN") and service.notes_label("en")
        assert not HAN.search(service.notes_question("en") + service.notes_label("en"))
    questions = {s.notes_question("zh_CN") for s in t.app.services.values()}
    assert len(questions) == len(t.app.services)


async def test_the_coordinator_reads_a_date_and_a_plain_line(dispatch: FakeDispatch) -> None:
    t = Transcript(dispatch=dispatch)
    await t.say("lin", "/care")
    await t.press("lin", ESCORT)
    await pick(t, "lin", "明天 09:00")
    await t.press("lin", "对，就是这里")
    await t.press("lin", "跳过")
    sent = await t.press("lin", "确认预约")
    to_grid = texts(sent, to="grid")
    assert "林奶奶申请就医陪护（绿色通道）。" in to_grid and "时间：6月2日 周二 09:00" in to_grid
    assert "明天" not in to_grid
    # And the resident's own line has no brackets inside brackets
    assert "已经提交了：就医陪护（绿色通道），明天 09:00" in texts(sent, to="lin")
    assert "）（" not in texts(sent)


async def test_an_as_soon_as_possible_booking_says_when_it_was_made(
    dispatch: FakeDispatch,
) -> None:
    t = Transcript(dispatch=dispatch)
    t.clock.advance(hours=14)  # 23:00 local
    await t.say("lin", "/care")
    await t.press("lin", "爱心药房夜间送药 · 免费")
    await t.press("lin", "尽快")
    await t.press("lin", "对，就是这里")
    await t.say("lin", "退烧药")
    await t.press("lin", "确认预约")
    t.clock.advance(minutes=30)
    await t.say("grid", "/book")
    current = await t.say("grid", "林奶奶")
    assert "尽快，6月1日 周一 23:00约的" in texts(current)


async def test_buttons_of_my_bookings_name_the_visit(dispatch: FakeDispatch) -> None:
    from care_transcript import booked

    t = Transcript(dispatch=dispatch)
    await booked(t, slot="明天 09:00")
    mine = await t.say("lin", "/mine")
    assert buttons(mine) == ["取消：上门照料 明天 09:00", "改时间：上门照料 明天 09:00"]


def _filled(text: str) -> str:
    """A message with a bracketed service name and plain words for every placeholder."""
    values = {name: "值" for name in placeholders(text)}
    for name in ("service", "title"):
        values[name] = "就医陪护（绿色通道）"
    return text.format(**values)


def _nesting(text: str) -> int:
    depth = deepest = 0
    for char in text:
        if char in "（(":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "）)":
            depth -= 1
    return deepest


def test_no_care_or_dispatch_message_doubles_its_brackets() -> None:
    for language in ("zh_CN", "en"):
        for key, text in catalog(language).items():
            if not key.startswith(("care.", "dispatch.", "volunteer.")):
                continue
            filled = _filled(text)
            assert _nesting(filled) <= 1 and "）（" not in filled, (language, key, filled)
            assert ") (" not in filled, (language, key, filled)


def test_english_care_and_dispatch_messages_have_no_chinese_left() -> None:
    for key, text in catalog("en").items():
        if key.startswith(("care.", "dispatch.", "volunteer.")):
            assert not HAN.search(text), key
