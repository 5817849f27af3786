"""Invitation deep links and their QR codes.

Telegram lets a bot write only to people who opened it first, so the centre
hands out ``https://t.me/<bot>?start=<payload>`` links, printed as QR codes for
residents who do not type. The payload is an invitation code from
:mod:`assistant.services.invitations`; opening the link sends ``/start <payload>``.
"""

from __future__ import annotations

import re
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


def write_qr_png(link: str, path: str | Path) -> Path:
    """Write the link as a QR code PNG (big modules, for printing); return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(link)
    code.make(fit=True)
    image = code.make_image()
    with target.open("wb") as handle:
        image.save(handle)
    return target
