"""What people and terminals send that no form expects, met at the console's edge.

Invalid Unicode is repaired, impossible places and unreadable lines are
reported and skipped, and a typed number is a button press only while the
latest reply showed buttons. Pure checks of the shared cleaning come first,
then console transcripts (interactive and JSON lines).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
from pathlib import Path

import pytest
from console_transcript import Transcript, texts

from assistant import demo
from assistant.bootstrap import build_for_tests
from assistant.channels.common.numbered import NumberedChoices
from assistant.channels.console.channel import ConsoleChannel
from assistant.conversation.cleaning import (
    bare_number,
    clean_incoming,
    clean_location,
    clean_text,
)
from assistant.conversation.vocabulary import Choice, Incoming, Kind, Reply, make_address
from assistant.i18n import catalog
from assistant.services import people
from handlers import build_engine

ERRORS = {catalog("zh_CN")["core.error"], catalog("en")["core.error"]}
EXPIRED = {catalog("zh_CN")["core.button_expired"], catalog("en")["core.button_expired"]}

# -- the shared cleaning (pure) --------------------------------------------------------------


def test_lone_surrogates_become_replacement_characters_and_pairs_join() -> None:
    assert clean_text("林\ud800奶奶") == "林\ufffd奶奶"
    assert clean_text("\udfff") == "\ufffd"
    assert clean_text("\ud83d\ude00") == "😀"  # a pair sent as two JSON escapes
    assert clean_text("梅阿姨 302") == "梅阿姨 302"
    for text in ("\ud800" * 50, "a\udc80b"):
        clean_text(text).encode("utf-8")  # always encodable


def test_every_text_field_of_an_event_is_cleaned() -> None:
    dirty = Incoming(
        sender=make_address("console", "lin\ud800"),
        kind=Kind.CONTACT,
        text="\ud800",
        args="\udfff",
        press="x\ud800",
        contact_phone="138\ud800",
        display_name="林\ud83d",
        language_hint="zh\udc00",
    )
    clean = clean_incoming(dirty)
    for value in (clean.sender, clean.text, clean.args, clean.press, clean.contact_phone):
        value.encode("utf-8")
    assert clean.display_name == "林\ufffd" and clean.kind is Kind.CONTACT
    tidy = Incoming(sender=make_address("console", "lin"), kind=Kind.TEXT, text="你好")
    assert clean_incoming(tidy) is tidy


@pytest.mark.parametrize(
    "lat, lon",
    [
        (10**400, 118.0),
        (24.5, -(10**400)),
        (float("nan"), 118.0),
        (24.5, float("inf")),
        (90.5, 0.0),
        (0.0, 180.01),
        (True, 118.0),
        ("24.5", 118.0),
        (None, 118.0),
    ],
)
def test_impossible_places_are_refused(lat: object, lon: object) -> None:
    assert clean_location(lat, lon) is None


def test_possible_places_are_kept_as_floats() -> None:
    assert clean_location(24, 118) == (24.0, 118.0)
    assert clean_location(-90, 180.0) == (-90.0, 180.0)


def test_a_bare_number_is_short_digits_only() -> None:
    assert bare_number("3") == 3 and bare_number(" 12 ") == 12
    assert bare_number("８") == 8  # full-width, as Chinese keyboards type it
    for text in ("8小时", "3.5", "-1", "²", "", "13800000011", "9" * 5000):
        assert bare_number(text) is None, text


def test_numbered_choices_follow_only_the_latest_reply() -> None:
    memory = NumberedChoices()
    sender = make_address("console", "lin")
    memory.shown("lin", Reply("几栋？", choices=((Choice("1栋", "b1"), Choice("2栋", "b2")),)))
    assert memory.typed(sender, "lin", "2").press == "b2"
    assert memory.typed(sender, "lin", "2栋").press == "b2"
    out_of_range = memory.typed(sender, "lin", "302")
    assert out_of_range.kind is Kind.TEXT and out_of_range.numbered_choices == 2
    # When the next reply has no buttons, numbers and labels are text again
    memory.shown("lin", Reply("门牌号是多少？"))
    typed = memory.typed(sender, "lin", "2")
    assert typed.kind is Kind.TEXT and typed.text == "2" and typed.numbered_choices == 0
    # An explicit press still names the latest buttons shown
    assert memory.pressed("lin", "1") == "b1"
    assert memory.pressed("lin", "7").startswith("?")


# -- the interactive console ------------------------------------------------------------------


class Terminal:
    """An interactive console (numbered buttons, typed lines) over in-memory twins."""

    def __init__(self) -> None:
        self.app = build_for_tests()
        demo.load(self.app.store, "2026-06-01T00:00:00+00:00")
        self.out = io.StringIO()
        self.channel = ConsoleChannel(build_engine(self.app).handle, out=self.out)
        self.app.delivery = self.channel

    async def type(self, line: str | bytes) -> str:
        """Type one line; return what the terminal shows after it."""
        start = self.out.tell()
        await self.channel.feed(line)
        self.out.seek(start)
        shown = self.out.read()
        self.out.seek(0, io.SEEK_END)
        return shown

    def number_of(self, user: str, value: str) -> str:
        """The number to type for the button whose value starts with ``value``."""
        for number, (_, pressed) in enumerate(self.channel.buttons(user), start=1):
            if pressed.startswith(value):
                return str(number)
        raise LookupError(f"no button {value!r} for {user}: {self.channel.buttons(user)}")


def shows_no_failure(shown: str) -> None:
    assert not any(text in shown for text in ERRORS | EXPIRED), shown


async def test_a_typed_door_number_and_phone_number_are_answers_not_presses() -> None:
    term = Terminal()
    await term.type("mei> /start")
    await term.type("mei> 1")  # the first button: 中文
    await term.type("mei> 梅阿姨")
    for label in ("锦绣家园", "1栋", "2单元"):
        await term.type(f"mei> {label}")
    # When she types the door number the prompt gives as its example
    asked_phone = await term.type("mei> 302")
    # Then it is her door number, and the phone question follows (with a Skip button)
    shows_no_failure(asked_phone)
    assert "电话" in asked_phone
    privacy = await term.type("mei> 13800000011")
    shows_no_failure(privacy)
    done = await term.type("mei> 同意")
    assert "登记好了" in done
    with term.app.store.snapshot() as tx:
        mei = people.person_at(tx, "console:mei")
    assert mei is not None and mei["household"]["room"] == "302"
    assert mei["phone"] == "13800000011"


async def test_a_number_outside_the_buttons_asks_for_one_of_them() -> None:
    term = Terminal()
    await term.type("mei> /start")
    await term.type("mei> 1")
    await term.type("mei> 梅阿姨")
    shown = await term.type("mei> 锦绣家园")
    count = len(term.channel.buttons("mei"))
    assert f"{count})" in shown
    # When she types a number that is none of the buttons
    refused = await term.type("mei> 99")
    # Then she is asked for one of them, in her language, and the question stays
    assert catalog("zh_CN")["core.choose_number"].format(last=count) in refused
    shows_no_failure(refused)
    assert len(term.channel.buttons("mei")) == count


@pytest.mark.parametrize("typed", ["８", "8小时", "每周8小时", "8 hours"])
async def test_weekly_hours_typed_as_people_write_them_are_hours(typed: str) -> None:
    term = Terminal()
    await term.type("lin> /volunteer")
    await term.type("lin> " + term.number_of("lin", "s:"))  # one skill
    await term.type("lin> " + term.number_of("lin", "done"))
    await term.type("lin> " + term.number_of("lin", "none"))  # no team
    hours = await term.type("lin> " + term.number_of("lin", "g:"))
    assert "小时" in hours
    # When she types 8 as people do: full-width, with the unit (there is no "8 hours" button)
    submitted = await term.type("lin> " + typed)
    # Then 8 hours are her answer
    shows_no_failure(submitted)
    assert "申请交上去了" in submitted
    with term.app.store.snapshot() as tx:
        lin = people.person_at(tx, "console:lin")
    assert lin is not None and lin["volunteer"]["hours_per_week"] == 8


async def test_invalid_unicode_typed_in_a_name_is_repaired_before_anything_sees_it() -> None:
    term = Terminal()
    await term.type("/as mei\ud800")  # not a usable name: she stays who she was
    await term.type("mei> /start")
    await term.type("mei> 1")
    shown = await term.type("mei> 梅\ud800阿姨")
    shows_no_failure(shown)
    shown.encode("utf-8")


async def test_undecodable_bytes_are_reported_and_the_next_line_is_answered() -> None:
    term = Terminal()
    reported = await term.type(b"mei> \xff\xfe\xc3(\n")
    assert "not UTF-8" in reported
    answered = await term.type("mei> 你好".encode())
    assert "欢迎" in answered


async def test_the_input_loop_survives_bad_bytes_and_ends_at_end_of_input() -> None:
    term = Terminal()
    lines = io.BytesIO(b"mei> \xff\n\xc3\x28\nmei> \xe4\xbd\xa0\xe5\xa5\xbd\n")
    await asyncio.wait_for(term.channel.run(lines), 30)
    shown = term.out.getvalue()
    assert shown.count("not UTF-8") == 2
    assert "欢迎" in shown  # the good line after the bad ones was answered


async def test_a_typed_place_out_of_range_is_text_not_a_location() -> None:
    term = Terminal()
    await term.type("mei> /start")
    shown = await term.type("mei> 1" + "0" * 400 + ".5,118.0")
    shows_no_failure(shown)


# -- the JSON-lines console -------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        '{"as": "mei", "location": [1%s, 118.0]}' % ("0" * 400),
        '{"as": "mei", "location": [24.5, -1%s]}' % ("0" * 400),
        '{"as": "mei", "location": [NaN, 118.0]}',
        '{"as": "mei", "location": [24.5, Infinity]}',
        '{"as": "mei", "location": [91, 118]}',
        '{"as": "mei", "location": [24.5, 181]}',
        '{"as": "mei", "location": [true, 118]}',
        '{"as": "mei", "location": ["24.5", "118"]}',
        '{"as": "mei", "location": [24.5]}',
        '{"as": "mei", "location": 24.5}',
    ],
)
async def test_an_impossible_location_line_is_reported_and_the_console_goes_on(line: str) -> None:
    t = Transcript()
    await t.say("mei", "/start")
    start = t.out.tell()
    await t.channel.feed(line)
    t.out.seek(start)
    reported = [json.loads(text) for text in t.out.read().splitlines()]
    t.out.seek(0, io.SEEK_END)
    assert reported and "location must be" in reported[0]["error"]
    assert texts(await t.say("mei", "/help"))


@pytest.mark.parametrize(
    "line",
    [
        '{"as": "mei", "text": "\\ud800"}',
        '{"as": "mei", "text": "\\u6797\\udfff\\u5976\\u5976"}',
        '{"as": "mei\\ud800", "text": "hi"}',
        '{"as": "mei", "press": "\\ud800"}',
        '{"as": "mei", "press": "9%s"}' % ("9" * 5000),
        '{"as": "mei", "press": %s}' % ("9" * 400),
        '{"as": "mei", "text": %s}' % ("9" * 400),
        '{"as": "mei", "text": "\\u0000"}',
    ],
)
async def test_json_lines_with_invalid_unicode_or_huge_numbers_are_answered_kindly(
    line: str,
) -> None:
    t = Transcript()
    await t.say("mei", "/start")
    start = t.out.tell()
    await t.channel.feed(line)
    t.out.seek(start)
    produced = [json.loads(text) for text in t.out.read().splitlines()]
    t.out.seek(0, io.SEEK_END)
    assert produced  # an answer or an error line, never silence
    assert not any(p.get("text") in ERRORS for p in produced)
    json.dumps(produced, ensure_ascii=False).encode("utf-8")


async def test_a_name_with_a_lone_surrogate_is_stored_repaired() -> None:
    t = Transcript()
    await t.say("mei", "/start")
    await t.press("mei", "✓ 中文")
    await t.channel.feed('{"as": "mei", "text": "\\u6885\\ud800\\u963f\\u59e8"}')
    with t.app.store.snapshot() as tx:
        state = tx.get("conversations", "console:mei") or {}
    json.dumps(state, ensure_ascii=False).encode("utf-8")
    assert "梅\ufffd阿姨" in json.dumps(state, ensure_ascii=False)


def test_a_log_file_that_is_a_device_or_in_a_shared_folder_changes_no_mode(tmp_path: Path) -> None:
    from assistant.logs import private_file

    # Given a shared folder that exists already, and a device as the log file
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    devnull = Path(os.devnull)
    before = devnull.stat().st_mode
    # When both are used for logs
    private_file(shared / "assistant.log")
    private_file(devnull)
    # Then only the new file is private; the folder and the device keep their modes
    assert (shared / "assistant.log").stat().st_mode & 0o777 == 0o600
    assert shared.stat().st_mode & 0o777 == 0o755
    assert devnull.stat().st_mode == before
