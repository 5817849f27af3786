"""Words instead of buttons: which flow does a text typed outside any flow ask for?

Elderly residents type "我想预约上门照料" or "买菜" rather than look for a button.
Each flow (and each :class:`~assistant.conversation.flow.Topic` that has no
flow yet) names a message id whose text, in every language's catalog, is a
comma-separated keyword list; the lists of both languages count for everyone.

Chinese keywords match anywhere in the text; Latin ones match whole words,
ignoring case and full-width forms. A longer keyword hides the shorter ones
inside it ("取消预约" is about /mine, not a new booking). Filler words ("我想",
"请问", "please") are left out of the measure. A guess is *sure* when exactly
one intent matched and its keywords cover at least half of what was typed;
otherwise the engine asks "do you mean …?" with a button per intent.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from assistant.conversation import buttons
from assistant.conversation.flow import Ctx, Flow, Topic
from assistant.conversation.vocabulary import Choice, Reply, rows
from assistant.i18n import LANGUAGES, catalog

GUESS_ACTION = buttons.Guess.ACTION
"""The action of a "do you mean …?" button: ``a:guess:<intent>``."""
BUILT_IN = {
    "help": ("keywords.help", "core.guess_help"),
    "menu": ("keywords.menu", "core.guess_menu"),
    "language": ("keywords.language", "core.guess_language"),
}
"""Intents that are no flow: their keywords' message id and their button's label."""
MAX_CHOICES = 4
FILLER_KEY = "keywords.filler"
STOP_KEY = "keywords.stop"
"""Words that, typed alone inside a form, end it as ``/cancel`` does ("取消", "算了", "stop")."""
SURE_SHARE = 0.5
LOOK_AT = 500
"""Only the start of a long text is read: a keyword deep inside a letter is no request."""


@dataclass(frozen=True)
class Guess:
    """The intents a text may ask for, most likely first, and whether to act at once."""

    names: tuple[str, ...] = ()
    sure: bool = False


def guess_value(name: str) -> str:
    """The value of the "do you mean …?" button for one intent."""
    return buttons.Guess(name).encode()


def _stop_words() -> frozenset[str]:
    return frozenset(
        w for lang in LANGUAGES for w in split_keywords(catalog(lang).get(STOP_KEY, ""))
    )


def is_stop(text: str) -> bool:
    """Whether ``text`` says only "stop" (in either language, punctuation aside)."""
    words = _normal(text).strip(" .,!?。~…")  # NFKC made ，！？～ the ASCII ones
    return bool(words) and words in _STOP


def split_keywords(text: str) -> list[str]:
    """The keywords of one catalog message (comma-separated, ASCII or full-width commas)."""
    normalised = _normal(text).replace("、", ",")
    return [word.strip() for word in normalised.split(",") if word.strip()]


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _is_latin(word: str) -> bool:
    return all(ord(ch) < 0x3000 for ch in word)


def _word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


class KeywordTable:
    """Every intent's keywords from every catalog, longest first."""

    def __init__(self, keys: Mapping[str, str]) -> None:
        """Read the keyword lists; ``keys`` maps an intent's name to its message id."""
        words: dict[str, str] = {}
        for name, key in keys.items():
            for language in LANGUAGES:
                for word in split_keywords(catalog(language).get(key, "")):
                    words.setdefault(word, name)
        self.words = sorted(words.items(), key=lambda item: -len(item[0]))
        filler = {
            w for lang in LANGUAGES for w in split_keywords(catalog(lang).get(FILLER_KEY, ""))
        }
        self.filler = sorted(filler - set(words), key=len, reverse=True)

    def guess(self, text: str, allowed: Collection[str]) -> Guess:
        """What ``text`` asks for, among the ``allowed`` intents."""
        seen = _normal(text[:LOOK_AT])
        taken = [False] * len(seen)
        scores: dict[str, int] = {}
        for word, name in self.words:
            if name in allowed:
                for start in _places(seen, word, taken):
                    scores[name] = scores.get(name, 0) + _mark(seen, taken, start, len(word))
        matched = sum(1 for ch, used in zip(seen, taken, strict=True) if used and ch.isalnum())
        for word in self.filler:
            for start in _places(seen, word, taken):
                _mark(seen, taken, start, len(word))
        rest = sum(1 for ch, used in zip(seen, taken, strict=True) if not used and ch.isalnum())
        names = tuple(sorted((n for n in scores if scores[n]), key=lambda n: -scores[n]))
        if not names:
            return Guess()
        sure = len(names) == 1 and matched >= SURE_SHARE * (matched + rest)
        return Guess(names, sure)


