"""The terminal channel: one person at a keyboard can play several users.

Interactive mode reads lines such as ``lin> 你好`` (or plain text as the
current user; ``/as lin`` switches), shows buttons as numbered lines and takes
a press by number or label. JSON-lines mode reads
``{"as": "lin", "text": "..."}``, ``{"as": "lin", "press": "<label or index>"}``
or ``{"as": "lin", "location": [lat, lon]}`` and writes one line per message:
``{"to": "lin", "text": "...", "buttons": [["label", ...], ...]}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from assistant.conversation.vocabulary import (
    Address,
    CannotRender,
    Incoming,
    Kind,
    Outbound,
    Reply,
    make_address,
    network_of,
)

log = logging.getLogger(__name__)

Handler = Callable[[Incoming], Awaitable[list[Outbound]]]
NETWORK = "console"
MAX_NAME = 32


class ConsoleChannel:
    """Translates terminal lines to :class:`Incoming` and replies to lines."""

    def __init__(
        self,
        handle: Handler,
        out: TextIO | None = None,
        jsonl: bool = False,
        forward: Callable[[Outbound], None] | None = None,
    ) -> None:
        self.handle = handle
        self.out = out or sys.stdout
        self.jsonl = jsonl
        self.forward = forward
        self.current = "lin"
        self._buttons: dict[str, list[tuple[str, str]]] = {}

    # -- in ------------------------------------------------------------------

    async def feed(self, line: str) -> None:
        """Take one input line, handle it, and print what comes back."""
        line = line.rstrip("\n")
        if not line.strip():
            return
        incoming = self.parse_json(line) if self.jsonl else self.parse_text(line)
        if incoming is None:
            return
        for message in await self.handle(incoming):
            self.deliver(message)

    def parse_text(self, line: str) -> Incoming | None:
        """Read an interactive line: ``name> text``, ``/as name`` or plain text."""
        stripped = line.strip()
        if stripped.startswith("/as "):
            self.current = _user(stripped[4:]) or self.current
            self._write(f"(now speaking as {self.current})")
            return None
        head, sep, rest = stripped.partition(">")
        if sep and head and " " not in head.strip() and len(head.strip()) <= MAX_NAME:
            self.current = _user(head) or self.current
            stripped = rest.strip()
        return self._incoming(self.current, stripped)

    def parse_json(self, line: str) -> Incoming | None:
        """Read one JSON input line; a bad line is reported, never fatal."""
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            user = _user(str(data.get("as", self.current)))
            if not user:
                raise ValueError("bad 'as'")
        except ValueError as error:
            self._write_json({"error": f"cannot read input line: {error}"})
            return None
        self.current = user
        sender = make_address(NETWORK, user)
        if "press" in data:
            return Incoming(
                sender=sender, kind=Kind.PRESS, press=self._resolve(user, data["press"])
            )
        if "location" in data:
            try:
                lat, lon = (float(v) for v in data["location"])
            except (TypeError, ValueError):
                self._write_json({"error": "location must be [lat, lon]"})
                return None
            return Incoming(sender=sender, kind=Kind.LOCATION, location=(lat, lon))
        if "sticker" in data:
            return Incoming(sender=sender, kind=Kind.OTHER)
        return Incoming.from_text(sender, str(data.get("text", "")))

    def _incoming(self, user: str, text: str) -> Incoming:
        sender = make_address(NETWORK, user)
        location = _location(text)
        if location is not None:
            return Incoming(sender=sender, kind=Kind.LOCATION, location=location)
        buttons = self._buttons.get(user, [])
        if text.isdigit() and buttons:
            return Incoming(sender=sender, kind=Kind.PRESS, press=self._resolve(user, text))
        for label, value in buttons:
            if text == label:
                return Incoming(sender=sender, kind=Kind.PRESS, press=value)
        return Incoming.from_text(sender, text)

    def _resolve(self, user: str, pressed: Any) -> str:
        """A label or 1-based index of the user's latest buttons → its value."""
        buttons = self._buttons.get(user, [])
        text = str(pressed)
        if text.isdigit() and 1 <= int(text) <= len(buttons):
            return buttons[int(text) - 1][1]
        for label, value in buttons:
            if text == label:
                return value
        return "?" + text[:64]  # not offered: the engine answers "expired"

    # -- out -----------------------------------------------------------------

    def deliver(self, message: Outbound) -> None:
        """Show one message to a console user; hand other networks on."""
        if network_of(message.to) != NETWORK:
            if self.forward is None:
                raise CannotRender(f"the console cannot send to {network_of(message.to)}")
            self.forward(message)
            return
        user = message.to.partition(":")[2]
        reply = message.reply
        if reply.choices:
            self._buttons[user] = [(c.label, c.value) for row in reply.choices for c in row]
        if self.jsonl:
            self._write_json(_as_json(user, reply))
        else:
            self._write(_as_text(user, reply))

    def _write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def _write_json(self, data: dict[str, Any]) -> None:
        self._write(json.dumps(data, ensure_ascii=False))

    # -- loop ----------------------------------------------------------------

    async def run(self, lines: TextIO | None = None) -> None:
        """Read lines until end of input."""
        source = lines or sys.stdin
        if not self.jsonl:
            self._write(
                "Type as a user with 'name> text' (or '/as name'); press buttons by number. "
                "Ctrl-D to quit."
            )
        lines_in: asyncio.Queue[str] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def read_lines() -> None:
            # A daemon thread of its own: a read blocked on a quiet terminal must
            # never hold up shutting down (the default executor would).
            try:
                for line in iter(source.readline, ""):
                    loop.call_soon_threadsafe(lines_in.put_nowait, line)
                loop.call_soon_threadsafe(lines_in.put_nowait, "")
            except RuntimeError:
                return  # the event loop has closed: nobody is listening any more

        threading.Thread(target=read_lines, name="console-input", daemon=True).start()
        while True:
            line = await lines_in.get()
            if not line:
                return
            await self.feed(line)


def _location(text: str) -> tuple[float, float] | None:
    """``"24.93,118.18"`` → a location; anything else → None."""
    lat_text, sep, lon_text = text.partition(",")
    if not sep:
        return None
    try:
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        return None
    if -90 <= lat <= 90 and -180 <= lon <= 180 and "." in text:
        return (lat, lon)
    return None


def _user(text: str) -> str:
    name = text.strip()
    if not name or len(name) > MAX_NAME or any(ch.isspace() or ch == ":" for ch in name):
        return ""
    return name


def _as_json(user: str, reply: Reply) -> dict[str, Any]:
    data: dict[str, Any] = {"to": user, "text": reply.text}
    if reply.choices:
        data["buttons"] = [[choice.label for choice in row] for row in reply.choices]
    if reply.request_location:
        data["asks"] = "location"
    if reply.request_contact:
        data["asks"] = "contact"
    if reply.edit:
        data["edits"] = reply.key
    return data


def _as_text(user: str, reply: Reply) -> str:
    lines = [f"[{user}] " + reply.text.replace("\n", "\n    ")]
    number = 0
    for row in reply.choices:
        cells = []
        for choice in row:
            number += 1
            cells.append(f"{number}) {choice.label}")
        lines.append("    " + "   ".join(cells))
    if reply.request_location:
        lines.append("    (share a location: type 'lat,lon')")
    if reply.request_contact:
        lines.append("    (type a phone number)")
    return "\n".join(lines)


def console_address(user: str) -> Address:
    """The address of a console user."""
    return make_address(NETWORK, user)
