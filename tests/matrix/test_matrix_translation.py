"""Matrix events → Incoming, and Reply → Matrix content: pure, no homeserver."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.channels.matrix import render, translate
from assistant.conversation.vocabulary import Choice, Kind, Reply
from assistant.i18n import translator

BOT = "@centre:centre.test"
ROOM = "!dm:centre.test"


def event(content: dict[str, Any], sender: str = "@lin:centre.test") -> dict[str, Any]:
    return {"sender": sender, "content": content, "event_id": "$e", "type": "m.room.message"}


def direct(
    content: dict[str, Any], sender: str = "@lin:centre.test"
) -> translate.Translated | None:
    return translate.from_event(event(content, sender), ROOM, False, BOT)


def test_bang_and_slash_commands_are_commands() -> None:
    for body in ("!care", "/care"):
        found = direct({"msgtype": "m.text", "body": body})
        assert found is not None and found.incoming is not None
        assert found.incoming.kind is Kind.COMMAND and found.incoming.command == "care"


def test_own_echoes_and_notices_are_ignored() -> None:
    assert direct({"msgtype": "m.text", "body": "hi"}, sender=BOT) is None
    assert direct({"msgtype": "m.notice", "body": "another bot"}) is None


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        ("geo:31.23,121.47;u=35", Kind.LOCATION),
        ("geo:31.23,121.47", Kind.LOCATION),
        ("geo:91,0", Kind.OTHER),
        ("geo:0,181", Kind.OTHER),
        ("geo:nan,1", Kind.OTHER),
        ("http://x", Kind.OTHER),
        (5, Kind.OTHER),
    ],
)
def test_locations_are_range_checked(uri: object, kind: Kind) -> None:
    found = direct({"msgtype": "m.location", "body": "here", "geo_uri": uri})
    assert found is not None and found.incoming is not None
    assert found.incoming.kind is kind


def test_plain_and_encrypted_images_become_photos() -> None:
    plain = direct({"msgtype": "m.image", "body": "p", "url": "mxc://s/a"})
    assert plain is not None and plain.incoming is not None
    assert plain.incoming.kind is Kind.PHOTO and plain.incoming.file_ref == "mxc://s/a"
    file = {"url": "mxc://s/b", "key": {"k": "K"}, "iv": "I", "hashes": {"sha256": "H"}}
    secret = direct({"msgtype": "m.image", "body": "p", "file": file})
    assert secret is not None and secret.incoming is not None
    assert '"url":"mxc://s/b"' in secret.incoming.file_ref


def test_an_edit_gets_a_hint_and_groups_take_only_commands_to_the_bot() -> None:
    edit = direct({"msgtype": "m.text", "body": "* x", "m.relates_to": {"rel_type": "m.replace"}})
    assert edit is not None and edit.hint == translate.HINT_EDITED
    group = "!grid:centre.test"
    chatter = translate.from_event(event({"msgtype": "m.text", "body": "早上好"}), group, True, BOT)
    assert chatter is None
    command = translate.from_event(
        event({"msgtype": "m.text", "body": "centre: !linkgrid jx-1"}), group, True, BOT
    )
    assert command is not None and command.incoming is not None
    assert command.incoming.command == "linkgrid" and command.incoming.is_group
    assert command.incoming.chat == f"matrix:{group}"


def test_broken_text_is_cleaned() -> None:
    found = direct({"msgtype": "m.text", "body": "林\ud800奶奶"})
    assert found is not None and found.incoming is not None
    assert "\ud800" not in found.incoming.text


def test_keycaps_are_numbers() -> None:
    assert translate.keycap_number("1️⃣") == 1
    assert translate.keycap_number("1\u20e3") == 1  # without the variation selector
    assert translate.keycap_number("🔟") == 10
    assert translate.keycap_number("👍") is None


def test_choices_are_a_numbered_list_in_plain_and_html() -> None:
    reply = Reply("选<一>个", choices=((Choice("上门照料", "a"), Choice("就医陪护", "b")),))
    content = render.content(reply, translator("zh_CN"))
    assert "1. 上门照料\n2. 就医陪护" in content["body"]
    assert content["formatted_body"].startswith("<p>选&lt;一&gt;个</p><ol><li>上门照料</li>")
    assert content["format"] == render.HTML


def test_addresses_name_people_and_rooms() -> None:
    assert translate.ident_of("matrix:@lin:centre.test") == "@lin:centre.test"
    assert translate.is_room("matrix:!grid:centre.test")
    for bad in ("matrix:lin", "telegram:1", "matrix:@nohost", "matrix:" + "@" * 300 + ":x"):
        with pytest.raises(ValueError):
            translate.ident_of(bad)
