"""A notice's text cut to fit each network's message limit, at the cleanest place.

Pure: standard library only. A part ends at a paragraph break if one falls in the
second half of the limit, else at a line break, else after a sentence's end
(``。！？.!?``), else at the limit itself; each part of a cut text is numbered
``（1/2）`` so nobody thinks the first part is all.
"""

from __future__ import annotations

LIMITS = {"telegram": 3900, "matrix": 16000, "console": 3900}
"""Characters a notice part may hold on each network (Telegram allows 4,096; room is kept
for the heading and the part number)."""
DEFAULT_LIMIT = 3900
ENDS = "。！？!?.；;"


def limit_of(network: str) -> int:
    """How many characters one part may hold on a network."""
    return LIMITS.get(network, DEFAULT_LIMIT)


def split(text: str, limit: int) -> list[str]:
    """``text`` in parts of at most ``limit`` characters (numbered when more than one)."""
    if limit < 20:
        raise ValueError("a limit below 20 characters cannot hold a part number")
    if len(text) <= limit:
        return [text]
    room = limit - 8  # the part number "（12/12）"
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > room:
        cut = _cut(rest, room)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    total = len(parts)
    return [f"{part}\n（{n}/{total}）" for n, part in enumerate(parts, start=1)]


def _cut(text: str, room: int) -> int:
    """Where to end the first part of ``text``: the cleanest break in its second half."""
    window = text[:room]
    half = room // 2
    for marker in ("\n\n", "\n"):
        at = window.rfind(marker)
        if at >= half:
            return at + len(marker)
    best = max(window.rfind(end) for end in ENDS)
    if best >= half:
        return best + 1
    space = window.rfind(" ")
    return space + 1 if space >= half else room
