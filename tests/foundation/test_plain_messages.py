"""Plain messages: English says English words around names, and /help tells everything."""

from __future__ import annotations

import re

from console_transcript import Transcript, texts

from assistant.bootstrap import build_for_tests
from assistant.config import defaults
from assistant.services.people import community

CJK = re.compile(r"[\u4e00-\u9fff]")
NAMES = ("锦绣家园一网格", "锦绣家园", "梅阿姨")
"""Names of places and people: they stay as they are in every language."""


def without_names(text: str) -> str:
    for name in NAMES:
        text = text.replace(name, "")
    return text


async def register_in_english(t: Transcript, user: str, room: str) -> str:
    """Register ``user`` in English; everything the assistant said."""
    said = [await t.say(user, "/start"), await t.press(user, "English")]
    said.append(await t.say(user, "梅阿姨"))
    for label in ("锦绣家园", "Building 1", "Unit 2"):
        said.append(await t.press(user, label))
    said.append(await t.say(user, room))
    said.append(await t.press(user, "Skip"))
    said.append(await t.press(user, "I agree"))
    return "\n".join(texts(s) for s in said)


async def test_an_english_newcomer_reads_no_chinese_words_but_names() -> None:
    # Given the default settings, whose centre name is Chinese
    t = Transcript()
    # When someone registers in English, typing the door number as "808室"
    said = await register_in_english(t, "mei", "808室")
    # Then the privacy notice names the centre in English
    assert "Happiness Neighbourhood Centre keeps your name" in said
    assert not CJK.search(without_names(said.split("Please choose a language")[-1]))
    # And the profile says "room 808", the complex's name unchanged
    profile = texts(await t.say("mei", "/me"))
    assert "锦绣家园, building 1, unit 2, room 808" in profile
    assert not CJK.search(without_names(profile)), profile


async def test_the_english_centre_name_comes_from_settings() -> None:
    settings = defaults().with_values(community={"centre_en": "Riverside Centre"})
    t = Transcript(build_for_tests(settings))
    said = await register_in_english(t, "mei", "808")
    assert "Riverside Centre keeps your name" in said


def test_a_household_reads_the_same_whatever_was_typed_around_its_numbers() -> None:
    typed = {"complex": "山水湾", "building": "６栋", "unit": "1单元", "room": "８０８室"}
    assert community.describe_household(typed, chinese=True) == "山水湾 6栋 1单元 808"
    assert community.describe_household(typed, chinese=False) == (
        "山水湾, building 6, unit 1, room 808"
    )
    plain = {"complex": "水晶城", "building": "A", "unit": "2", "room": ""}
    assert community.describe_household(plain, chinese=False) == "水晶城, building A, unit 2"


async def test_help_lists_forget_in_both_languages() -> None:
    t = Transcript()
    chinese = texts(await t.say("lin", "/help"))
    assert "/forget" in chinese and "/me" in chinese
    await t.say("lin", "/me")
    await t.press("lin", "换语言")
    await t.press("lin", "English")
    await t.press("lin", "Close")
    english = texts(await t.say("lin", "/help"))
    assert "/forget delete my personal data" in english
    assert not CJK.search(english)
