"""Buttons carry no trust: stale, foreign and forged presses change nothing."""

from __future__ import annotations

from people_sim import Person
from tg_demo import Running

from assistant.i18n import translator

ZH = translator("zh_CN")


def _conversation(running: Running, address: str) -> dict[str, object]:
    with running.app.store.snapshot() as tx:
        return tx.get("conversations", address) or {}


async def test_a_used_keyboard_cannot_be_pressed_again(running: Running) -> None:
    # Given a newcomer who chose Chinese, so the language keyboard was used
    fake = running.fake
    lin = Person(fake, 201)
    await lin.says("/start", expect=1)
    language_question = fake.last_with_buttons(201)
    await lin.presses("✓ 中文")
    state_before = _conversation(running, "telegram:201")
    sent_before = len(lin.received())

    # When they press the old button again (an old copy of the message still shows it)
    fake.press(lin.user, language_question, "English")
    answer = await fake.wait_until(lambda: len(fake.answers) == 2 and fake.answers[-1])

    # Then the press is answered politely as expired, and nothing changes
    assert answer["text"] == ZH.t("tg.button_expired")
    assert answer["show_alert"] == "true"
    assert _conversation(running, "telegram:201") == state_before
    assert len(lin.received()) == sent_before


async def test_a_forged_button_changes_nothing(running: Running) -> None:
    # Given a newcomer looking at the language question
    fake = running.fake
    lin = Person(fake, 202)
    await lin.says("/start", expect=1)
    question = fake.last_with_buttons(202)
    state_before = _conversation(running, "telegram:202")

    # When a modified client sends made-up callback data, even a real action value
    for data in ("a:lang:en", "x" * 64, ""):
        fake.press_data(lin.user, question, data)
    await fake.wait_until(lambda: len(fake.answers) == 3)

    # Then every press is answered as expired and the conversation is untouched
    assert {a["text"] for a in fake.answers} == {ZH.t("tg.button_expired")}
    assert _conversation(running, "telegram:202") == state_before
    assert fake.last_with_buttons(202)["reply_markup"] == question["reply_markup"]


async def test_someone_elses_button_is_refused_and_stays_usable(running: Running) -> None:
    # Given Lin looking at her language question
    fake = running.fake
    lin = Person(fake, 203)
    mallory = Person(fake, 204, "M", "en")
    await lin.says("/start", expect=1)
    question = fake.last_with_buttons(203)
    english = question["reply_markup"]["inline_keyboard"][0][1]["callback_data"]

    # When another user replays her button's data from their own chat
    fake.press_data(mallory.user, question, english)
    answer = await fake.wait_until(lambda: fake.answers and fake.answers[-1])

    # Then it is refused (in the presser's language) and Lin's button still works
    assert answer["text"] == translator("en").t("tg.button_expired")
    await lin.presses("English")
    assert lin.received()[-1].text == translator("en").t("onboard.ask_name")
