"""The neutral vocabulary every channel translates to and from.

People and chats are plain address strings such as ``telegram:123``,
``matrix:@lin:example.org`` or ``console:lin``, so queue messages, records and
logs carry text, never live objects. A channel turns what its network delivers
into an :class:`Incoming` and renders each :class:`Reply` its own way; nothing
else in the program knows that a chat network exists.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NewType

Address = NewType("Address", str)
"""``network:id`` of a person or a chat, e.g. ``telegram:123``."""

NETWORKS = ("console", "telegram", "matrix")


class BadAddress(ValueError):
    """A string that is not ``network:id`` with a known network."""


def make_address(network: str, ident: str | int) -> Address:
    """Build an address from a network name and that network's id."""
    text = str(ident).strip()
    if network not in NETWORKS or not text:
        raise BadAddress(f"{network}:{text}")
    return Address(f"{network}:{text}")


def parse_address(text: str) -> Address:
    """Check that ``text`` is an address and return it typed."""
    network, sep, ident = text.strip().partition(":")
    if not sep:
        raise BadAddress(text)
    return make_address(network, ident)


def network_of(address: str) -> str:
    """The network part of an address (``telegram`` for ``telegram:123``)."""
    return address.partition(":")[0]


class Kind(enum.StrEnum):
    """What an incoming event carries."""

    TEXT = "text"
    COMMAND = "command"
    PRESS = "press"
    LOCATION = "location"
    PHOTO = "photo"
    CONTACT = "contact"
    VOICE = "voice"
    OTHER = "other"  # stickers, polls, anything a flow cannot use


@dataclass(frozen=True)
class Incoming:
    """One thing a person did in a chat, in network-neutral terms.

    ``sender`` is the person, ``chat`` the conversation it happened in (the same
    as ``sender`` in a private chat). Only the field matching ``kind`` is set.
    ``numbered_choices`` is set by channels that show buttons as numbered lines
    (the console, Matrix): the text is a bare number but none of the
    ``numbered_choices`` numbers just shown, so a question that only takes a
    press can say "please choose 1–N".
    """

    sender: Address
    kind: Kind
    chat: Address | None = None
    text: str = ""
    command: str = ""
    args: str = ""
    press: str = ""
    location: tuple[float, float] | None = None
    file_ref: str = ""
    contact_phone: str = ""
    language_hint: str = ""
    display_name: str = ""
    is_group: bool = False
    numbered_choices: int = 0

    @property
    def where(self) -> Address:
        """The chat to answer in."""
        return self.chat or self.sender

    @staticmethod
    def from_text(sender: Address, text: str, **extra: object) -> Incoming:
        """Read typed text, turning ``/cmd args`` into a command."""
        stripped = text.strip()
        if stripped.startswith("/") and len(stripped) > 1:
            head, _, args = stripped[1:].partition(" ")
            command = head.split("@", 1)[0].lower()
            return Incoming(
                sender=sender,
                kind=Kind.COMMAND,
                command=command,
                args=args.strip(),
                text=stripped,
                **extra,  # type: ignore[arg-type]
            )
        return Incoming(sender=sender, kind=Kind.TEXT, text=text, **extra)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Choice:
    """One button: what it says and the value its press sends back."""

    label: str
    value: str


@dataclass(frozen=True)
class Reply:
    """One message to send.

    ``text`` is plain text (channels escape it for their markup). ``choices`` are
    rows of buttons. ``to`` is the recipient when it is not the chat the
    incoming event came from. ``key`` names a message that may later be edited
    (for example an offer that becomes "already taken"). ``image`` is a picture
    to show, a media reference (``media:<id>``, see
    :mod:`assistant.channels.common.media`); ``text`` is then its caption, and
    each channel shows a caption too long for its network as a message of its
    own after the picture. ``version`` orders the messages of one key that
    several workers deliver (a progress count): a channel skips one older than
    the last it applied for that key; 0 means unordered.
    """

    text: str
    choices: tuple[tuple[Choice, ...], ...] = ()
    to: Address | None = None
    request_location: bool = False
    request_contact: bool = False
    key: str = ""
    edit: bool = False
    image: str = ""
    version: int = 0

    def values(self) -> set[str]:
        """Every button value this reply offers."""
        return {choice.value for row in self.choices for choice in row}


def rows(*choices: Choice, width: int = 2) -> tuple[tuple[Choice, ...], ...]:
    """Lay choices out in rows of ``width`` buttons."""
    items = list(choices)
    return tuple(tuple(items[i : i + width]) for i in range(0, len(items), width))


@dataclass(frozen=True)
class Outbound:
    """A reply bound to its recipient, as the engine hands it to delivery."""

    to: Address
    reply: Reply
    language: str = "zh_CN"
    meta: dict[str, str] = field(default_factory=dict)


def outbound_to_dict(message: Outbound) -> dict[str, object]:
    """A message as plain JSON-able data, for queues and outboxes."""
    reply = message.reply
    return {
        "to": message.to,
        "language": message.language,
        "meta": dict(message.meta),
        "text": reply.text,
        "choices": [[[c.label, c.value] for c in row] for row in reply.choices],
        "request_location": reply.request_location,
        "request_contact": reply.request_contact,
        "key": reply.key,
        "edit": reply.edit,
        **({"image": reply.image} if reply.image else {}),
        **({"version": reply.version} if reply.version else {}),
    }


def outbound_from_dict(data: dict[str, object]) -> Outbound:
    """Undo :func:`outbound_to_dict`."""
    choices = tuple(
        tuple(Choice(str(label), str(value)) for label, value in row)
        for row in data.get("choices", [])  # type: ignore[attr-defined]
    )
    reply = Reply(
        text=str(data["text"]),
        choices=choices,
        request_location=bool(data.get("request_location")),
        request_contact=bool(data.get("request_contact")),
        key=str(data.get("key", "")),
        edit=bool(data.get("edit")),
        image=str(data.get("image") or ""),
        version=int(str(data.get("version") or 0)),
    )
    return Outbound(
        to=parse_address(str(data["to"])),
        reply=reply,
        language=str(data.get("language", "zh_CN")),
        meta={str(k): str(v) for k, v in dict(data.get("meta") or {}).items()},  # type: ignore[call-overload]
    )


class CannotRender(RuntimeError):
    """A channel was asked to show something its network cannot show."""
