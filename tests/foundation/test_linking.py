"""One person on two networks: /link, messages to the address used last, /me, /unlink, locks, /forget.

In-memory twins with a FakeClock: 林奶奶 of the demo community (``console:lin``)
links a Telegram address; the engine is driven as each channel would drive it.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
import redis

from assistant import demo
from assistant.bootstrap import App, build_for_tests
from assistant.channels.matrix import MatrixDelivery
from assistant.channels.telegram import TelegramDelivery
from assistant.clock import FakeClock, to_iso
from assistant.config import defaults
from assistant.conversation.vocabulary import Address, Incoming, Kind, Outbound, Reply
from assistant.delivery import MemoryDelivery, RoutedDelivery
from assistant.i18n import translator
from assistant.jobs import outbox
from assistant.jobs.firing import bound
from assistant.services import people
from assistant.services.people import linking
from assistant.store.memory import MemoryStore
from handlers import build_engine

LIN = "console:lin"
TG = "telegram:5550123"
ZH = translator("zh_CN")


class ForgettingDelivery(MemoryDelivery):
    """Keeps messages, and which addresses' chat data it was asked to drop."""

    def __init__(self) -> None:
        super().__init__()
        self.forgotten: list[str] = []

    def forget_address(self, address: str) -> None:
        self.forgotten.append(address)


class World:
    """The demo community, its engine, a fake clock, and jobs run when asked."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.delivery = ForgettingDelivery()
        self.app: App = build_for_tests(
            store=MemoryStore(), clock=self.clock, delivery=self.delivery
        )
        demo.load(self.app.store, to_iso(self.clock.now()))
        self.engine = build_engine(self.app)

    async def say(self, who: str, text: str) -> list[Outbound]:
        return await self.engine.handle(Incoming.from_text(Address(who), text))

    async def press(self, who: str, value: str) -> list[Outbound]:
        return await self.engine.handle(Incoming(Address(who), Kind.PRESS, press=value))

    def run_jobs(self) -> list[Outbound]:
        self.app.queue.run_all(bound(self.app))  # type: ignore[attr-defined]
        return self.delivery.take()

    async def code_for(self, who: str) -> str:
        said = text(await self.say(who, "/link"))
        found = re.search(r"\b(\d{6})\b", said)
        assert found, said
        return found.group(1)

    async def link(self, first: str = LIN, second: str = TG) -> None:
        code = await self.code_for(first)
        said = text(await self.say(second, f"/link {code}"))
        assert "关联好了" in said, said

    def person(self, address: str) -> dict[str, Any] | None:
        with self.app.store.snapshot() as tx:
            return people.person_at(tx, address)

    def post_to_lin(self, words: str, key: str = "") -> None:
        """A worker's message to 林奶奶, addressed as services address her: her first address."""
        with self.app.unit() as tx:
            outbox.post(tx, Outbound(Address(LIN), Reply(words, key=key)), self.clock.now())


def text(outs: list[Outbound]) -> str:
    return "\n".join(out.reply.text for out in outs)


def values(outs: list[Outbound], prefix: str) -> list[tuple[str, str]]:
    return [
        (choice.label, choice.value)
        for out in outs
        for row in out.reply.choices
        for choice in row
        if choice.value.startswith(prefix)
    ]


async def test_a_code_typed_on_telegram_links_it_to_the_same_person() -> None:
    # Given 林奶奶 on the console asks for a code
    w = World()
    code = await w.code_for(LIN)
    # When a new Telegram address sends /link, is asked for it, and types it alone
    asked = text(await w.say(TG, "/link"))
    assert "关联码" in asked
    said = text(await w.say(TG, code))
    # Then the Telegram address is 林奶奶, with her household and roles, not a new person
    assert "关联好了" in said
    lin, on_telegram = w.person(LIN), w.person(TG)
    assert lin is not None and on_telegram is not None
    assert on_telegram["id"] == lin["id"] and on_telegram["household"] == lin["household"]
    assert sorted(lin["addresses"]) == sorted([LIN, TG])
    # And the console is told, there and only there, that a chat was linked
    (notice,) = w.run_jobs()
    assert notice.to == LIN and "Telegram …0123" in notice.reply.text
    # And the code works once
    again = text(await w.say("telegram:999", f"/link {code}"))
    assert "不对" in again


