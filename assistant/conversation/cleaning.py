"""What every channel does to input at its edge, before anything else sees it.

A chat network or a terminal can hand over things no part of the program should
have to think about: text that is not valid Unicode (a lone surrogate such as
``"\\ud800"`` is legal in JSON, so Telegram updates and console JSON lines can
carry one, and no encoder will write it), and numbers that are not numbers a
person could mean (a 400-digit integer latitude, ``NaN``, a longitude of 720).
Each channel passes what it read through these functions, so the engine, the
store and the logs only ever see clean text and sane coordinates.
"""

from __future__ import annotations

import dataclasses
import math

from assistant.conversation.vocabulary import Incoming

REPLACEMENT = "\ufffd"
MAX_CHOICE_DIGITS = 3  # nobody is shown a thousand buttons


def clean_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD; valid text is unchanged.

    A surrogate pair that arrived as two escapes (``"\\ud83d\\ude00"``) becomes
    the one character it spells.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def clean_incoming(incoming: Incoming) -> Incoming:
    """An event whose every text field (addresses included) is valid Unicode.

    A location that no place on Earth has is dropped, so the event says nothing
    rather than something impossible.
    """
    changes: dict[str, object] = {}
    for spec in dataclasses.fields(incoming):
        value = getattr(incoming, spec.name)
        if isinstance(value, str) and clean_text(value) != value:
            changes[spec.name] = clean_text(value)
    if incoming.location is not None and clean_location(*incoming.location) is None:
        changes["location"] = None
    return dataclasses.replace(incoming, **changes) if changes else incoming  # type: ignore[arg-type]


def coordinate(value: object, limit: float) -> float | None:
    """``value`` as a finite float within ±``limit``, else ``None``.

    Only real numbers count (not booleans, not strings); an integer too large
    for a float is refused, not raised.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    if not math.isfinite(number) or not -limit <= number <= limit:
        return None
    return number


def clean_location(latitude: object, longitude: object) -> tuple[float, float] | None:
    """A ``(lat, lon)`` pair a place on Earth could have, else ``None``."""
    lat = coordinate(latitude, 90.0)
    lon = coordinate(longitude, 180.0)
    if lat is None or lon is None:
        return None
    return (lat, lon)


def bare_number(text: str) -> int | None:
    """The number a person typed when the text is only a short number, else ``None``.

    Full-width digits count (``"８"`` is 8). Anything around the digits
    (``"8小时"``, ``"3.5"``, ``"²"``) or more than :data:`MAX_CHOICE_DIGITS`
    digits (a phone number) means it is not a bare number.
    """
    digits = text.strip()
    if not digits or len(digits) > MAX_CHOICE_DIGITS or not digits.isdecimal():
        return None
    return int(digits)


__all__ = ["bare_number", "clean_incoming", "clean_location", "clean_text", "coordinate"]
