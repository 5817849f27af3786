"""Invitation deep links and their QR codes.

Telegram lets a bot write only to people who opened it first, so the centre
hands out ``https://t.me/<bot>?start=<payload>`` links, printed as QR codes for
residents who do not type. The payload is an invitation code from
:mod:`assistant.services.people.invitations`; opening the link sends ``/start <payload>``.
"""

from __future__ import annotations

import re
from pathlib import Path

import qrcode
from qrcode.image.pure import PyPNGImage

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
    """Write the link as a QR code PNG (big modules, for printing); return the path.

    The ``qrcode`` library writes the PNG (its pure-Python writer, on ``pypng``):
    black on white, one bit per pixel.
    """
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=4,
        box_size=box,
        image_factory=PyPNGImage,
    )
    code.add_data(link)
    code.make(fit=True)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        code.make_image().save(out)
    return target