def _places(text: str, word: str, taken: list[bool]) -> list[int]:
    """Where ``word`` stands in ``text`` on free characters (whole words if Latin)."""
    found: list[int] = []
    latin = _is_latin(word)
    start = text.find(word)
    while start >= 0:
        end = start + len(word)
        free = not any(taken[start:end])
        whole = not latin or (
            (start == 0 or not _word_char(text[start - 1]))
            and (end == len(text) or not _word_char(text[end]))
        )
        if free and whole:
            found.append(start)
        start = text.find(word, start + 1)
    return found


def _mark(text: str, taken: list[bool], start: int, length: int) -> int:
    """Mark a span as used (unless a longer word took part of it first); its letter count."""
    if any(taken[start : start + length]):
        return 0
    for index in range(start, start + length):
        taken[index] = True
    return sum(1 for ch in text[start : start + length] if ch.isalnum())


class Intents:
    """What typed words can lead to: flows that declare keywords, topics, and built-ins."""

    def __init__(self, flows: Mapping[str, Flow], topics: Sequence[Topic]) -> None:
        """Build the table; two intents of one name are a programming error."""
        self.flows = flows
        self.topics = {topic.name: topic for topic in topics}
        keys = {name: key for name, (key, _) in BUILT_IN.items()}
        named = [(f.name, f.keywords_key) for f in flows.values() if f.keywords_key]
        for name, key in named + [(t.name, t.keywords_key) for t in topics]:
            if keys.setdefault(name, key) != key:
                raise ValueError(f"two intents are named {name}")
        self.table = KeywordTable(keys)

    def usable(self, roles: Iterable[str]) -> set[str]:
        """The intents open to someone with these roles."""
        mine = set(roles)
        flows = {f.name for f in self.flows.values() if not f.roles or mine & set(f.roles)}
        return flows | set(self.topics) | set(BUILT_IN)

    def guess(self, text: str, allowed: Collection[str]) -> Guess:
        """What ``text`` asks for, among the ``allowed`` intents."""
        return self.table.guess(text, allowed)

    def do_you_mean(self, ctx: Ctx, names: Sequence[str]) -> Reply:
        """Ask which of these was meant, a button each, and one for the menu."""
        shown = list(names[:MAX_CHOICES])
        if "menu" not in shown:
            shown.append("menu")
        buttons = [Choice(self.label(ctx, name), guess_value(name)) for name in shown]
        buttons[-1] = Choice(ctx.t("core.guess_none"), buttons[-1].value)
        question = "core.guess_one" if len(names) == 1 else "core.guess_many"
        return Reply(ctx.t(question), choices=rows(*buttons, width=1))

    def label(self, ctx: Ctx, name: str) -> str:
        """How an intent is named on a button."""
        if name in BUILT_IN:
            return ctx.t(BUILT_IN[name][1])
        if name in self.topics:
            return ctx.t(self.topics[name].label_key)
        flow = self.flows[name]
        if flow.menu_key:
            return ctx.t(flow.menu_key)
        if not flow.help_key:
            return ctx.t(BUILT_IN["menu"][1])
        # A /help line "/forget delete my data" without its command: "Delete my data".
        words = ctx.t(flow.help_key).split(maxsplit=1)
        text = words[-1] if len(words) == 2 and words[0].startswith("/") else " ".join(words)
        return text[:1].upper() + text[1:]


_STOP = _stop_words()
