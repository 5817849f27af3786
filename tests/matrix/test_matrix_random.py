"""Random input through the Matrix channel edge: a seeded burst of what a real client can send.

A resident in an encrypted direct room sends a seeded mix of sensible answers (numbers of the
list shown, labels, commands) and things no form expects: numbers out of range, other digits,
long and odd texts, broken ``geo:`` URIs, images that cannot be fetched, files, audio, emotes,
notices, stickers, reactions on old and foreign messages and edits of earlier messages. The
bot never shows an internal error, answers every message that asks for an answer, and still
works afterwards. The same walk on the console is ``tests/foundation/test_random_input.py``.
"""

from __future__ import annotations

import random
from typing import Any

from matrix_world import Running

from assistant.i18n import catalog

SEED = 20261201
STEPS = 90
ERRORS = {catalog("zh_CN")["core.error"], catalog("en")["core.error"]}
SENSIBLE = ["/care", "!mine", "/me", "/report", "/shop", "/activities", "/help", "/menu", "/link"]
ODD_TEXTS = [
    "٣",
    "１２",
    "²",
    "0",
    "-1",
    "999999999999",
    "🙂" * 300,
    "很" * 3000,
    "\u202e反过来的字",
    "a\u0007b\u001bc",
    "   ",
    "/",
    "!",
    "/nosuchcommand",
    "!care@someone",
    "1.5",
    "<b>粗体</b>",
]
BAD_GEO = ["geo:999,999", "geo:abc", "geo:", "geo:25.06,118.18;u=10", "geo:NaN,NaN", "nogeo"]


def _content(rng: random.Random, resident: Any) -> tuple[str, dict[str, Any], bool]:
    """(event type, content, whether the bot must answer it)."""
    roll = rng.random()
    latest = resident.heard[-1].body if resident.heard else ""
    numbers = [line.split(".")[0] for line in latest.splitlines() if line[:1].isdigit()]
    if roll < 0.25 and numbers:
        return "m.room.message", {"msgtype": "m.text", "body": rng.choice(numbers)}, True
    if roll < 0.40:
        return "m.room.message", {"msgtype": "m.text", "body": rng.choice(SENSIBLE)}, True
    if roll < 0.60:
        return "m.room.message", {"msgtype": "m.text", "body": rng.choice(ODD_TEXTS)}, True
    if roll < 0.68:
        uri = rng.choice(BAD_GEO)
        return "m.room.message", {"msgtype": "m.location", "body": "here", "geo_uri": uri}, True
    if roll < 0.74:
        image = {"msgtype": "m.image", "body": "x.jpg", "url": "mxc://nowhere.test/missing"}
        return "m.room.message", image, True
    if roll < 0.80:
        kind = rng.choice(["m.file", "m.audio", "m.video", "m.emote"])
        return "m.room.message", {"msgtype": kind, "body": "something"}, True
    if roll < 0.84:
        return "m.room.message", {"msgtype": "m.notice", "body": "a bot's notice"}, False
    if roll < 0.88:
        return "m.sticker", {"body": "sticker", "url": "mxc://nowhere.test/s", "info": {}}, False
    if roll < 0.95 and resident.heard:
        old = rng.choice(resident.heard).event_id
        key = rng.choice(["1️⃣", "2️⃣", "9️⃣", "👍", "🔟"])
        relation = {"rel_type": "m.annotation", "event_id": old, "key": key}
        return "m.reaction", {"m.relates_to": relation}, False
    foreign = {"rel_type": "m.annotation", "event_id": "$not-a-real-event", "key": "1️⃣"}
    return "m.reaction", {"m.relates_to": foreign}, False


async def test_random_matrix_events_never_crash_and_are_always_answered(
    running: Running, resident_factory: Any
) -> None:
    rng = random.Random(SEED)
    lin = await resident_factory()
    await lin.open_direct_room(running.bot.account.user_id)
    await lin.says("你好")
    for step in range(STEPS):
        kind, content, answered = _content(rng, lin)
        before = len(lin.heard)
        sent = await lin.client.room_send(
            lin.room_id, kind, content, ignore_unverified_devices=True
        )
        assert hasattr(sent, "event_id"), (step, content, sent)
        if answered:
            await lin.until(
                lambda seen=before: len(lin.heard) > seen, f"an answer to step {step}: {content}"
            )
    # Then no internal error ever reached her, and the bot still answers
    assert not [s.body for s in lin.heard if s.body in ERRORS]
    menu = await lin.says("/menu")
    assert menu and menu[0].body and menu[0].body not in ERRORS
