"""A thousand random inputs for users in every state: no crash, always an answer, valid records."""

from __future__ import annotations

import json
import random
import string

from console_transcript import Transcript

from assistant.conversation.vocabulary import Incoming, Kind, make_address
from assistant.i18n import catalog
from assistant.services import people

ERROR_TEXTS = {catalog("zh_CN")["core.error"], catalog("en")["core.error"]}
COMMANDS = [
    "/start",
    "/cancel",
    "/help",
    "/menu",
    "/me",
    "/forget",
    "/family",
    "/language",
    "/nonsense",
    "/start vol-bogus",
    "/",
    "//",
    "/start@SomeBot",
    "/me extra words",
]
PRESS_VALUES = [
    "zh_CN",
    "en",
    "yes",
    "no",
    "none",
    "锦绣家园",
    "1",
    "2",
    "m:profile",
    "m:family",
    "m:nothing",
    "a:proxy:yes:px-nope",
    "a:proxy:maybe",
    "a:lang:en",
    "a:lang:fr",
    "a:unknown:x",
    "a:",
    "m:",
    "close",
    "name",
    "forget",
    "data",
    "?x",
]


def random_text(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return "".join(rng.choice(string.printable) for _ in range(rng.randrange(1, 40)))
    if kind == 1:
        return "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(rng.randrange(1, 20)))
    if kind == 2:
        return "".join(
            rng.choice("😀🙏🏻👨‍👩‍👧‍👦🇨🇳\u200d\u202e\x00") for _ in range(rng.randrange(1, 10))
        )
    if kind == 3:
        return "x" * rng.choice([1, 30, 31, 3999, 4001, 9000])
    if kind == 4:
        return rng.choice(COMMANDS)
    return rng.choice(["302", "A-1", "  ", "\n", "梅阿姨", "Tom", "同意", "English"])


def random_incoming(rng: random.Random, user: str) -> Incoming:
    sender = make_address("console", user)
    roll = rng.random()
    if roll < 0.45:
        return Incoming.from_text(sender, random_text(rng))
    if roll < 0.8:
        return Incoming(sender=sender, kind=Kind.PRESS, press=rng.choice(PRESS_VALUES))
    if roll < 0.88:
        return Incoming(sender=sender, kind=Kind.LOCATION, location=(rng.uniform(-90, 90), 0.0))
    if roll < 0.94:
        return Incoming(sender=sender, kind=Kind.PHOTO, file_ref="photo-1")
    return Incoming(sender=sender, kind=rng.choice([Kind.OTHER, Kind.VOICE, Kind.CONTACT]))


async def put_users_in_every_state(t: Transcript) -> list[str]:
    """Users left at each onboarding and profile question, plus registered idle users."""
    users = ["lin", "wang", "zhang", "grid", "chen"]
    steps = [
        ("/start", None),
        (None, "✓ 中文"),
        ("梅", None),
        (None, "锦绣家园"),
        (None, "1栋"),
        (None, "1单元"),
        ("502", None),
        (None, "跳过"),
    ]
    for depth in range(len(steps) + 1):
        user = f"new{depth}"
        users.append(user)
        for text, label in steps[:depth]:
            if text is not None:
                await t.say(user, text)
            else:
                await t.press(user, label or "")
    for user, command in (("lin", "/me"), ("wang", "/family"), ("zhang", "/forget")):
        await t.say(user, command)
    return users


async def test_random_inputs_never_crash_and_always_answer() -> None:
    rng = random.Random(20261129)
    t = Transcript()
    users = await put_users_in_every_state(t)
    silent = 0
    for _ in range(1000):
        user = rng.choice(users)
        replies = await t.engine.handle(random_incoming(rng, user))
        # Every input gets a reply (deliberate silence is only for groups)
        if not replies:
            silent += 1
        for message in replies:
            assert message.reply.text.strip(), "an empty message"
            assert message.reply.text not in ERROR_TEXTS, "an internal error reached a user"
            assert len(message.reply.text) <= 4096
    assert silent == 0
    check_records(t)


def check_records(t: Transcript) -> None:
    states = set(t.engine.states)
    with t.app.store.snapshot() as tx:
        for conversation in tx.all("conversations"):
            json.dumps(conversation)
            assert conversation.get("state") in states | {None}, conversation
        for person in tx.all(people.PEOPLE):
            json.dumps(person)
            assert isinstance(person.get("name"), str) and person["name"].strip()
            assert len(person["name"]) <= 30
            for address in person.get("addresses", []):
                link = tx.get(people.ADDRESSES, address)
                assert link is not None and link["person_id"] == person["id"]
        for link in tx.all(people.ADDRESSES):
            owner = tx.get(people.PEOPLE, link["person_id"])
            assert owner is not None and link["id"] in owner["addresses"]


async def test_group_chats_get_silence_or_a_short_public_answer() -> None:
    t = Transcript()
    rng = random.Random(7)
    group = make_address("console", "group-1")
    for _ in range(100):
        incoming = random_incoming(rng, "lin")
        replies = await t.engine.handle(
            Incoming(**{**incoming.__dict__, "chat": group, "is_group": True})
        )
        for message in replies:
            assert message.to == group
            assert "302" not in message.reply.text and "林奶奶" not in message.reply.text
