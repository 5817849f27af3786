"""Invitation deep links and their QR codes.

Telegram lets a bot write only to people who opened it first, so the centre
hands out ``https://t.me/<bot>?start=<payload>`` links, printed as QR codes for
residents who do not type. The payload is an invitation code from
:mod:`assistant.services.people.invitations`; opening the link sends ``/start <payload>``.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import qrcode

PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")


class BadInvite(ValueError):
    """A bot username or payload Telegram would not accept in a deep link."""


def invite_link(bot_username: str, payload: str) -> str:
    """The deep link that opens the bot with ``/start <payload>``."""
    name = bot_username.lstrip("@")
    if not USERNAME.match(name):
        raise BadInvite(f"not a bot username: {bot_username!r}")
    if not PAYLOAD.match(payload):
        raise BadInvite("a payload is 1-64 characters of A-Z, a-z, 0-9, _ and -")
    return f"https://t.me/{name}?start={payload}"


def group_link(bot_username: str, payload: str) -> str:
    """The deep link that adds the bot to a group with ``/start <payload>`` there."""
    return invite_link(bot_username, payload).replace("?start=", "?startgroup=")


def write_qr_png(link: str, path: str | Path, box: int = 10) -> Path:
    """Write the link as a QR code PNG (big modules, for printing); return the path."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(link)
    code.make(fit=True)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(_png(code.get_matrix(), box))
    return target


def _png(matrix: list[list[bool]], box: int) -> bytes:
    """A black-on-white 8-bit grayscale PNG of a module matrix (no imaging library needed)."""
    rows = []
    for modules in matrix:
        line = b"".join((b"\x00" if dark else b"\xff") * box for dark in modules)
        rows.extend([b"\x00" + line] * box)  # filter byte 0, then the pixels
    size = len(matrix) * box

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )
