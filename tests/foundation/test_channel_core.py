"""The channel core: one table of channels, and what every channel shares (real Redis)."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis.asyncio as aioredis

from assistant import cli
from assistant.bootstrap import build_for_tests
from assistant.channels import table
from assistant.channels.common.choices import ChoiceMemory, Press, numbered
from assistant.channels.common.edits import Remembered, SentMessages
from assistant.channels.common.limits import Rates, SharedLimits
from assistant.channels.common.media import MediaLibrary, UnknownMedia, is_media_ref, source_for
from assistant.channels.common.once import Mark, SendOnce
from assistant.clock import to_iso
from assistant.config import defaults
from assistant.conversation.vocabulary import Outbound, Reply, make_address
from assistant.delivery import MemoryDelivery
from assistant.services import people
from assistant.services.people import reachability
from assistant.store.memory import MemoryStore
from handlers import build_engine

TELEGRAM = {"token": "4242:TEST", "base_url": "http://127.0.0.1:9/bot"}


# -- the table ------------------------------------------------------------------------------------


def test_a_configured_network_without_a_channel_is_a_start_up_error_naming_it() -> None:
    # Given a network whose setting is set, in a table that has no channel for it
    settings = defaults().with_values(matrix={"homeserver": "https://matrix.example.org"})
    unbuilt = (table.ChannelSpec("matrix", ("matrix", "homeserver"), serve=None, delivery=None),)
    # When the channels are chosen
    with pytest.raises(table.NoChannel) as refused:
        table.configured(settings, unbuilt)
    # Then start-up stops, naming the setting to change
    assert "[matrix] homeserver" in str(refused.value)
    assert "ASSISTANT_MATRIX__HOMESERVER" in str(refused.value)


def test_assistant_up_refuses_to_start_with_a_matrix_homeserver_and_no_bot_account(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given `assistant up` with a Matrix homeserver set but no bot account (and no terminal)
    monkeypatch.setenv("ASSISTANT_MATRIX__HOMESERVER", "https://matrix.example.org")
    # When it starts
    code = cli.main(["up", "--data", str(tmp_path / "data")])
    # Then it stops at once with an error naming the setting, instead of serving the console
    assert code != 0
    assert "[matrix] user_id" in capsys.readouterr().err


def test_the_table_serves_the_console_only_when_no_network_is_configured(redis_url: str) -> None:
    # Given an app without and with a Telegram token
    plain = build_for_tests(defaults())
    with_bot = build_for_tests(defaults().with_values(telegram=TELEGRAM))
    engine = build_engine(plain)
    # Then no network means the console; a token means Telegram alone, or both when asked
    alone = table.channels(table.Serving(plain, engine, redis_url))
    assert [channel.name for channel in alone] == ["console"]
    assert not alone[0].capabilities.buttons
    served = table.channels(table.Serving(with_bot, engine, redis_url))
    assert [channel.name for channel in served] == ["telegram"]
    assert served[0].capabilities.buttons and served[0].capabilities.media
    both = table.channels(table.Serving(with_bot, engine, redis_url), console=True)
    assert [channel.name for channel in both] == ["console", "telegram"]
    assert table.serves_console(plain.settings) and not table.serves_console(with_bot.settings)


def test_every_process_reaches_console_users_and_each_configured_network(redis_url: str) -> None:
    store = MemoryStore()
    plain = table.delivery(defaults(), redis_url, store)
    assert set(plain.routes) == {"console"}
    with_bot = table.delivery(defaults().with_values(telegram=TELEGRAM), redis_url, store)
    assert set(with_bot.routes) == {"console", "telegram"}


# -- choice memory ------------------------------------------------------------------------------


async def test_numbered_choices_on_a_message_are_remembered_and_used_once(redis_url: str) -> None:
    # Given a network without buttons that showed three numbered choices on message $ev1
    client = aioredis.Redis.from_url(redis_url)
    memory = ChoiceMemory(client, "mx:")
    try:
        await memory.issue("matrix:@lin:x.org", ["a:yes", "a:no", "a:later"], "zh_CN", "$ev1")
        # When someone else types "3" in reply to it
        foreign = await memory.consume(numbered("$ev1", 3), "matrix:@mallory:x.org")
        # Then nothing is chosen, and the choice stays hers
        assert foreign.kind is Press.FOREIGN
        # When she answers 3
        chosen = await memory.consume(numbered("$ev1", 3), "matrix:@lin:x.org")
        # Then choice 3 on that message means its value, in her language
        assert (chosen.kind, chosen.value, chosen.language) == (Press.VALID, "a:later", "zh_CN")
        # And the message's other choices are used up with it
        again = await memory.consume(numbered("$ev1", 1), "matrix:@lin:x.org")
        assert again.kind is Press.UNKNOWN
    finally:
        await client.aclose()


async def test_random_button_tokens_and_keyed_edits(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        memory = ChoiceMemory(client, "tg:")
        set_id, tokens = await memory.issue("telegram:5", ["a:1", "a:2"])
        assert len(set(tokens)) == 2 and all(len(token) == 16 for token in tokens)
        sent = SentMessages(client, "tg:")
        await sent.remember("telegram:5", "offer:t1", Remembered("5", "77", set_id))
        assert await sent.find("telegram:5", "offer:t1") == Remembered("5", "77", set_id)
        # An edit forgets the old keyboard
        await memory.forget(set_id)
        assert (await memory.consume(tokens[0], "telegram:5")).kind is Press.UNKNOWN
    finally:
        await client.aclose()


# -- limits and send-once marks -----------------------------------------------------------------


async def test_reserving_slots_books_the_burst_then_spaces_the_rest(redis_url: str) -> None:
    # Given 10 messages/s with a burst of 3 (the chat's limit out of the way)
    client = aioredis.Redis.from_url(redis_url)
    limits = SharedLimits(client, Rates(10, 1000, 20, 3, 100, 3), "tg:rate:7")
    try:
        # When five messages are booked at once
        waits = await limits.reserve(1, 5)
        # Then three go now and the others one interval apart
        assert waits[:3] == [0, 0, 0]
        assert 0.05 < waits[3] <= 0.1 and 0.15 < waits[4] <= 0.2
        # And a slot asked for afterwards waits behind them
        (after,) = await limits.reserve(2, 1)
        assert 0.25 < after <= 0.3
    finally:
        await client.aclose()


async def test_a_message_is_claimed_once_and_its_outcome_kept(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    once = SendOnce(client, "tg:")
    message = Outbound(make_address("telegram", 9), Reply("提醒"))
    try:
        first = await once.claim(message)
        assert first.mark is Mark.CLAIMED
        busy = await once.claim(message)
        assert busy.mark is Mark.BUSY and 0 < busy.wait <= 60
        await once.done(first, "sent")
        assert (await once.claim(message)).mark is Mark.DONE
        # A released claim can be taken again
        other = Outbound(make_address("telegram", 9), Reply("另一个提醒"))
        claim = await once.claim(other)
        await once.release(claim)
        assert (await once.claim(other)).mark is Mark.CLAIMED
    finally:
        await client.aclose()


# -- media ----------------------------------------------------------------------------------------


async def test_a_stored_photo_is_a_neutral_reference_any_network_resolves() -> None:
    # Given a photo received on Telegram
    app = build_for_tests()
    media = MediaLibrary(app.store)
    ref = media.keep("telegram", "AgAD-1280", "photo", "telegram:5", app.clock.now())
    # Then records carry only the reference
    assert is_media_ref(ref) and "AgAD" not in ref
    stored = media.get(ref)
    assert stored.kind == "photo"
    # And Telegram sends its own file id, while another network gets the bytes
    assert await source_for(stored, "telegram", {}) == "AgAD-1280"

    async def fetch(file_id: str) -> bytes:
        return b"\x89PNG " + file_id.encode()

    assert await source_for(stored, "matrix", {"telegram": fetch}) == b"\x89PNG AgAD-1280"
    # And once uploaded there, the other network's id is learnt
    media.learn(ref, "matrix", "mxc://x.org/abc")
    assert await source_for(media.get(ref), "matrix", {}) == "mxc://x.org/abc"
    with pytest.raises(UnknownMedia):
        media.get("media:nothing")
    with pytest.raises(UnknownMedia):
        await source_for(stored, "console", {})


# -- reachability, a use case of the people context ---------------------------------------------


def test_reachability_follows_what_the_network_reports() -> None:
    # Given an imported resident who never opened the bot, and her grid's coordinator
    app = build_for_tests(delivery=MemoryDelivery())
    now = app.clock.now()
    with app.store.transaction() as tx:
        resident = people.create_person(
            tx, name="林奶奶", address="console:x", language="zh_CN", now=to_iso(now)
        )
        resident["grid_id"] = "jx-1"
        tx.put(people.PEOPLE, resident["id"], resident)
        people.link_address(tx, resident["id"], "telegram:61", reachable=False)
        coordinator = people.create_person(
            tx,
            name="小周",
            address="console:grid",
            language="zh_CN",
            now=to_iso(now),
            roles=(people.RESIDENT, people.COORDINATOR),
        )
        coordinator["coordinator_grids"] = ["jx-1"]
        tx.put(people.PEOPLE, coordinator["id"], coordinator)

    def reachable() -> bool:
        with app.store.snapshot() as tx:
            return bool(tx.require(people.ADDRESSES, "telegram:61")["reachable"])

    # When she writes, she is reachable (once)
    assert reachability.mark_reachable(app.store, make_address("telegram", 61)) is True
    assert reachable() and not reachability.mark_reachable(app.store, make_address("telegram", 61))
    # When an important message to her is refused, she is not, and the coordinator is told
    refused = Outbound(make_address("telegram", 61), Reply("明天上门"), meta={"important": "1"})
    assert reachability.mark_blocked(app.store, refused, now) == 1
    assert not reachable()
    # And a network's own news (unblocked) makes her reachable again
    reachability.set_reachable(app.store, make_address("telegram", 61), True)
    assert reachable()
