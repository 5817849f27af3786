"""Whole numbers read from buttons and typed answers.

``str.isdigit`` is true for "²" and "①", which ``int`` cannot read, so a
check with it alone lets such a character through to a crash. Buttons carry
ASCII digits only; typed answers are read after NFKC folding, so full-width
digits (１２) count as the number they show.
"""

from __future__ import annotations

import unicodedata


def is_digits(text: str) -> bool:
    """Whether ``text`` is one or more ASCII digits (what ``int`` reads without surprise)."""
    return text.isascii() and text.isdigit()


def typed_number(text: str, max_digits: int = 9) -> int | None:
    """The whole number a person typed (full-width digits too), or ``None``."""
    folded = unicodedata.normalize("NFKC", text).strip()
    if not is_digits(folded) or len(folded) > max_digits:
        return None
    return int(folded)
