"""Pictures out to Matrix on the real homeserver: m.image, encrypted where the room is.

An encrypted room gets the picture as an encrypted upload (the event's ``file``
holds the key); a plain room gets its ``url``. Each upload is made once per
picture and kind; the next room is sent the same file. The text follows as the
usual ``m.text`` event (the caption, with the numbered choices).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from matrix_resident import Resident, Said
from matrix_world import Bot, Running, demo_app
from nio.crypto.attachments import decrypt_attachment

from assistant.channels.common.media import keep_file, media_dir
from assistant.channels.matrix import MatrixChannel
from assistant.conversation.vocabulary import Address, Choice, Outbound, Reply
from handlers import build_engine

PICTURE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16


@pytest.fixture
async def pictured(bot: Bot, redis_url: str, tmp_path: Path) -> AsyncIterator[Running]:
    """The real channel, its data (and media) folder in ``tmp_path``."""
    settings = bot.settings.with_values(storage={"dir": str(tmp_path / "data")})
    app = demo_app(settings)
    channel = MatrixChannel(app, build_engine(app), redis_url)
    await channel.start()
    state = Running(app, channel, bot, redis_url)
    yield state
    await state.channel.stop()
    for resident in state.residents:
        await resident.close()


@pytest.fixture
async def residents(synapse: Any, pictured: Running, tmp_path: Path) -> AsyncIterator[Any]:
    """Makes residents who already talked to the bot (in an encrypted or a plain room)."""

    async def make(name: str, encrypted: bool) -> Resident:
        account = synapse.register(name)
        resident = Resident(synapse.url, account, tmp_path / f"store-{name}")
        await resident.start()
        pictured.residents.append(resident)
        await resident.open_direct_room(pictured.bot.account.user_id, encrypted=encrypted)
        await resident.says("你好")
        return resident

    yield make


def _chart(running: Running) -> str:
    app = running.app
    with app.store.transaction() as tx:
        return keep_file(
            tx, media_dir(app.settings.data_dir), PICTURE, "reports-2026-W23.png", app.clock.now()
        )


async def _send(running: Running, who: Resident, reply: Reply) -> tuple[Said, Said]:
    before = len(who.heard)
    await running.channel.dispatch([Outbound(Address(who.address), reply)])
    await who.until(lambda: len(who.heard) >= before + 2, "the picture and its text")
    image, text = who.heard[before : before + 2]
    return image, text


async def test_an_encrypted_room_gets_an_encrypted_image_whose_bytes_are_the_file(
    pictured: Running, residents: Any
) -> None:
    # Given two residents in encrypted direct rooms, and a chart kept by the media port
    lin = await residents("lin-pic", encrypted=True)
    mei = await residents("mei-pic", encrypted=True)
    ref = _chart(pictured)
    reply = Reply("上周一共收到7次反映。", image=ref, choices=((Choice("知道了", "x:ok"),),))

    # When the chart is sent to each of them
    image, text = await _send(pictured, lin, reply)
    again, _ = await _send(pictured, mei, reply)

    # Then lin got an encrypted m.image with "file" (no plain url) and then the caption
    assert image.encrypted and image.content["msgtype"] == "m.image"
    assert "url" not in image.content and image.content["body"] == "reports-2026-W23.png"
    assert image.content["info"]["mimetype"] == "image/png"
    assert text.content["msgtype"] == "m.text" and "上周一共收到7次反映" in text.body
    assert "1. 知道了" in text.body
    # And what the homeserver holds decrypts to exactly the file's bytes
    file = image.content["file"]
    downloaded = await lin.client.download(mxc=file["url"])
    plain = decrypt_attachment(
        downloaded.body, file["key"]["k"], file["hashes"]["sha256"], file["iv"]
    )
    assert plain == PICTURE
    # And the second room got the same upload (one upload per picture), decrypting the same
    assert again.encrypted and again.content["file"]["url"] == file["url"]


async def test_a_plain_room_gets_the_url_and_the_next_room_the_same_mxc(
    pictured: Running, residents: Any
) -> None:
    # Given two residents in unencrypted direct rooms
    lin = await residents("lin-plain", encrypted=False)
    mei = await residents("mei-plain", encrypted=False)
    ref = _chart(pictured)

    # When the picture goes to both
    image, text = await _send(pictured, lin, Reply("停水通知", image=ref))
    again, _ = await _send(pictured, mei, Reply("停水通知", image=ref))

    # Then each got an m.image with a plain mxc:// url, the same one, and its bytes
    assert not image.encrypted and image.content["url"].startswith("mxc://")
    assert again.content["url"] == image.content["url"]
    downloaded = await lin.client.download(mxc=image.content["url"])
    assert downloaded.body == PICTURE
    assert text.body == "停水通知"
