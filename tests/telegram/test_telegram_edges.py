"""What Telegram's JSON can carry that no person typed, the reachability clock, a bounded stop.

Each test runs the real channel (PTB over HTTP) against the fake Bot API.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fake_bot_api import FakeBotApi
from people_sim import Person
from tg_demo import Running, demo_app, engine_for, telegram_settings

from assistant.channels.telegram import TelegramChannel
from assistant.clock import to_iso
from assistant.conversation.vocabulary import Incoming, Kind, Outbound
from assistant.i18n import catalog, translator
from assistant.jobs import timers
from assistant.services import people

ZH = translator("zh_CN")
ERRORS = {catalog("zh_CN")["core.error"], catalog("en")["core.error"]}


def _resident(app: Any, uid: int, reachable: bool = True, name: str = "林奶奶三号") -> None:
    with app.store.transaction() as tx:
        person = people.create_person(
            tx, name=name, address=None, language="zh_CN", now=to_iso(app.clock.now())
        )
        people.link_address(tx, person["id"], f"telegram:{uid}", reachable=reachable)


def _record(channel: TelegramChannel) -> list[Incoming]:
    seen: list[Incoming] = []
    handle = channel.engine.handle

    async def recording(incoming: Incoming) -> list[Outbound]:
        seen.append(incoming)
        return await handle(incoming)

    channel.engine.handle = recording  # type: ignore[method-assign]
    return seen


def _encodable(incoming: Incoming) -> None:
    for value in vars(incoming).values():
        if isinstance(value, str):
            value.encode("utf-8")


async def test_lone_surrogates_in_any_text_field_are_cleaned_at_the_edge(running: Running) -> None:
    # Given a resident whose name, as Telegram sends it, holds a lone surrogate
    fake = running.fake
    _resident(running.app, 311)
    seen = _record(running.channel)
    lin = Person(fake, 311, "林\ud800", "zh-hans")

    # When her text, a command's arguments, a caption and her contact carry them too
    fake.send_text(lin.user, "你好\ud800")
    fake.send_text(lin.user, "/start \udfffx")
    fake.send_photo(lin.user, caption="楼道\ud83d")
    fake.send_contact(lin.user, "138\ud800")
    await fake.wait_until(lambda: len(seen) == 4)

    # Then the engine sees only valid text, and nobody gets the internal-error apology
    for incoming in seen:
        _encodable(incoming)
    assert seen[0].text == "你好\ufffd" and seen[0].display_name == "林\ufffd"
    assert seen[1].args == "\ufffdx"
    assert seen[3].contact_phone == "138\ufffd"
    await fake.wait_until(lambda: len(lin.received()) >= 4)
    assert not any(sent.text in ERRORS for sent in lin.received())


async def test_a_press_with_invalid_unicode_is_answered_as_expired(running: Running) -> None:
    fake = running.fake
    _resident(running.app, 312)
    lin = Person(fake, 312)
    await lin.says("/menu")
    message = fake.last_with_buttons(312)
    answers = len(fake.answers)
    fake.press_data(lin.user, message, "\ud800" * 3)
    await fake.wait_until(lambda: len(fake.answers) > answers)
    assert fake.answers[-1]["text"] == ZH.t("tg.button_expired")


@pytest.mark.parametrize(
    "latitude, longitude",
    [(10**400, 121.55), (29.87, -(10**400)), (float("nan"), 121.55), (95.0, 121.55)],
)
async def test_an_impossible_location_is_something_the_engine_cannot_use(
    running: Running, latitude: float, longitude: float
) -> None:
    # Given a resident whose app sends a location no place has
    fake = running.fake
    _resident(running.app, 313)
    seen = _record(running.channel)
    lin = Person(fake, 313)
    fake.send_location(lin.user, latitude, longitude)
    await fake.wait_until(lambda: len(seen) == 1)
    # Then it reaches the engine as something it cannot use, and is answered kindly
    assert seen[0].kind is Kind.OTHER and seen[0].location is None
    await fake.wait_until(
        lambda: any(ZH.t("core.cannot_use_that") in s.text for s in lin.received())
    )


@pytest.fixture
async def just_booted(fake: FakeBotApi, redis_url: str) -> AsyncIterator[Running]:
    """The channel on a machine just booted: nothing in it may depend on uptime.

    Reachability is recorded by the engine in the same commit as the turn, so
    there is no "last checked" cache whose zero could mean "just checked".
    """
    app = demo_app(telegram_settings(fake))
    channel = TelegramChannel(app, engine_for(app), redis_url)
    await channel.start()
    yield Running(fake, app, channel)
    await channel.stop()


async def test_an_imported_address_becomes_reachable_right_after_boot(
    just_booted: Running,
) -> None:
    # Given an imported resident who never opened the bot, on a machine just booted
    _resident(just_booted.app, 314, reachable=False)
    lin = Person(just_booted.fake, 314)
    # When she writes for the first time
    await lin.says("你好")
    # Then the bot records that it can reach her
    with just_booted.app.store.snapshot() as tx:
        assert tx.get(people.ADDRESSES, "telegram:314")["reachable"] is True


def _outbox_texts(app: Any, uid: int) -> list[str]:
    with app.store.snapshot() as tx:
        pending = [t for t in timers.pending(tx) if t["job"] == "outbox.deliver"]
    return [
        str(payload["text"])
        for timer in pending
        for payload in timer["args"]
        if payload["to"] == f"telegram:{uid}"
    ]


async def test_a_stop_while_the_bot_api_never_answers_hands_unsent_replies_to_the_outbox(
    fake: FakeBotApi, redis_url: str
) -> None:
    # Given the channel running, and a Bot API that accepts sends but never answers them
    app = demo_app(telegram_settings(fake))
    channel = TelegramChannel(app, engine_for(app), redis_url)
    await channel.start()
    fake.stall()
    newcomer = Person(fake, 315, "梅")
    fake.send_text(newcomer.user, "/start")
    await fake.wait_until(lambda: fake.stalls, 30)
    # When the channel is stopped (bounded by its own budget; the bound here is generous)
    await asyncio.wait_for(channel.stop(), 60)
    # Then the replies it could not send wait in the outbox, in full, for the next start
    waiting = _outbox_texts(app, 315)
    assert len(waiting) == 1, waiting  # the welcome with the language question
    assert any("欢迎" in text for text in waiting)
    assert newcomer.received() == []
    json.dumps(waiting, ensure_ascii=False)
