"""Onboarding through the real Telegram stack: PTB Application ↔ HTTP ↔ fake Bot API."""

from __future__ import annotations

import pytest
from people_sim import Person
from tg_demo import Running

from assistant.i18n import translator
from assistant.services import people


@pytest.mark.parametrize(
    ("language", "app_language", "pick"),
    [("zh_CN", "zh-hans", "✓ 中文"), ("en", "en-GB", "✓ English")],
)
async def test_a_newcomer_registers_in_their_language(
    running: Running, language: str, app_language: str, pick: str
) -> None:
    # Given a newcomer whose Telegram app uses some language
    fake, tr = running.fake, translator(language)
    person = Person(fake, 101, "Lin", app_language)

    # When they open the bot, they are greeted and asked for their language
    greeting = await person.says("/start", expect=1)
    assert tr.t("onboard.ask_language") in greeting[-1].text or greeting[-1].markup
    assert greeting[-1].params["parse_mode"] == "HTML"

    # And they walk through every question with buttons and a few words
    asked_name = await person.presses(pick)
    assert asked_name[-1].text == tr.t("onboard.ask_name").replace("<", "&lt;")
    await person.says("林<奶奶>")
    await person.presses("锦绣家园")
    await person.presses(tr.t("onboard.building_label", building="1"))
    await person.presses(tr.t("onboard.unit_label", unit="1"))
    asked_phone = await person.says("302", expect=2)
    # (the phone question: a "skip" button, and Telegram's share-my-number keyboard)
    assert asked_phone[0].markup is not None and "inline_keyboard" in asked_phone[0].markup
    assert asked_phone[1].markup is not None
    assert asked_phone[1].markup["keyboard"][0][0]["request_contact"] is True
    if language == "zh_CN":
        await person.shares_contact("+86 138 0000 0009")
    else:
        await person.presses(tr.t("onboard.skip"))
    done = await person.presses(tr.t("onboard.accept"), expect=2)

    # Then they are registered, in their language, at their Telegram address
    assert "林&lt;奶奶&gt;" in done[0].text
    with running.app.store.snapshot() as tx:
        registered = people.person_at(tx, "telegram:101")
    assert registered is not None
    assert registered["language"] == language
    assert registered["household"]["room"] == "302"
    assert registered["phone"] == ("+8613800000009" if language == "zh_CN" else "")
    # And every press was answered, and every used keyboard closed with the choice shown
    assert len(fake.answers) == (5 if language == "zh_CN" else 6)
    closed = [m for m in fake.chat_messages(101) if tr.t("tg.chosen", label=pick) in m["text"]]
    assert closed and "reply_markup" not in closed[0]


async def test_the_bot_publishes_its_commands_in_both_languages(running: Running) -> None:
    # Given the channel has started
    commands = running.fake.commands
    # Then the command list exists for Chinese, English and the default
    assert set(commands) == {"zh", "en", ""}
    names = [c["command"] for c in commands["en"]]
    assert names[:7] == ["start", "menu", "help", "cancel", "me", "family", "language"]
    assert {"care", "mine", "volunteer", "duty", "tasks", "book"} <= set(names)
    assert commands["zh"][0]["description"] == translator("zh_CN").t("tg.cmd_start")
