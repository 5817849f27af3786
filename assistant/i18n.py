"""Messages in Simplified Chinese and English, from gettext catalogs.

Message ids are stable keys such as ``onboard.ask_name``; each language has
one folder ``locale/<lang>/LC_MESSAGES`` holding one ``.po`` file per part of
the product (``core.po``, ``care.po``, ``telegram.po`` …), read with Babel.
Placeholders use ``{name}`` and are filled by :meth:`Translator.t`.
A test checks that every id used in the code exists in both catalogs.
"""

from __future__ import annotations

import logging
import string
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"

log = logging.getLogger(__name__)


def normalise(language: str | None) -> str:
    """Map a hint such as ``en-GB``, ``zh-hans`` or ``zh`` to a supported language."""
    if not language:
        return DEFAULT_LANGUAGE
    lowered = language.replace("-", "_").lower()
    if lowered.startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


@cache
def catalog(language: str) -> dict[str, str]:
    """Every message of one language, id → text, merged from its .po files."""
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    messages: dict[str, str] = {}
    for po_file in sorted(folder.glob("*.po")):
        with po_file.open("rb") as handle:
            parsed = read_po(handle, locale=language)
        for message in parsed:
            if message.id and isinstance(message.id, str) and isinstance(message.string, str):
                if message.id in messages:
                    raise ValueError(f"{po_file.name}: message id {message.id!r} defined twice")
                messages[message.id] = message.string
    return messages


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields in a message."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


class Message(str):
    """A message text that remembers the id it was made from (for the outbox's audit trail)."""

    key: str = ""

    def __new__(cls, text: str, key: str = "") -> Message:
        made = super().__new__(cls, text)
        made.key = key
        return made

    def __reduce__(self) -> tuple[type[str], tuple[str]]:
        # Copies and pickles are plain text: the id is only for the outbox, never stored.
        return (str, (str(self),))


def template_of(text: str) -> str:
    """The message id a text was made from, or ``""`` when it was composed otherwise."""
    return text.key if isinstance(text, Message) else ""


class Translator:
    """Messages of one language."""

    def __init__(self, language: str) -> None:
        self.language = normalise(language)
        self._messages = catalog(self.language)

    def t(self, key: str, **values: object) -> str:
        """The message ``key`` with its placeholders filled."""
        text = self._messages.get(key)
        if not text:
            fallback = catalog(DEFAULT_LANGUAGE).get(key)
            if not fallback:
                log.error("missing message id %s", key)
                return key
            text = fallback
        if not values:
            return Message(text, key)
        try:
            return Message(text.format(**values), key)
        except (KeyError, IndexError, ValueError):
            log.error("message %s could not be filled", key)
            return Message(text, key)

    @property
    def is_chinese(self) -> bool:
        """Chinese or not."""
        return self.language.startswith("zh")


@cache
def translator(language: str) -> Translator:
    """A shared translator for a language."""
    return Translator(language)
