"""Choices on Matrix: numbered lines answered by number, label or reaction; stale answers."""

from __future__ import annotations

from typing import Any

from matrix_world import Running

from assistant.i18n import translator


async def _at_language_question(running: Running, resident_factory: Any) -> Any:
    lin = await resident_factory()
    await lin.open_direct_room(running.bot.account.user_id)
    await lin.says("你好")
    return lin


async def test_a_choice_answered_by_reaction_is_used_once(
    running: Running, resident_factory: Any
) -> None:
    # Given a resident shown the language question with two numbered choices
    lin = await _at_language_question(running, resident_factory)
    question = lin.last()
    # When they react with 2️⃣ (English)
    asked = await lin.reacts(question.event_id, "2️⃣")
    # Then the next question comes in English
    assert asked[0].body == translator("en").t("onboard.ask_name")
    # And reacting again on the same message is a stale choice, answered as on Telegram
    # (in the community's language: a newcomer has no profile yet)
    stale = await lin.reacts(question.event_id, "1️⃣")
    assert stale[0].body == translator("zh_CN").t("matrix.choice_expired")


async def test_a_number_outside_the_list_asks_for_one_inside_it(
    running: Running, resident_factory: Any
) -> None:
    # Given the language question (two choices)
    lin = await _at_language_question(running, resident_factory)
    # When the resident types 7
    answer = await lin.says("7", expect=2)
    # Then they are asked for a number from the list, and the question is asked again
    assert answer[0].body == translator("zh_CN").t("core.choose_number", last=2)
    assert "1. ✓ 中文" in answer[1].body
    # And the label's text, typed in any case, answers it
    asked = await lin.says("english")
    assert asked[0].body == translator("en").t("onboard.ask_name")


async def test_a_reaction_on_an_old_message_is_stale(
    running: Running, resident_factory: Any
) -> None:
    # Given a resident who answered the language question by number
    lin = await _at_language_question(running, resident_factory)
    question = lin.last()
    await lin.says("1")
    # When they react to the old question afterwards
    stale = await lin.reacts(question.event_id, "2️⃣")
    # Then it is refused as stale, and their language stays Chinese
    assert stale[0].body == translator("zh_CN").t("matrix.choice_expired")
    # And a reaction that is no keycap is ignored (no answer at all)
    await lin.reacts(question.event_id, "👍", expect=0)
    after = await lin.says("林奶奶")
    assert "锦绣家园" in after[0].body
