"""Telegram updates → neutral :class:`Incoming` events; no network, no state.

Private chats: text and commands (``/start <payload>`` deep links too), shared
locations, photos (largest size), the user's own contact, voice notes, and
anything else as :attr:`Kind.OTHER` so the engine can answer kindly. An edited
message or someone else's contact gets a hint instead (the channel answers it
itself). Groups: only commands addressed to this bot (``/cmd@ThisBot``, or a
command replying to the bot); everything else there is ignored on purpose.

Telegram's JSON can carry what no person typed: lone surrogates in any text
(a name, a caption, a contact's number) and locations no place has. Every event
leaves here cleaned (:mod:`assistant.conversation.cleaning`); an impossible
location becomes :attr:`Kind.OTHER`, which the engine answers kindly.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import CallbackQuery, Chat, ChatMember, ChatMemberUpdated, Message, User

from assistant.conversation.cleaning import clean_incoming, clean_location, clean_text
from assistant.conversation.vocabulary import Address, Incoming, Kind, make_address

NETWORK = "telegram"
HINT_EDITED = "tg.edited_ignored"
HINT_NOT_OWN_CONTACT = "tg.contact_not_own"


@dataclass(frozen=True)
class Translated:
    """What to do with an update: hand ``incoming`` to the engine, or answer ``hint``."""

    incoming: Incoming | None = None
    hint: str = ""


def address(ident: int | str) -> Address:
    """The address of a Telegram user or chat."""
    return make_address(NETWORK, ident)


def chat_id_of(to: str) -> int:
    """The Telegram chat id inside a ``telegram:<id>`` address."""
    network, _, ident = to.partition(":")
    if network != NETWORK:
        raise ValueError(f"not a Telegram address: {network}")
    return int(ident)


def is_group(chat: Chat) -> bool:
    """Whether a chat is a group (or supergroup, or channel)."""
    return chat.type != Chat.PRIVATE


def _who(user: User) -> dict[str, object]:
    return {"language_hint": user.language_code or "", "display_name": user.full_name}


def from_message(message: Message, bot: User, edited: bool = False) -> Translated | None:
    """Translate one message; ``None`` means ignore it on purpose."""
    translated = _from_message(message, bot, edited)
    if translated is None or translated.incoming is None:
        return translated
    return Translated(clean_incoming(translated.incoming), translated.hint)


def _from_message(message: Message, bot: User, edited: bool) -> Translated | None:
    user = message.from_user
    if user is None or user.is_bot:
        return None
    if is_group(message.chat):
        return _from_group(message, user, bot) if not edited else None
    if edited:
        # A live location moves by editing its message: that is no edit to answer.
        return None if message.location is not None else Translated(hint=HINT_EDITED)
    sender = address(user.id)
    who = _who(user)
    text = message.text
    if text is not None:
        return Translated(Incoming.from_text(sender, text, **who))
    return _content(message, sender, user, who)


def _content(message: Message, sender: Address, user: User, who: dict[str, object]) -> Translated:
    """A private message that is not text."""
    lang, name = str(who["language_hint"]), str(who["display_name"])
    if message.location is not None:
        where = clean_location(message.location.latitude, message.location.longitude)
        if where is None:
            return Translated(Incoming(sender, Kind.OTHER, language_hint=lang, display_name=name))
        return Translated(
            Incoming(sender, Kind.LOCATION, location=where, language_hint=lang, display_name=name)
        )
    if message.photo:
        largest = max(message.photo, key=lambda size: size.width * size.height)
        return Translated(
            Incoming(
                sender,
                Kind.PHOTO,
                file_ref=largest.file_id,
                text=message.caption or "",
                language_hint=lang,
                display_name=name,
            )
        )
    if message.contact is not None:
        if message.contact.user_id != user.id:
            return Translated(hint=HINT_NOT_OWN_CONTACT)
        phone = message.contact.phone_number
        return Translated(
            Incoming(
                sender, Kind.CONTACT, contact_phone=phone, language_hint=lang, display_name=name
            )
        )
    if message.voice is not None:
        return Translated(
            Incoming(
                sender,
                Kind.VOICE,
                file_ref=message.voice.file_id,
                language_hint=lang,
                display_name=name,
            )
        )
    if _is_service(message):
        return Translated()
    return Translated(Incoming(sender, Kind.OTHER, language_hint=lang, display_name=name))


def _is_service(message: Message) -> bool:
    """Service messages (pins, chat photo changes …) carry nothing a person said."""
    return bool(
        message.pinned_message
        or message.new_chat_members
        or message.left_chat_member
        or message.new_chat_title
        or message.new_chat_photo
        or message.delete_chat_photo
        or message.migrate_from_chat_id
        or message.migrate_to_chat_id
    )


def _from_group(message: Message, user: User, bot: User) -> Translated | None:
    """In a group: only a command addressed to this bot."""
    text = message.text or ""
    if not text.startswith("/") or len(text) < 2:
        return None
    head = text[1:].split(maxsplit=1)[0]
    _, at, target = head.partition("@")
    replying_to_bot = bool(
        message.reply_to_message
        and message.reply_to_message.from_user
        and message.reply_to_message.from_user.id == bot.id
    )
    if at:
        if not bot.username or target.lower() != bot.username.lower():
            return None
    elif not replying_to_bot:
        return None
    incoming = Incoming.from_text(
        address(user.id), text, chat=address(message.chat.id), is_group=True, **_who(user)
    )
    return Translated(incoming)


def from_press(query: CallbackQuery, value: str) -> Incoming:
    """A verified button press (the token was already turned back into ``value``)."""
    user = query.from_user
    chat = query.message.chat if query.message is not None else None
    group = chat is not None and is_group(chat)
    incoming = Incoming(
        sender=address(user.id),
        kind=Kind.PRESS,
        press=value,
        chat=address(chat.id) if group and chat is not None else None,
        is_group=group,
        language_hint=user.language_code or "",
        display_name=user.full_name,
    )
    return clean_incoming(incoming)


@dataclass(frozen=True)
class Membership:
    """The bot joined or left a chat."""

    chat: Address
    title: str
    group: bool
    present: bool
    by: Address


PRESENT = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER, ChatMember.RESTRICTED)


def from_membership(change: ChatMemberUpdated) -> Membership | None:
    """A change of the bot's own membership; ``None`` when nothing really changed."""
    before = change.old_chat_member.status in PRESENT
    after = change.new_chat_member.status in PRESENT
    if before == after:
        return None
    return Membership(
        chat=address(change.chat.id),
        title=clean_text(change.chat.title or ""),
        group=is_group(change.chat),
        present=after,
        by=address(change.from_user.id),
    )
