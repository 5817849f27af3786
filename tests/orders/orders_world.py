"""The demo community at one console, with the produce sale live: a transcript for the orders tests.

Time is a :class:`FakeClock` at 09:00 on Monday 1 June 2026; the demo's sale
starts at 08:00. ``travel`` lets time pass and runs the scheduler and every
job it hands out, as the real scheduler and workers would. Messages that
services post (the outbox) show up as lines for their recipient, the
neighbours' group of 锦绣家园一网格 included (``jx1-group``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from console_world import ConsoleWorld

from assistant import demo
from assistant.bootstrap import App, build_for_tests
from assistant.clock import FakeClock
from assistant.conversation.vocabulary import Incoming, Kind, make_address
from assistant.jobs.firing import bound
from assistant.services import orders, people
from assistant.services.orders import demo as orders_demo
from assistant.services.orders import stock
from assistant.store.base import Doc
from handlers import build_engine

MONDAY_9 = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
ORANGES = "ls-"  # prefix; the demo's listings are found by title below
ORANGE_TITLE = "赣南脐橙（10斤装）"
EGG_TITLE = "农家土鸡蛋（30枚）"
GROUP = "jx1-group"


class World(ConsoleWorld):
    """Residents, volunteers, vendor staff and the coordinator of the demo community."""

    def __init__(self, app: App | None = None, settings: Any = None, **ports: Any) -> None:
        """``ports``: a store and a hold counter in place of the in-memory ones."""
        self.clock = FakeClock(MONDAY_9)
        app = app or build_for_tests(settings, clock=self.clock, **ports)
        demo.load(app.store, "2026-06-01T00:00:00+00:00")
        super().__init__(app, build_engine(app))
        orders_demo.announce_now(self.app)  # the sale goes live: announcements, group lists
        self.travel()

    def travel(self, rounds: int = 3, **units: float) -> list[dict[str, Any]]:
        """Let time pass; the scheduler hands out what is due and the workers run it."""
        return super().travel(rounds, **units)

    async def press(self, user: str, label: str) -> list[dict[str, Any]]:
        assert label in self.labels(user), f"{label!r} not offered to {user}: {self.labels(user)}"
        return await self.send(**{"as": user, "press": label})

    async def forge(self, user: str, value: str, group: str = "") -> list[dict[str, Any]]:
        """Press a raw button value (a stale, forged or group button)."""
        extra: dict[str, Any] = {}
        if group:
            extra = {"chat": make_address("console", group), "is_group": True}
        incoming = Incoming(
            sender=make_address("console", user), kind=Kind.PRESS, press=value, **extra
        )
        out = await self.engine.handle(incoming)
        self.app.queue.run_all(bound(self.app))  # type: ignore[attr-defined]
        lines = []
        for message in out:
            line = {"to": message.to.partition(":")[2], "text": message.reply.text}
            if message.reply.choices:
                line["buttons"] = [[c.label for c in row] for row in message.reply.choices]
                self._labels[line["to"]] = [c.label for row in message.reply.choices for c in row]
            lines.append(line)
        return lines

    def value(self, user: str, label: str) -> str:
        """The value behind a label the user was shown last."""
        return str(self.channel.choices.pressed(user, label))

    # -- records -----------------------------------------------------------------------

    def listing(self, title: str) -> Doc:
        with self.app.store.snapshot() as tx:
            [found] = [doc for doc in tx.all(orders.LISTINGS) if doc["title_zh"] == title]
        return found

    def set_stock(self, title: str, available: int, total: int) -> Doc:
        """Set a listing's units left and in all (as if staff had taken some); the listing."""
        doc = self.listing(title)
        with self.app.store.transaction() as tx:
            doc["available"], doc["stock"] = available, total
            doc["ver"] = int(doc.get("ver", 0)) + 1  # the hold counter takes the new figures
            tx.put(orders.LISTINGS, doc["id"], doc)
        return doc

    def accounting(self, title: str) -> dict[str, int]:
        with self.app.store.snapshot() as tx:
            return stock.accounting(tx, self.app.holds, self.listing(title)["id"])

    def orders(self) -> list[Doc]:
        with self.app.store.snapshot() as tx:
            return tx.all(orders.ORDERS)

    def person(self, user: str) -> Doc:
        with self.app.store.snapshot() as tx:
            found = people.person_at(tx, f"console:{user}")
        assert found is not None
        return found


def texts(messages: list[dict[str, Any]], to: str | None = None) -> str:
    return "\n".join(m.get("text", "") for m in messages if to is None or m.get("to") == to)


def buttons(messages: list[dict[str, Any]], to: str | None = None) -> list[str]:
    return [
        label
        for m in messages
        if to is None or m.get("to") == to
        for row in m.get("buttons", [])
        for label in row
    ]
