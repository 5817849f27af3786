"""Neutral :class:`Reply` → Telegram message parts (HTML text and keyboards).

Pure functions: the tokens behind inline buttons are issued by the caller.
Text is plain in the vocabulary, so it is HTML-escaped here and sent with
``parse_mode=HTML``; a text longer than one Telegram message is split at line
breaks, and the keyboard goes under the last part. A photo's caption holds at
most :data:`MAX_CAPTION` characters: a longer text goes as messages after the
photo (the sender decides), and an edited caption is cut with "…".
"""

from __future__ import annotations

import html

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from assistant.conversation.vocabulary import Choice, Reply
from assistant.i18n import Translator

MAX_TEXT = 4000  # Telegram allows 4096 characters; keep a margin
MAX_CAPTION = 1000  # Telegram allows 1024
EMPTY_TEXT = "👇"


def escape(text: str) -> str:
    """Plain text made safe for ``parse_mode=HTML``."""
    return html.escape(text, quote=False)


def parts(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Plain text cut into pieces Telegram accepts, at line breaks when possible."""
    if not text.strip():
        return [EMPTY_TEXT]
    out: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = limit
        out.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    if rest.strip():
        out.append(rest)
    return out


def caption(text: str) -> str:
    """Text cut to fit a photo's caption (for an edit, which cannot add a message)."""
    text = text.strip()
    return text if len(text) <= MAX_CAPTION else text[: MAX_CAPTION - 1].rstrip() + "…"


def wrong_edit(description: str) -> bool:
    """Whether Telegram refused an edit because the message is of the other kind
    (editing the text of a photo, or the caption of a text)."""
    lowered = description.lower()
    return "no text in the message" in lowered or "no caption in the message" in lowered


def choice_values(reply: Reply) -> list[str]:
    """Every button value, row by row, in the order tokens are issued."""
    return [choice.value for row in reply.choices for choice in row]


def inline_keyboard(
    choices: tuple[tuple[Choice, ...], ...], tokens: list[str]
) -> InlineKeyboardMarkup:
    """Inline buttons whose callback data are the server-side tokens."""
    issued = iter(tokens)
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(choice.label, callback_data=next(issued)) for choice in row]
            for row in choices
        ]
    )


def request_keyboard(reply: Reply, tr: Translator) -> ReplyKeyboardMarkup:
    """A one-time keyboard with the location and/or contact request buttons."""
    buttons = []
    if reply.request_location:
        buttons.append(KeyboardButton(tr.t("tg.share_location"), request_location=True))
    if reply.request_contact:
        buttons.append(KeyboardButton(tr.t("tg.share_contact"), request_contact=True))
    return ReplyKeyboardMarkup([buttons], resize_keyboard=True, one_time_keyboard=True)


def chosen(text: str, label: str, tr: Translator) -> str:
    """A consumed keyboard's message text, with what was chosen under it (HTML)."""
    mark = tr.t("tg.chosen", label=label)
    return escape(text) + "\n\n" + escape(mark) if text else escape(mark)


def label_of(markup: InlineKeyboardMarkup | None, token: str) -> str:
    """The label of the button carrying ``token``."""
    if markup is None:
        return ""
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == token:
                return button.text
    return ""
