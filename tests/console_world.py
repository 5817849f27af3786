"""A console in JSON-lines mode over in-memory twins: the feature tests' world.

:class:`ConsoleWorld` feeds input lines to the real console channel and engine, runs the jobs
they queue (the outbox's messages come back through the same console), and returns every
line produced. Feature worlds (care, orders, notices) subclass it with their community and
helpers.
"""

from __future__ import annotations

import io
import json
from typing import Any

from assistant.bootstrap import App
from assistant.channels.console.channel import ConsoleChannel
from assistant.conversation.engine import Engine
from assistant.jobs.firing import bound
from assistant.jobs.scheduler import tick


class ConsoleWorld:
    """The app, its engine and one console channel whose output the test reads."""

    def __init__(self, app: App, engine: Engine) -> None:
        self.app = app
        self.engine = engine
        self.out = io.StringIO()
        self.channel = ConsoleChannel(engine.handle, out=self.out, jsonl=True)
        self.app.delivery = self.channel  # outbox messages show up here too
        self._labels: dict[str, list[str]] = {}
        self.seen: list[dict[str, Any]] = []

    def _read_from(self, start: int) -> list[dict[str, Any]]:
        self.out.seek(start)
        produced = [json.loads(text) for text in self.out.read().splitlines() if text]
        self.out.seek(0, io.SEEK_END)
        for line in produced:
            if line.get("buttons") and line.get("to"):
                self._labels[line["to"]] = [label for row in line["buttons"] for label in row]
        self.seen += produced
        return produced

    def run_jobs(self) -> list[dict[str, Any]]:
        """Run every queued job (outbox deliveries, events) and return what was sent."""
        start = self.out.tell()
        self.app.queue.run_all(bound(self.app))  # type: ignore[attr-defined]
        return self._read_from(start)

    def travel(self, rounds: int = 1, **units: float) -> list[dict[str, Any]]:
        """Let time pass, then run the scheduler ``rounds`` times and every job it hands out."""
        start = self.out.tell()
        if units:
            self.app.clock.advance(**units)  # type: ignore[attr-defined]
        for _ in range(rounds):
            tick(self.app)
            self.app.queue.run_all(bound(self.app))  # type: ignore[attr-defined]
        return self._read_from(start)

    async def send(self, **line: Any) -> list[dict[str, Any]]:
        """Feed one input line, then run the jobs it queued; return every line produced."""
        start = self.out.tell()
        await self.channel.feed(json.dumps(line, ensure_ascii=False))
        self.app.queue.run_all(bound(self.app))  # type: ignore[attr-defined]
        return self._read_from(start)

    async def say(self, user: str, text: str) -> list[dict[str, Any]]:
        """``user`` types ``text``."""
        return await self.send(**{"as": user, "text": text})

    async def press(self, user: str, label: str) -> list[dict[str, Any]]:
        """``user`` presses the button labelled ``label`` (or its number)."""
        return await self.send(**{"as": user, "press": label})

    def labels(self, user: str) -> list[str]:
        """The labels of the latest buttons ``user`` was shown."""
        return self._labels.get(user, [])