async def test_messages_go_to_the_address_used_last_and_keyed_ones_stay() -> None:
    # Given 林奶奶 linked Telegram (she wrote there last)
    w = World()
    await w.link()
    w.run_jobs()
    # When a worker sends her a message addressed to her console
    w.post_to_lin("明天上午有人来看您")
    # Then it goes to Telegram, where she wrote last
    (sent,) = w.run_jobs()
    assert sent.to == TG
    # When she writes on the console again, the next message goes there
    await w.say(LIN, "/help")
    w.post_to_lin("提醒：明天上午")
    (sent,) = w.run_jobs()
    assert sent.to == LIN
    # And one message the services address to her now goes to one address only
    with w.app.store.snapshot() as tx:
        assert people.reachable_addresses(tx, w.person(LIN) or {}) == [LIN]
    # When she writes on Telegram, a keyed message (it will be edited there) keeps its address
    await w.say(TG, "/help")
    w.post_to_lin("任务邀请", key="offer:of-1")
    (sent,) = w.run_jobs()
    assert sent.to == LIN


async def test_me_shows_both_chats_masked_with_a_button_to_unlink_each() -> None:
    w = World()
    await w.link()
    shown = await w.say(TG, "/me")
    said = text(shown)
    assert "关联的聊天" in said and "Telegram …0123（消息现在发到这里）" in said
    assert "终端 li…" in said
    buttons = values(shown, "a:unlink:")
    assert [label for label, _ in buttons] == ["取消关联 终端 li…", "取消关联 Telegram …0123"]
    assert all(TG not in value and LIN not in value for _, value in buttons)


async def test_unlink_leaves_one_address_and_the_other_unregistered() -> None:
    # Given 林奶奶 linked Telegram
    w = World()
    await w.link()
    w.run_jobs()
    # When she unlinks Telegram from the console (/unlink shows the buttons)
    shown = await w.say(LIN, "/unlink")
    (telegram,) = [value for label, value in values(shown, "a:unlink:") if "Telegram" in label]
    said = text(await w.press(LIN, telegram))
    # Then the console is still hers, and Telegram is unregistered (greeted as a newcomer)
    assert "已经取消关联" in said
    assert w.person(TG) is None and (w.person(LIN) or {})["addresses"] == [LIN]
    assert ZH.t("onboard.ask_language") in text(await w.say(TG, "你好"))
    # And Telegram's chat data is dropped by a job after the commit
    w.run_jobs()
    assert w.delivery.forgotten == [TG]
    # And the same button again is stale, and her last address cannot go
    assert "不在您的资料里" in text(await w.press(LIN, telegram))
    (console,) = values(shown, "a:unlink:")[:1]
    assert "唯一" in text(await w.press(LIN, console[1]))


async def test_unlinking_the_chat_one_writes_from_ends_its_conversation() -> None:
    w = World()
    await w.link()
    shown = await w.say(TG, "/me")
    (telegram,) = [value for label, value in values(shown, "a:unlink:") if "Telegram" in label]
    await w.press(TG, telegram)
    assert w.person(TG) is None
    with w.app.store.snapshot() as tx:
        assert tx.get("conversations", TG) is None


async def test_five_wrong_codes_lock_linking_for_an_hour() -> None:
    # Given a code shown to 林奶奶
    w = World()
    code = await w.code_for(LIN)
    wrong = "111111" if code != "111111" else "222222"
    # When a Telegram address types four wrong codes, it is told how many tries are left
    for left in (4, 3, 2, 1):
        assert f"还可以再试{left}次" in text(await w.say(TG, f"/link {wrong}"))
    # And the fifth locks linking for that address
    assert "关联先停到" in text(await w.say(TG, f"/link {wrong}"))
    # Then even the right code changes nothing now
    assert "关联先停到" in text(await w.say(TG, f"/link {code}"))
    assert w.person(TG) is None
    # And the count is in the store, beside the lock
    with w.app.store.snapshot() as tx:
        assert tx.get(linking.LINK_TRIES, f"a:{TG}")["locked_until"]
    # When an hour has passed, a fresh code links
    w.clock.advance(timedelta(minutes=61))
    await w.link()
    assert (w.person(TG) or {}).get("id") == (w.person(LIN) or {}).get("id")


async def test_wrong_codes_of_a_registered_person_lock_their_own_codes_too() -> None:
    w = World()
    for _ in range(5):
        await w.say(LIN, "/link 000001")
    assert "关联先停到" in text(await w.say(LIN, "/link"))


async def test_an_expired_or_malformed_code_changes_nothing() -> None:
    w = World()
    code = await w.code_for(LIN)
    assert "位数字" in text(await w.say(TG, "/link 12ab"))
    w.clock.advance(timedelta(minutes=11))
    assert "过期" in text(await w.say(TG, f"/link {code}"))
    assert w.person(TG) is None
    with w.app.store.snapshot() as tx:
        assert tx.get(linking.LINK_TRIES, f"a:{TG}") is None  # not counted as a guess


async def test_full_width_digits_and_spaces_are_read() -> None:
    w = World()
    code = await w.code_for(LIN)
    wide = "".join(chr(ord(ch) + 0xFEE0) for ch in code)
    said = text(await w.say(TG, f"/link {wide[:3]} {wide[3:]}"))
    assert "关联好了" in said


