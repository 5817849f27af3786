"""The same question twice gets the same answer twice (the engine's answers carry no send-once mark)."""

from __future__ import annotations

from typing import Any

from matrix_world import Running

from assistant.i18n import translator


async def test_help_asked_twice_is_answered_twice(running: Running, resident_factory: Any) -> None:
    # Given a resident in an encrypted direct room
    tr = translator("zh_CN")
    lin = await resident_factory()
    await lin.open_direct_room(running.bot.account.user_id)
    # When they ask for help twice
    first = await lin.says("/help")
    second = await lin.says("/help")
    # Then both are answered, with the same words
    assert tr.t("core.help_intro") in first[0].body
    assert second[0].body == first[0].body and second[0].event_id != first[0].event_id
