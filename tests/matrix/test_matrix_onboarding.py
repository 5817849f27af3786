"""Onboarding through the real Matrix stack: matrix-nio ↔ Synapse ↔ matrix-nio, encrypted."""

from __future__ import annotations

from typing import Any

from matrix_world import Running

from assistant.i18n import translator
from assistant.services import people


async def test_a_newcomer_registers_in_an_encrypted_direct_room(
    running: Running, resident_factory: Any
) -> None:
    # Given a resident who opens an encrypted direct room with the bot, as Element does
    tr = translator("zh_CN")
    lin = await resident_factory()
    await lin.open_direct_room(running.bot.account.user_id)

    # When they say hello, the bot greets them (encrypted) and asks for their language
    greeting = (await lin.says("你好"))[0]
    assert greeting.encrypted
    assert tr.t("onboard.ask_language") in greeting.body
    assert (
        "1. ✓ 中文" in greeting.body and "<ol><li>✓ 中文</li>" in greeting.content["formatted_body"]
    )

    # And they walk through the questions answering by number, by label and by reaction
    asked_name = await lin.says("1")
    assert asked_name[0].body == tr.t("onboard.ask_name")
    complexes = await lin.says("林奶奶")
    assert "锦绣家园" in complexes[0].body
    await lin.says("锦绣家园")  # the label's text
    buildings = lin.last()
    await lin.reacts(buildings.event_id, "1️⃣")  # building 1, by reaction
    await lin.says("1")  # unit 1
    await lin.says("302", expect=1)
    await lin.says(tr.t("onboard.skip"))
    done = await lin.says(tr.t("onboard.accept"), expect=2)

    # Then they are registered at their Matrix address, in their household
    assert "林奶奶" in done[0].body
    with running.app.store.snapshot() as tx:
        registered = people.person_at(tx, lin.address)
    assert registered is not None
    assert registered["household"]["room"] == "302"
