"""A console in JSON-lines mode over in-memory twins, with the care flows and a fake dispatch."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from console_world import ConsoleWorld

import handlers
from assistant import demo
from assistant.bootstrap import App, build_for_tests
from assistant.clock import FakeClock
from assistant.conversation.engine import Engine
from assistant.conversation.vocabulary import Incoming, Kind, make_address
from assistant.jobs.firing import bound
from assistant.services import care, people
from assistant.store.base import Doc, Tx
from handlers import care as care_handlers

# 09:00 on Monday 1 June 2026 in the community's zone (Asia/Shanghai).
MONDAY_9 = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)


@dataclass
class FakeDispatch:
    """Records what the care side asks of dispatch; opens no offers."""

    opened: list[dict[str, Any]] = field(default_factory=list)
    cancelled: list[tuple[str, str]] = field(default_factory=list)
    moved: list[tuple[str, datetime]] = field(default_factory=list)

    def open_task(self, tx: Tx, app: App, **task: Any) -> str:
        self.opened.append(task)
        return f"tk-{len(self.opened)}"

    def cancel_task(self, tx: Tx, app: App, task_id: str, reason: str) -> None:
        self.cancelled.append((task_id, reason))

    def reschedule_task(self, tx: Tx, app: App, task_id: str, starts_at: datetime) -> None:
        self.moved.append((task_id, starts_at))


def engine_for(app: App) -> Engine:
    """The product's engine, with the care flows added until the lead wires them in."""
    if any(flow.name == care_handlers.BOOK.name for flow in handlers.FLOWS):
        return handlers.build_engine(app)
    return Engine(
        app,
        handlers.FLOWS + care_handlers.FLOWS,
        {**handlers.ACTIONS, **care_handlers.ACTIONS},
    )


HOME_CARE = "上门照料 · 免费"
LATER_TIMES = ("更晚的时间", "Later times")
OTHER_DAY = ("另选一天", "Another day")


async def pick(t: Transcript, user: str, slot: str) -> list[dict[str, Any]]:
    """At the question "when?", choose ``slot`` (``明天 09:00``) as a person would.

    The day first (``明天``, or through 另选一天 for a later date such as
    ``6月4日 周四``), then the time, paging on with 更晚的时间 until it shows.
    """
    day, _, clock = slot.rpartition(" ")
    if day not in t.labels(user):
        other = [label for label in OTHER_DAY if label in t.labels(user)]
        assert other, f"{day!r} is not offered to {user}: {t.labels(user)}"
        await t.press(user, other[0])
    await t.press(user, day)
    for _ in range(5):
        if clock in t.labels(user):
            return await t.press(user, clock)
        later = [label for label in LATER_TIMES if label in t.labels(user)]
        assert later, f"{clock!r} is not offered on {day}: {t.labels(user)}"
        await t.press(user, later[0])
    raise AssertionError(f"{slot!r} never showed")


async def booked(t: Transcript, user: str = "lin", slot: str = "明天 09:00") -> str:
    """``user`` books a home care visit at ``slot`` with no notes; the booking's id."""
    await t.say(user, "/care")
    await t.press(user, HOME_CARE)
    await pick(t, user, slot)
    await t.press(user, "对，就是这里")
    await t.press(user, "跳过")
    await t.press(user, "确认预约")
    return str(t.bookings()[-1]["id"])


class Transcript(ConsoleWorld):
    """Residents, volunteers and the coordinator of the demo community at one console."""

    def __init__(self, app: App | None = None, dispatch: FakeDispatch | None = None) -> None:
        self.clock = FakeClock(MONDAY_9)
        app = app or build_for_tests(clock=self.clock, dispatch=dispatch)
        demo.load(app.store, "2026-06-01T00:00:00+00:00")
        super().__init__(app, engine_for(app))

    async def forge(self, user: str, value: str) -> list[dict[str, Any]]:
        """Press a raw button value the user was never shown (a stale or forged button)."""
        incoming = Incoming(sender=make_address("console", user), kind=Kind.PRESS, press=value)
        out = await self.engine.handle(incoming)
        return [{"to": m.to.partition(":")[2], "text": m.reply.text} for m in out]

    async def race(self, *moves: tuple[str, str]) -> list[list[dict[str, Any]]]:
        """Several people press at the same moment; each gets their own replies."""

        async def one(user: str, label: str) -> list[dict[str, Any]]:
            value = self._value(user, label)
            incoming = Incoming(sender=make_address("console", user), kind=Kind.PRESS, press=value)
            out = await self.engine.handle(incoming)
            return [
                {
                    "to": m.to.partition(":")[2],
                    "text": m.reply.text,
                    "buttons": [[c.label for c in row] for row in m.reply.choices],
                }
                for m in out
            ]

        results = await asyncio.gather(*(one(user, label) for user, label in moves))
        self.app.queue.run_all(bound(self.app))  # type: ignore[attr-defined]
        return list(results)

    def _value(self, user: str, label: str) -> str:
        """The value of the button ``user`` would press with this label."""
        choices = getattr(self.channel, "choices", None)
        if choices is not None:
            return str(choices.pressed(user, label))
        return self.channel.resolve(user, label)

    # -- looking at records ---------------------------------------------------------

    def person(self, user: str) -> Doc:
        with self.app.store.snapshot() as tx:
            found = people.person_at(tx, f"console:{user}")
        assert found is not None
        return found

    def bookings(self) -> list[Doc]:
        """Hot bookings."""
        with self.app.store.snapshot() as tx:
            return tx.all(care.BOOKINGS)

    def booking(self, booking_id: str) -> Doc:
        """A booking, hot or archived."""
        with self.app.store.snapshot() as tx:
            return tx.require(care.BOOKINGS, booking_id)

    def archived(self) -> list[Doc]:
        with self.app.store.snapshot() as tx:
            return list(tx.archived(care.BOOKINGS))


def texts(messages: list[dict[str, Any]], to: str | None = None) -> str:
    """All texts of some output lines, joined, optionally only those to one user."""
    return "\n".join(m.get("text", "") for m in messages if to is None or m.get("to") == to)


def buttons(messages: list[dict[str, Any]], to: str | None = None) -> list[str]:
    """Every button label in some output lines."""
    return [
        label
        for m in messages
        if to is None or m.get("to") == to
        for row in m.get("buttons", [])
        for label in row
    ]
