"""The demo community at one console, with a few more households, for the notice stories."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from console_world import ConsoleWorld

from assistant import demo
from assistant.bootstrap import App, build_for_tests
from assistant.clock import FakeClock
from assistant.config import defaults
from assistant.conversation.vocabulary import Incoming, Kind, make_address
from assistant.services import notices, people
from assistant.store.base import Doc
from handlers import build_engine

# 09:00 on Monday 1 June 2026 in the community's zone (Asia/Shanghai).
MONDAY_9 = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
NOW = "2026-06-01T00:00:00+00:00"

EXTRA = (
    # (console user or None, name, grid, complex, building, unit, room)
    ("linye", "林爷爷", "jx-1", "锦绣家园", "1", "1", "302"),  # 林奶奶's household
    ("zhao", "赵阿姨", "jx-1", "锦绣家园", "1", "2", "501"),
    (None, "钱奶奶", "jx-1", "锦绣家园", "1", "2", "601"),  # nobody to write to
    ("sun", "孙大爷", "jx-2", "锦绣家园", "2", "1", "101"),
    ("zhou", "周阿姨", "jx-2", "锦绣家园", "3", "1", "202"),
)


class World(ConsoleWorld):
    """One console in JSON-lines mode over in-memory twins, with the real dispatch."""

    def __init__(
        self, sections: dict[str, dict[str, Any]] | None = None, **notice_settings: Any
    ) -> None:
        self.clock = FakeClock(MONDAY_9)
        settings = defaults()
        if notice_settings:
            settings = settings.with_values(notices=notice_settings)
        if sections:
            settings = settings.with_values(**sections)
        self.app: App = build_for_tests(settings, clock=self.clock)
        demo.load(self.app.store, NOW)
        with self.app.store.transaction() as tx:
            for user, name, grid, complex_name, building, unit, room in EXTRA:
                people.create_person(
                    tx,
                    name=name,
                    address=f"console:{user}" if user else None,
                    language="zh_CN",
                    now=NOW,
                    grid_id=grid,
                    household={
                        "complex": complex_name,
                        "building": building,
                        "unit": unit,
                        "room": room,
                    },
                )
        super().__init__(self.app, build_engine(self.app))

    def settle(self, rounds: int = 30) -> list[dict[str, Any]]:
        """Let a notice go out: a second at a time until nothing more is produced."""
        out: list[dict[str, Any]] = []
        for _ in range(rounds):
            produced = self.travel(seconds=1)
            out += produced
            with self.app.store.snapshot() as tx:
                sending = [n for n in tx.all(notices.NOTICES) if n["status"] == "sending"]
            if not sending and not produced:
                break
        return out

    async def act(self, user: str, value: str) -> list[dict[str, Any]]:
        """Press a button by its value (an action button from any message), then run the jobs."""
        incoming = Incoming(sender=make_address("console", user), kind=Kind.PRESS, press=value)
        replies = await self.engine.handle(incoming)
        answered = [
            {
                "to": m.to.partition(":")[2],
                "text": m.reply.text,
                "buttons": [[c.label for c in row] for row in m.reply.choices],
                "values": [[c.value for c in row] for row in m.reply.choices],
            }
            for m in replies
        ]
        self.seen += answered
        return answered + self.run_jobs()

    @staticmethod
    def label(messages: list[dict[str, Any]], start: str) -> str:
        """The first button label of these messages that starts with ``start``."""
        return next(
            label
            for m in messages
            for row in m.get("buttons", [])
            for label in row
            if label.startswith(start)
        )

    @staticmethod
    def first_notice(messages: list[dict[str, Any]]) -> str:
        """The label of the first notice's button in /notices."""
        return next(
            label
            for m in messages
            for row in m.get("buttons", [])
            for label in row
            if label.startswith("1. ")
        )

    def person(self, user: str) -> Doc:
        with self.app.store.snapshot() as tx:
            found = people.person_at(tx, f"console:{user}")
        assert found is not None
        return found

    def notice(self) -> Doc:
        with self.app.store.snapshot() as tx:
            return sorted(tx.all(notices.NOTICES), key=lambda n: n["created_at"])[-1]

    def rounds(self) -> list[Doc]:
        with self.app.store.snapshot() as tx:
            return tx.all(notices.ROUNDS)

    def round_of(self, building: str) -> Doc:
        [found] = [r for r in self.rounds() if r["building"] == building]
        return found

    def offer_for(self, task_id: str, user: str) -> str:
        """The accept button value of ``user``'s offer of a task."""
        from assistant.conversation.buttons import OfferAnswer, OfferVerb
        from assistant.services.dispatch.records import OFFERS

        person = self.person(user)
        with self.app.store.snapshot() as tx:
            [offer] = [
                o for o in tx.find(OFFERS, task_id=task_id) if o["person_id"] == person["id"]
            ]
        return OfferAnswer(OfferVerb.ACCEPT, offer["id"]).encode()


def texts(messages: list[dict[str, Any]], to: str | None = None) -> str:
    return "\n".join(m.get("text", "") for m in messages if to is None or m.get("to") == to)


def to(messages: list[dict[str, Any]], user: str) -> list[dict[str, Any]]:
    return [m for m in messages if m.get("to") == user]


async def write_notice(
    w: World, grids: tuple[str, ...] = ("锦绣家园一网格", "锦绣家园二网格"), ack: bool = True
) -> list[dict[str, Any]]:
    """The coordinator writes a notice to some grids and stops at the preview."""
    await w.say("grid", "/notice")
    for grid in grids:
        await w.press("grid", grid)
    await w.press("grid", "下一步")
    await w.say("grid", "明天上午9点到11点停水，请提前储水。")
    await w.press("grid", "写完了")
    await w.press("grid", "跳过")
    if not ack:
        return await w.press("grid", "不用确认")
    await w.press("grid", "需要确认")
    return await w.press("grid", "明天 18:00")
