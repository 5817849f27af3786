"""Buttons as numbered lines, for channels whose network has no bot buttons.

The console (and a Matrix channel, later) shows each :class:`Reply`'s choices
as ``1) …  2) …`` and reads a typed number or label back as a press. A typed
number is a choice only while the person's *latest* reply showed choices: a
door number, a phone number or hours typed in answer to a question without
buttons stay text. A bare number outside the list is text too, marked with
:attr:`Incoming.numbered_choices`, so a question that takes text (hours a week,
"or type a number") gets it and a question that only takes a press answers
"please choose 1–N".
"""

from __future__ import annotations

from collections import OrderedDict

from assistant.conversation.cleaning import bare_number
from assistant.conversation.vocabulary import Address, Incoming, Kind, Reply

MAX_PEOPLE = 10_000  # remembered at once; the least recently served are forgotten
NOT_OFFERED = "?"  # prefix of a press that matches nothing shown: the engine says "expired"

Shown = list[tuple[str, str]]  # (label, value) in the order they are numbered


class NumberedChoices:
    """Remembers, per person, the choices shown to them and reads their answers."""

    def __init__(self, limit: int = MAX_PEOPLE) -> None:
        self.limit = limit
        self._latest: OrderedDict[str, Shown] = OrderedDict()  # the latest reply's choices
        self._keyboard: OrderedDict[str, Shown] = OrderedDict()  # the latest reply that had some

    def shown(self, who: str, reply: Reply) -> None:
        """Note a reply sent to ``who``: its choices, or that it had none."""
        choices = [(choice.label, choice.value) for row in reply.choices for choice in row]
        self._put(self._latest, who, choices)
        if choices:
            self._put(self._keyboard, who, choices)

    def typed(self, sender: Address, who: str, text: str) -> Incoming:
        """What typed text means: a press when it names one of the latest choices, else text."""
        latest = self._latest.get(who, [])
        if latest:
            for label, value in latest:
                if text == label:
                    return Incoming(sender=sender, kind=Kind.PRESS, press=value, text=text)
            number = bare_number(text)
            if number is not None:
                if 1 <= number <= len(latest):
                    value = latest[number - 1][1]
                    return Incoming(sender=sender, kind=Kind.PRESS, press=value, text=text)
                return Incoming.from_text(sender, text, numbered_choices=len(latest))
        return Incoming.from_text(sender, text)

    def pressed(self, who: str, pressed: str) -> str:
        """The value of an explicit press (a label or number of the latest buttons shown)."""
        keyboard = self._keyboard.get(who, [])
        for label, value in keyboard:
            if pressed == label:
                return value
        number = bare_number(pressed)
        if number is not None and 1 <= number <= len(keyboard):
            return keyboard[number - 1][1]
        return NOT_OFFERED + pressed[:64]

    def keyboard(self, who: str) -> Shown:
        """The latest buttons shown to ``who`` (``(label, value)`` pairs, in number order)."""
        return list(self._keyboard.get(who, []))

    def people(self) -> list[str]:
        """Everyone who was shown buttons (and not forgotten since)."""
        return list(self._keyboard)

    def _put(self, memory: OrderedDict[str, Shown], who: str, choices: Shown) -> None:
        memory[who] = choices
        memory.move_to_end(who)
        while len(memory) > self.limit:
            memory.popitem(last=False)


def numbered_lines(reply: Reply) -> list[str]:
    """The choices of a reply as lines of ``n) label`` cells, one line per row."""
    lines = []
    number = 0
    for row in reply.choices:
        cells = []
        for choice in row:
            number += 1
            cells.append(f"{number}) {choice.label}")
        lines.append("   ".join(cells))
    return lines
