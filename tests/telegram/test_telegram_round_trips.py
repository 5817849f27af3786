"""An update costs few Redis round trips: a reply's buttons and its rate-limit slots go together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from fake_bot_api import FakeBotApi
from people_sim import Person
from tg_demo import Running, demo_app, engine_for, telegram_settings

from assistant.channels.telegram import TelegramChannel


class CountingConnection(aioredis.Connection):
    """A Redis connection that counts what it sends: one packet is one round trip."""

    trips = 0

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        type(self).trips += 1
        await super().send_packed_command(command, check_health)


@pytest.fixture
async def counted(fake: FakeBotApi, redis_url: str) -> AsyncIterator[Running]:
    """The channel on a Redis client whose round trips are counted."""
    pool = aioredis.BlockingConnectionPool.from_url(
        redis_url, max_connections=4, connection_class=CountingConnection
    )
    client = aioredis.Redis(connection_pool=pool)
    await client.ping()
    app = demo_app(telegram_settings(fake))
    channel = TelegramChannel(app, engine_for(app), redis_url, redis=client)
    await channel.start()
    yield Running(fake, app, channel)
    await channel.stop()


async def _start(fake: FakeBotApi, uid: int) -> None:
    """Send /start and wait for the language question (its buttons)."""
    person = Person(fake, uid)
    fake.send_text(person.user, "/start")
    await fake.wait_until(lambda: any(sent.markup for sent in fake.sent_to(uid)))


async def test_a_start_costs_one_round_trip_and_a_press_at_most_three(counted: Running) -> None:
    # Given a bot that has already answered someone (scripts loaded, connections open)
    fake = counted.fake
    await _start(fake, 701)
    await Person(fake, 701).presses("✓ 中文")

    # When a newcomer sends /start (the greeting and the language question with buttons)
    before = CountingConnection.trips
    await _start(fake, 702)
    start_trips = CountingConnection.trips - before

    # Then the answer's buttons and rate-limit slots took one Redis round trip together
    assert start_trips == 1

    # And a press costs at most its token, the closed keyboard's edit and the next question
    before = CountingConnection.trips
    await Person(fake, 702).presses("✓ 中文")
    assert CountingConnection.trips - before <= 3