async def test_a_chat_registered_as_someone_else_is_not_merged() -> None:
    # Given 王先生 is registered; 林奶奶 shows a code and 王先生 types it
    w = World()
    code = await w.code_for(LIN)
    said = text(await w.say("console:wang", f"/link {code}"))
    # Then nothing is merged: he is told to /forget there first or ask the centre
    assert "/forget" in said and "邻里中心" in said
    assert (w.person("console:wang") or {})["id"] != (w.person(LIN) or {})["id"]
    # And the code still works for a new chat
    assert "关联好了" in text(await w.say(TG, f"/link {code}"))


async def test_forget_forgets_every_linked_address() -> None:
    # Given 林奶奶 on the console and on Telegram
    w = World()
    await w.link()
    w.run_jobs()
    person_id = (w.person(LIN) or {})["id"]
    # When she asks to be forgotten on Telegram
    shown = await w.say(TG, "/forget")
    yes = values(shown, "")[0][1]
    said = text(await w.press(TG, yes))
    assert ZH.t("profile.forgotten") in said
    # Then neither address is anyone any more, and her codes and counts are gone
    assert w.person(LIN) is None and w.person(TG) is None
    with w.app.store.snapshot() as tx:
        assert tx.get(people.PEOPLE, person_id)["forgotten"]
        assert tx.get(people.ADDRESSES, LIN) is None and tx.get(people.ADDRESSES, TG) is None
        assert tx.all(linking.LINK_CODES) == []
    # And both networks are asked to drop what they keep about either address
    w.run_jobs()
    assert sorted(w.delivery.forgotten) == sorted([LIN, TG])


async def test_forget_after_unlink_still_reaches_the_unlinked_address() -> None:
    w = World()
    await w.link()
    shown = await w.say(LIN, "/unlink")
    (telegram,) = [value for label, value in values(shown, "a:unlink:") if "Telegram" in label]
    await w.press(LIN, telegram)
    w.run_jobs()
    with w.app.store.snapshot() as tx:
        assert linking.former_addresses(tx, w.person(LIN) or {}) == {TG}


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("telegram:123456789", "Telegram …6789"),
        ("matrix:@linnainai:example.org", "Matrix @li…:example.org"),
        ("console:lin", "终端 li…"),
    ],
)
def test_masked_handles(address: str, shown: str) -> None:
    assert linking.mask(ZH, address) == shown


# -- what the networks keep in Redis per address ----------------------------------------------


def _keep_for(client: Any, ns: str, who: str, tag: str) -> None:
    """Keys a network keeps for ``who``: a keyed edit and one choice token in its set."""
    client.set(f"{ns}msg:{who}|offer:1", json.dumps({"chat": "c", "msg": "m"}))
    client.set(f"{ns}btn:{tag}#1", json.dumps({"to": who, "value": "v", "set": tag}))
    client.sadd(f"{ns}btnset:{tag}", f"{tag}#1")


def test_matrix_forgets_the_room_latest_message_choices_and_edits_of_one_address(
    redis_url: str,
) -> None:
    # Given what the Matrix channel keeps in Redis for two people
    client = redis.Redis.from_url(redis_url)
    mine, other = "matrix:@lin:example.org", "matrix:@wang:example.org"
    client.hset("mx:dm", mapping={"@lin:example.org": "!a", "@wang:example.org": "!b"})
    for who, tag in ((mine, "lin"), (other, "wang")):
        client.set(f"mx:latest:{who}", json.dumps({"event": "$e", "labels": []}))
        _keep_for(client, "mx:", who, tag)
    settings = defaults().with_values(matrix={"user_id": "@centre:example.org"})
    delivery = MatrixDelivery(settings, redis_url, MemoryStore())
    # When /forget's job drops one of them (through the routed delivery of a worker)
    try:
        RoutedDelivery({"matrix": delivery}).forget_address(mine)
    finally:
        delivery.close()
    # Then nothing of that person is left, and the other's keys are untouched
    keys = sorted(key.decode() for key in client.keys("mx:*"))
    assert keys == [
        "mx:btn:wang#1",
        "mx:btnset:wang",
        "mx:dm",
        f"mx:latest:{other}",
        f"mx:msg:{other}|offer:1",
    ]
    assert client.hkeys("mx:dm") == [b"@wang:example.org"]
    client.close()


def test_telegram_forgets_the_choice_tokens_and_edits_of_one_address(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    _keep_for(client, "tg:", "telegram:1", "one")
    _keep_for(client, "tg:", "telegram:12", "two")  # starts alike: must stay
    TelegramDelivery(defaults(), redis_url, MemoryStore()).forget_address("telegram:1")
    keys = sorted(key.decode() for key in client.keys("tg:*"))
    assert keys == ["tg:btn:two#1", "tg:btnset:two", "tg:msg:telegram:12|offer:1"]
    client.close()
