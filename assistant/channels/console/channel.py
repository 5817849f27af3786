"""The terminal channel: one person at a keyboard can play several users.

Interactive mode reads lines such as ``lin> 你好`` (or plain text as the
current user; ``/as lin`` switches), shows buttons as numbered lines and takes
a press by number or label. JSON-lines mode reads
``{"as": "lin", "text": "..."}``, ``{"as": "lin", "press": "<label or index>"}``
or ``{"as": "lin", "location": [lat, lon]}`` and writes one line per message:
``{"to": "lin", "text": "...", "buttons": [["label", ...], ...]}``.

A picture (``Reply.image``) is shown as a line of its own in the reader's
language, ``[图片 reports-2026-W23.png]`` / ``[picture reports-2026-W23.png]``,
with the text as its caption under it; in JSON lines as ``"image": {"ref",
"name", "path"}``, the path being the file the media port keeps (when it keeps
the bytes here; a photo known only to a chat network has no path).

Input is read as bytes and cleaned here, at the edge: a line that is not UTF-8,
not JSON, or names an impossible place is reported and skipped, and text that
is not valid Unicode is repaired (:mod:`assistant.conversation.cleaning`), so a
bad line never ends the console. A typed number is a press only while the
person's latest reply showed buttons (:mod:`assistant.channels.common.numbered`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import IO, Any, TextIO

from assistant.channels.common.media import MediaLibrary, UnknownMedia
from assistant.channels.common.numbered import NumberedChoices, numbered_lines
from assistant.conversation.cleaning import clean_incoming, clean_location, clean_text
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
from assistant.i18n import translator

log = logging.getLogger(__name__)

Handler = Callable[[Incoming], Awaitable[list[Outbound]]]
NETWORK = "console"
MAX_NAME = 32
READ_CHUNK = 65536
MAX_LINE_BYTES = 1 << 20


class ConsoleChannel:
    """Translates terminal lines to :class:`Incoming` and replies to lines."""

    def __init__(
        self,
        handle: Handler,
        out: TextIO | None = None,
        jsonl: bool = False,
        forward: Callable[[Outbound], None] | None = None,
        media: MediaLibrary | None = None,
    ) -> None:
        self.handle = handle
        self.out = out or sys.stdout
        self.jsonl = jsonl
        self.forward = forward
        self.media = media
        self.current = "lin"
        self.choices = NumberedChoices()

    # -- in ------------------------------------------------------------------

    async def feed(self, line: str | bytes) -> None:
        """Take one input line, handle it, and print what comes back."""
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError:
                self._report("this line is not UTF-8 text; it was skipped")
                return
        line = clean_text(line).rstrip("\r\n")
        if not line.strip():
            return
        incoming = self.parse_json(line) if self.jsonl else self.parse_text(line)
        if incoming is None:
            return
        for message in await self.handle(clean_incoming(incoming)):
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
            data = _clean_json(json.loads(line))
            if not isinstance(data, dict):
                raise ValueError("not an object")
            user = _user(str(data.get("as", self.current)))
            if not user:
                raise ValueError("bad 'as'")
        except (ValueError, RecursionError) as error:
            self._report(f"cannot read input line: {error}"[:200])
            return None
        self.current = user
        sender = make_address(NETWORK, user)
        if "press" in data:
            press = self.choices.pressed(user, _scalar(data["press"]))
            return Incoming(sender=sender, kind=Kind.PRESS, press=press)
        if "location" in data:
            where = _pair(data["location"])
            if where is None:
                self._report("location must be [lat, lon]: -90..90 and -180..180")
                return None
            return Incoming(sender=sender, kind=Kind.LOCATION, location=where)
        if "sticker" in data:
            return Incoming(sender=sender, kind=Kind.OTHER)
        return Incoming.from_text(sender, _scalar(data.get("text", "")))

    def _incoming(self, user: str, text: str) -> Incoming:
        sender = make_address(NETWORK, user)
        location = _location(text)
        if location is not None:
            return Incoming(sender=sender, kind=Kind.LOCATION, location=location)
        return self.choices.typed(sender, user, text)

    def buttons(self, user: str) -> list[tuple[str, str]]:
        """The latest buttons shown to ``user``, as ``(label, value)`` in number order."""
        return self.choices.keyboard(user)

    def resolve(self, user: str, pressed: str) -> str:
        """What pressing ``pressed`` (a label or number of ``user``'s latest buttons) sends."""
        return self.choices.pressed(user, pressed)

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
        self.choices.shown(user, reply)
        picture = self._picture(reply.image) if reply.image else None
        if self.jsonl:
            data = _as_json(user, reply)
            if picture is not None:
                data["image"] = {"ref": reply.image, "name": picture[0], "path": picture[1]}
            self._write_json(data)
        else:
            shown = ""
            if picture is not None:
                shown = translator(message.language).t("picture.console", name=picture[0])
            self._write(_as_text(user, reply, shown))

    def _picture(self, ref: str) -> tuple[str, str]:
        """The name to show of a picture, and the path of its bytes here (or ``""``)."""
        if self.media is None:
            return ref.removeprefix("media:"), ""
        try:
            stored = self.media.get(ref)
        except UnknownMedia:
            return ref.removeprefix("media:"), ""
        path = self.media.path_of(stored)
        return stored.shown_name, str(path) if path is not None else ""

    def _write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def _write_json(self, data: dict[str, Any]) -> None:
        self._write(json.dumps(data, ensure_ascii=False))

    def _report(self, problem: str) -> None:
        """Say that an input line could not be used (JSON lines: as an ``error`` line)."""
        if self.jsonl:
            self._write_json({"error": problem})
        else:
            self._write(f"({problem})")

    # -- loop ----------------------------------------------------------------

    async def run(self, lines: IO[str] | IO[bytes] | None = None) -> None:
        """Read lines until end of input; no line, however bad, ends the loop early."""
        source: IO[Any] = lines or sys.stdin
        reconfigure = getattr(self.out, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")  # never die writing to a terminal of another encoding
        if not self.jsonl:
            self._write(
                "Type as a user with 'name> text' (or '/as name'); press buttons by number. "
                "Ctrl-D to quit."
            )
        lines_in: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def read_lines() -> None:
            # A daemon thread of its own: a read blocked on a quiet terminal must
            # never hold up shutting down (the default executor would).
            try:
                for line in _lines_of(source):
                    loop.call_soon_threadsafe(lines_in.put_nowait, line)
            except (OSError, ValueError) as error:
                log.warning("reading the console input failed (%s)", type(error).__name__)
            finally:
                with contextlib.suppress(RuntimeError):  # the loop closed: nobody listens
                    loop.call_soon_threadsafe(lines_in.put_nowait, None)

        threading.Thread(target=read_lines, name="console-input", daemon=True).start()
        while True:
            line = await lines_in.get()
            if line is None:
                return
            try:
                await self.feed(line)
            except Exception:
                log.exception("a console input line could not be handled")
                self._report("that line could not be handled; please try again")


def _lines_of(source: IO[Any]) -> Iterator[str | bytes]:
    """The lines of an input, as bytes when it has a file descriptor.

    A terminal or pipe is read with ``os.read`` on its descriptor, not through
    Python's buffered reader: bytes that are not UTF-8 cannot break the read,
    and a thread blocked in it holds no lock that interpreter shutdown needs.
    """
    try:
        fd = source.fileno()
    except (AttributeError, OSError, ValueError):
        yield from iter(source.readline, source.read(0))
        return
    pending = b""
    while chunk := os.read(fd, READ_CHUNK):
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line + b"\n"
        if len(pending) > MAX_LINE_BYTES:
            yield pending  # no line is this long; the engine says it is too long
            pending = b""
    if pending:
        yield pending


def _location(text: str) -> tuple[float, float] | None:
    """``"24.93,118.18"`` → a location; anything else → None."""
    lat_text, sep, lon_text = text.partition(",")
    if not sep or "." not in text or len(text) > 64:
        return None
    try:
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        return None
    return clean_location(lat, lon)


def _pair(value: Any) -> tuple[float, float] | None:
    """A JSON ``[lat, lon]`` of two numbers in range, else None."""
    if not isinstance(value, list) or len(value) != 2:
        return None
    return clean_location(value[0], value[1])


def _scalar(value: Any) -> str:
    """A JSON value given where text belongs, as text."""
    return value if isinstance(value, str) else str(value)


def _clean_json(value: Any) -> Any:
    """A parsed JSON value whose every string (keys too) is valid Unicode."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_clean_json(item) for item in value]
    if isinstance(value, dict):
        return {clean_text(str(k)): _clean_json(v) for k, v in value.items()}
    return value


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


def _as_text(user: str, reply: Reply, picture: str = "") -> str:
    text = reply.text.replace("\n", "\n    ")
    lines = [f"[{user}] {picture}", "    " + text] if picture else [f"[{user}] " + text]
    lines += ["    " + line for line in numbered_lines(reply)]
    if reply.request_location:
        lines.append("    (share a location: type 'lat,lon')")
    if reply.request_contact:
        lines.append("    (type a phone number)")
    return "\n".join(lines)


def console_address(user: str) -> Address:
    """The address of a console user."""
    return make_address(NETWORK, user)
