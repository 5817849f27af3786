"""Transport details: webhook mode, the shared limiter, invitation links."""

from __future__ import annotations

import socket
from pathlib import Path

import redis.asyncio as aioredis
from aiohttp import ClientSession
from fake_bot_api import FakeBotApi
from people_sim import Person
from tg_demo import demo_app, engine_for, telegram_settings

from assistant.channels.common.limits import Rates, SharedLimits, TooLongWait
from assistant.channels.telegram import TelegramChannel, invite_link, write_qr_png
from assistant.channels.telegram.invite import BadInvite, group_link


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_mode_receives_updates_with_the_secret(
    fake: FakeBotApi, redis_url: str
) -> None:
    # Given the channel configured for a webhook with a secret token
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    settings = telegram_settings(
        fake, webhook_url=url, webhook_port=port, webhook_secret="s3cret-token"
    )
    app = demo_app(settings)
    channel = TelegramChannel(app, engine_for(app), redis_url)
    await channel.start()
    try:
        # Then it registered the webhook with Telegram
        assert fake.webhook == {"url": url, "secret_token": "s3cret-token"}
        # When a newcomer writes (Telegram POSTs the update to the webhook)
        lin = Person(fake, 801)
        await lin.says("/start", expect=1)
        # And someone without the secret posts a forged update
        async with ClientSession() as session:
            forged = {"update_id": 999, "message": {"message_id": 1}}
            async with session.post(url, json=forged) as response:
                refused = response.status
        # Then the real update was answered and the forged one refused
        assert fake.webhook_posts == 1
        assert refused == 403
    finally:
        await channel.stop()


async def test_the_shared_limiter_allows_a_burst_then_asks_to_wait(redis_url: str) -> None:
    # Given limits of 10 messages/s with a burst of 3 (chat limits out of the way)
    client = aioredis.Redis.from_url(redis_url)
    rates = Rates(per_second=10, burst=3, chat_per_second=1000, chat_burst=100)
    limits = SharedLimits(client, rates, "tg:rate:42")
    try:
        # When three messages go at once to different chats
        for chat in (1, 2, 3):
            assert await limits.acquire(chat) == 0
        # Then a fourth would have to wait about one interval
        try:
            await limits.acquire(4, max_wait=0.0)
        except TooLongWait as wait:
            assert 0 < wait.seconds <= 0.1
        else:
            raise AssertionError("a fourth message went through the burst")
        # And edits do not count against the bot's rate, only the chat's
        assert await limits.acquire(5, new_message=False) == 0
    finally:
        await client.aclose()


def test_invitation_links_and_qr_codes(tmp_path: Path) -> None:
    # Given a bot and an invitation code
    link = invite_link("@CentreTestBot", "vol-k3j9x2")
    # Then the link opens the bot with the code, and prints as a PNG
    assert link == "https://t.me/CentreTestBot?start=vol-k3j9x2"
    assert group_link("CentreTestBot", "link-jx-1").endswith("?startgroup=link-jx-1")
    png = write_qr_png(link, tmp_path / "qr" / "chen.png")
    assert png.read_bytes().startswith(b"\x89PNG")
    # And payloads Telegram would reject are refused here
    for payload in ("has space", "x" * 65, "中文"):
        try:
            invite_link("CentreTestBot", payload)
        except BadInvite:
            continue
        raise AssertionError(f"accepted {payload!r}")
