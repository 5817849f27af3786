"""Rooms on the real homeserver: keyed edits, a grid's group room, images through the media port."""

from __future__ import annotations

import io
from typing import Any

from matrix_world import Running
from synapse_server import Synapse

from assistant.conversation.vocabulary import Address, Choice, Kind, Outbound, Reply
from assistant.i18n import translator
from assistant.services import people
from assistant.services.people import community


async def test_a_keyed_offer_becomes_taken_by_an_edit_and_its_choices_go_stale(
    running: Running, resident_factory: Any
) -> None:
    # Given a volunteer who was sent an offer with choices, under a key
    chen = await resident_factory()
    await chen.open_direct_room(running.bot.account.user_id)
    await chen.says("你好")
    to = Address(chen.address)
    offer = Reply("新任务：上门照料", choices=((Choice("接单", "x:accept"),),), key="offer:t1")
    await running.channel.dispatch([Outbound(to, offer)])
    await chen.until(lambda: "新任务" in chen.last().body, "the offer")
    sent = chen.last()
    # When someone else takes the task and the offer is edited
    taken = Reply("这个任务已经有人接了，谢谢！", key="offer:t1", edit=True)
    await running.channel.dispatch([Outbound(to, taken)])
    await chen.until(lambda: "m.new_content" in chen.last().content, "the edit")
    # Then it is an m.replace of the very offer, with the new text
    edit = chen.last().content
    assert edit["m.relates_to"] == {"rel_type": "m.replace", "event_id": sent.event_id}
    assert edit["m.new_content"]["body"] == "这个任务已经有人接了，谢谢！"
    # And the offer's choice is stale now
    stale = await chen.reacts(sent.event_id, "1️⃣")
    assert stale[0].body == translator("zh_CN").t("matrix.choice_expired")


async def test_a_coordinator_links_a_grid_room_and_chatter_is_ignored(
    running: Running, resident_factory: Any, synapse: Synapse
) -> None:
    # Given a coordinator on Matrix who made a group room with the bot and a neighbour
    zhou = await resident_factory()
    neighbour = synapse.register("neighbour-" + zhou.account.user_id[6:10])
    with running.app.store.transaction() as tx:
        person = people.create_person(
            tx,
            name="网格员小周",
            address=zhou.address,
            language="zh_CN",
            now="2024-05-01T08:00:00+08:00",
            roles=(people.RESIDENT, people.COORDINATOR),
        )
        person["coordinator_grids"] = ["jx-1"]
        tx.put(people.PEOPLE, person["id"], person)
    room_id = await zhou.open_group_room(running.bot.account.user_id, [neighbour.user_id])
    # When they chat (ignored), then send !linkgrid jx-1
    await zhou.says("大家好", expect=0)
    linked = await zhou.says("!linkgrid jx-1")
    # Then the bot answers only the command, naming the grid and no one's data
    assert len(zhou.heard) == 1
    assert linked[0].body == translator("zh_CN").t("tg.group_linked", grid="锦绣家园一网格")
    with running.app.store.snapshot() as tx:
        grid = tx.get(community.GRIDS, "jx-1")
    assert grid is not None and f"matrix:{room_id}" in str(grid)


async def test_an_encrypted_image_is_kept_and_decrypts(
    running: Running, resident_factory: Any
) -> None:
    # Given a resident in an encrypted direct room
    lin = await resident_factory()
    await lin.open_direct_room(running.bot.account.user_id)
    await lin.says("你好")
    picture = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    uploaded, keys = await lin.client.upload(
        io.BytesIO(picture),
        content_type="image/png",
        filename="p.png",
        encrypt=True,
        filesize=len(picture),
    )
    file = {**keys, "url": uploaded.content_uri}
    # When they send it as an encrypted m.image
    await lin.sends({"msgtype": "m.image", "body": "p.png", "file": file})
    # Then the media port keeps it for the resident, and its bytes decrypt
    with running.app.store.snapshot() as tx:
        kept = [doc for doc in tx.all("media") if doc.get("owner") == lin.address]
    assert len(kept) == 1 and kept[0]["kind"] == Kind.PHOTO.value
    file_id = kept[0]["files"]["matrix"]
    assert uploaded.content_uri in file_id
    assert await running.channel.fetch(file_id) == picture
