"""Drive the engine through the console channel, as a person at a terminal would."""

from __future__ import annotations

import io
import json
from typing import Any

from assistant import demo
from assistant.bootstrap import App, build_for_tests
from assistant.channels.console.channel import ConsoleChannel
from handlers import build_engine


class Transcript:
    """One console in JSON-lines mode over in-memory twins, with the demo community."""

    def __init__(self, app: App | None = None, load_demo: bool = True) -> None:
        self.app = app or build_for_tests()
        if load_demo:
            demo.load(self.app.store, "2026-06-01T00:00:00+00:00")
        self.engine = build_engine(self.app)
        self.out = io.StringIO()
        self.channel = ConsoleChannel(self.engine.handle, out=self.out, jsonl=True)
        self.app.delivery = self.channel  # messages to other people show up here too

    async def send(self, **line: Any) -> list[dict[str, Any]]:
        """Feed one input line; return the output lines it produced."""
        start = self.out.tell()
        await self.channel.feed(json.dumps(line, ensure_ascii=False))
        self.out.seek(start)
        produced = [json.loads(text) for text in self.out.read().splitlines() if text]
        self.out.seek(0, io.SEEK_END)
        return produced

    async def say(self, user: str, text: str) -> list[dict[str, Any]]:
        """``user`` types ``text``."""
        return await self.send(**{"as": user, "text": text})

    async def press(self, user: str, label: str) -> list[dict[str, Any]]:
        """``user`` presses the button labelled ``label`` (or its 1-based number)."""
        return await self.send(**{"as": user, "press": label})


def texts(messages: list[dict[str, Any]], to: str | None = None) -> str:
    """All texts of some output lines, joined, optionally only those to one user."""
    return "\n".join(m.get("text", "") for m in messages if to is None or m.get("to") == to)


def buttons(messages: list[dict[str, Any]]) -> list[str]:
    """Every button label in some output lines."""
    return [label for m in messages for row in m.get("buttons", []) for label in row]
