"""Matrix events → neutral :class:`Incoming` events; pure functions, no network, no state.

Works on the event's JSON (``event.source``), so encrypted events read the
same as plain ones once nio has decrypted them. Direct rooms: text, commands
(``!cmd`` or ``/cmd``), ``m.location`` (a ``geo:`` URI, range-checked like
every place), ``m.image`` (plain ``url`` or an encrypted ``file``; the
channel keeps it through the media port) and anything else as
:attr:`Kind.OTHER`. Group rooms: only commands, and only those addressed to
the bot (``!cmd``, ``/cmd``, or the bot's name first). A choice answered by a
keycap reaction (1️⃣ …) is read by :func:`keycap_number`; an edit (``m.replace``)
of one's own message gets a hint instead, since flows cannot go back.

Addresses: a person is ``matrix:@name:server``, a room ``matrix:!id:server``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assistant.conversation.cleaning import clean_incoming, clean_location, clean_text
from assistant.conversation.vocabulary import Address, Incoming, Kind, make_address

NETWORK = "matrix"
HINT_EDITED = "matrix.edited_ignored"
KEYCAPS = tuple(f"{n}\ufe0f\u20e3" for n in range(1, 10)) + ("🔟",)
MAX_MXID = 255
_GEO = re.compile(r"^geo:(-?[0-9.]+),(-?[0-9.]+)(?:[,;].*)?$")


@dataclass(frozen=True)
class Translated:
    """What to do with an event: hand ``incoming`` to the engine, or answer ``hint``."""

    incoming: Incoming | None = None
    hint: str = ""


def address(ident: str) -> Address:
    """The address of a Matrix user (``@…``) or room (``!…``)."""
    return make_address(NETWORK, ident)


def ident_of(to: str) -> str:
    """The user or room id inside a ``matrix:`` address.

    Raises:
        ValueError: not a well-formed Matrix address.
    """
    network, _, ident = to.partition(":")
    if network != NETWORK or len(ident) > MAX_MXID or ident[:1] not in ("@", "!"):
        raise ValueError("not a Matrix address")
    if len(ident) < 2 or (ident[0] == "@" and ":" not in ident[1:]):
        raise ValueError("not a Matrix address")  # (room ids of room version 12 have no server)
    return ident


def is_room(to: str) -> bool:
    """Whether a Matrix address names a room (a group) rather than a person."""
    return to.partition(":")[2].startswith("!")


def keycap_number(key: str) -> int | None:
    """The choice number a keycap reaction (1️⃣ … 🔟) stands for, else ``None``."""
    bare = key.replace("\ufe0f", "")
    for number, keycap in enumerate(KEYCAPS, start=1):
        if key == keycap or bare == keycap.replace("\ufe0f", ""):
            return number
    return None


def parse_geo(uri: object) -> tuple[float, float] | None:
    """The place of a ``geo:lat,lon`` URI, range-checked; ``None`` when it is no place."""
    found = _GEO.match(str(uri).strip()) if isinstance(uri, str) else None
    if found is None:
        return None
    try:
        latitude, longitude = float(found.group(1)), float(found.group(2))
    except ValueError:
        return None
    return clean_location(latitude, longitude)


def encrypted_file_id(file: Mapping[str, Any]) -> str:
    """The file id of an encrypted attachment: its URL with what decrypts it (kept
    by the media port, which lives in the private store)."""
    key = file.get("key") if isinstance(file.get("key"), dict) else {}
    hashes = file.get("hashes") if isinstance(file.get("hashes"), dict) else {}
    return json.dumps(
        {
            "url": str(file.get("url", "")),
            "key": str(key.get("k", "")),  # type: ignore[union-attr]
            "iv": str(file.get("iv", "")),
            "sha256": str(hashes.get("sha256", "")),  # type: ignore[union-attr]
        },
        separators=(",", ":"),
    )


def from_event(
    source: Mapping[str, Any], room_id: str, group: bool, bot_id: str, display_name: str = ""
) -> Translated | None:
    """Translate one room message event; ``None`` means ignore it on purpose."""
    translated = _from_event(source, room_id, group, bot_id, clean_text(display_name))
    if translated is None or translated.incoming is None:
        return translated
    return Translated(clean_incoming(translated.incoming), translated.hint)


def _from_event(
    source: Mapping[str, Any], room_id: str, group: bool, bot_id: str, name: str
) -> Translated | None:
    sender_id = str(source.get("sender", ""))
    content = source.get("content")
    if sender_id == bot_id or not isinstance(content, dict) or not sender_id.startswith("@"):
        return None
    relates = content.get("m.relates_to")
    if isinstance(relates, dict) and relates.get("rel_type") == "m.replace":
        return None if group else Translated(hint=HINT_EDITED)
    try:
        sender = address(sender_id)
    except ValueError:
        return None
    msgtype = content.get("msgtype")
    body = content.get("body")
    text = body if isinstance(body, str) else ""
    if group:
        return _from_group(sender, address(room_id), text, msgtype, bot_id, name)
    who: dict[str, Any] = {"display_name": name}
    if msgtype in ("m.text", "m.emote"):
        return Translated(Incoming.from_text(sender, command_text(text), **who))
    if msgtype == "m.notice":
        return None  # bots' notices: never answer another bot
    if msgtype == "m.location":
        where = parse_geo(content.get("geo_uri"))
        kind = Kind.LOCATION if where is not None else Kind.OTHER
        return Translated(Incoming(sender, kind, location=where, display_name=name))
    if msgtype == "m.image":
        file = content.get("file")
        if isinstance(file, dict):
            ref = encrypted_file_id(file)
        elif isinstance(content.get("url"), str):
            ref = str(content["url"])
        else:
            return Translated(Incoming(sender, Kind.OTHER, display_name=name))
        return Translated(Incoming(sender, Kind.PHOTO, file_ref=ref, display_name=name))
    return Translated(Incoming(sender, Kind.OTHER, display_name=name))


def command_text(text: str) -> str:
    """``!cmd args`` as ``/cmd args`` (the vocabulary reads ``/`` commands)."""
    stripped = text.strip()
    if stripped.startswith("!") and len(stripped) > 1 and not stripped[1].isspace():
        return "/" + stripped[1:]
    return text


def _from_group(
    sender: Address, room: Address, text: str, msgtype: object, bot_id: str, name: str
) -> Translated | None:
    """In a group room: only a command addressed to this bot."""
    if msgtype != "m.text":
        return None
    stripped = text.strip()
    localpart = bot_id[1:].partition(":")[0].lower()
    for prefix in (bot_id.lower(), localpart):
        if prefix and stripped.lower().startswith(prefix):
            stripped = stripped[len(prefix) :].lstrip(" :,")
            break
    if stripped[:1] not in ("!", "/") or len(stripped) < 2:
        return None
    incoming = Incoming.from_text(
        sender, command_text(stripped), chat=room, is_group=True, display_name=name
    )
    return Translated(incoming)
