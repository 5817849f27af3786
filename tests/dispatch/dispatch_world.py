"""A small community for dispatch tests: grids, volunteers, a coordinator, helpers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from assistant.bootstrap import App, build_for_tests
from assistant.clock import FakeClock, to_iso
from assistant.config import defaults
from assistant.conversation.engine import Engine
from assistant.conversation.vocabulary import Address, Incoming, Kind, Outbound
from assistant.delivery import MemoryDelivery
from assistant.jobs.firing import bound
from assistant.jobs.scheduler import tick
from assistant.services import dispatch, people
from assistant.services.people import community
from assistant.store.base import Doc, Tx
from handlers import onboarding, volunteer

ADDRESS = "锦绣家园 1栋 2单元 302"
PHONE = "13911112222"
NOTES = "糖尿病，饭后要吃药"
RESIDENT_NAME = "林奶奶"
SECRETS = (ADDRESS, PHONE, NOTES, RESIDENT_NAME, "Jinxiu Garden bldg 1")

GRIDS = {
    "g1": ("锦绣家园一网格", "锦绣家园", ["g2"]),
    "g2": ("锦绣家园二网格", "锦绣家园", ["g1"]),
    "g3": ("水晶城一网格", "水晶城", []),
}

START = datetime(2026, 6, 1, 1, 0)  # FakeClock's default start (UTC)
TEST_KIND = dispatch.TaskKind(name="test", title_zh="测试", title_en="Test")
"""The kind of the tasks these tests open: registered, with no listener."""


def make_app(**dispatch_settings: Any) -> App:
    """An app of in-memory twins with small waves (2 people, 2 waves, 10 minutes)."""
    values = {"wave_size": 2, "waves": 2, "wave_minutes": 10.0, "safety_margin_minutes": 30}
    values.update(dispatch_settings)
    app = build_for_tests(defaults().with_values(dispatch=values))
    app.task_kinds.register(TEST_KIND)
    return app


def clock(app: App) -> FakeClock:
    assert isinstance(app.clock, FakeClock)
    return app.clock


def delivery(app: App) -> MemoryDelivery:
    assert isinstance(app.delivery, MemoryDelivery)
    return app.delivery


def add_grids(app: App, group_chat: bool = True) -> None:
    with app.store.transaction() as tx:
        for order, (grid_id, (name, complex_name, neighbours)) in enumerate(GRIDS.items()):
            grid: Doc = {"name": name, "neighbours": neighbours}
            if group_chat:
                grid["group_chat"] = f"console:group-{grid_id}"
            tx.put(community.GRIDS, grid_id, grid)
            unit = community.unit_id(complex_name, str(order + 1), "1")
            tx.put(
                community.UNITS,
                unit,
                {
                    "complex": complex_name,
                    "building": str(order + 1),
                    "unit": "1",
                    "grid_id": grid_id,
                    "households": 20,
                    "order": order,
                },
            )


def add_volunteer(
    tx: Tx,
    name: str,
    grid_id: str,
    skills: tuple[str, ...] = ("care",),
    *,
    status: str = "approved",
    on_duty: bool = True,
    reachable: bool = True,
    language: str = "zh_CN",
    taken: list[str] | None = None,
) -> str:
    address = f"console:{name}"
    roles = ("resident", "volunteer") if status == "approved" else ("resident",)
    person = people.create_person(
        tx,
        name=name,
        address=address,
        language=language,
        now=to_iso(START),
        roles=roles,
        grid_id=grid_id,
        phone="13800000000",
    )
    person["volunteer"] = {
        "status": status,
        "skills": sorted(skills),
        "teams": ["老党员志愿服务队"],
        "grid_id": grid_id,
        "hours_per_week": 4,
        "on_duty": on_duty,
        "since": to_iso(START),
        "taken": taken or [],
    }
    tx.put(people.PEOPLE, person["id"], person)
    if not reachable:
        people.set_reachable(tx, address, False)
    return str(person["id"])


def add_coordinator(tx: Tx, name: str = "网格员小周") -> str:
    person = people.create_person(
        tx,
        name=name,
        address=f"console:{name}",
        language="zh_CN",
        now=to_iso(START),
        roles=("resident", "coordinator"),
    )
    person["coordinator_grids"] = list(GRIDS)
    tx.put(people.PEOPLE, person["id"], person)
    return str(person["id"])


def open_care_task(
    app: App,
    grid_id: str = "g1",
    in_hours: float = 30,
    skill: str = "care",
    duration: int = 60,
    wave_minutes: float | None = None,
    requester_id: str = "p-resident",
) -> str:
    """Open a task as the booking side does, in one unit of work."""
    return open_care_tasks(app, [grid_id], in_hours, skill, duration, wave_minutes, requester_id)[0]


def open_care_tasks(
    app: App,
    grid_ids: list[str],
    in_hours: float = 30,
    skill: str = "care",
    duration: int = 60,
    wave_minutes: float | None = None,
    requester_id: str = "p-resident",
) -> list[str]:
    """Open one task per grid in a single unit of work (its first waves go out after commit)."""
    opened: list[str] = []
    with app.unit() as tx:
        for grid_id in grid_ids:
            task_id = dispatch.open_task(
                tx,
                app,
                kind="test",
                ref="b-1",
                skill=skill,
                grid_id=grid_id,
                starts_at=app.clock.now() + timedelta(hours=in_hours),
                duration_minutes=duration,
                summary={
                    "title_zh": "上门照料",
                    "title_en": "Home care visit",
                    "grid_name": GRIDS[grid_id][0],
                    "place": GRIDS[grid_id][1],
                },
                private={
                    "name": RESIDENT_NAME,
                    "address_zh": ADDRESS,
                    "address_en": "Jinxiu Garden bldg 1",
                    "phone": PHONE,
                    "notes": NOTES,
                },
                requester_id=requester_id,
                wave_minutes=wave_minutes,
            )
            opened.append(task_id)
    return opened


def settle(app: App) -> None:
    """Run every queued job and every due timer until nothing is left."""
    jobs = bound(app)
    for _ in range(50):
        ran = app.queue.run_all(jobs)  # type: ignore[attr-defined]
        if not tick(app) and not ran:
            return
    raise AssertionError("jobs kept queueing themselves")


def advance(app: App, **units: float) -> None:
    """Let time pass, then run whatever became due."""
    clock(app).advance(**units)
    settle(app)


def task(app: App, task_id: str) -> Doc:
    with app.store.snapshot() as tx:
        return tx.require(dispatch.TASKS, task_id)


def offers(app: App, task_id: str, **equals: Any) -> list[Doc]:
    with app.store.snapshot() as tx:
        return tx.find(dispatch.OFFERS, task_id=task_id, **equals)


def person_id_of(app: App, address: str) -> str:
    with app.store.snapshot() as tx:
        person = people.person_at(tx, address)
    assert person is not None
    return str(person["id"])


def sent_to(messages: list[Outbound], address: str) -> list[Outbound]:
    return [m for m in messages if m.to == address]


def engine(app: App) -> Engine:
    return Engine(app, (onboarding.FLOW, *volunteer.FLOWS), volunteer.ACTIONS)


async def press(eng: Engine, address: str, value: str) -> list[Outbound]:
    return await eng.handle(Incoming(sender=Address(address), kind=Kind.PRESS, press=value))


async def say(eng: Engine, address: str, text: str) -> list[Outbound]:
    return await eng.handle(Incoming.from_text(Address(address), text))


def button(messages: list[Outbound], prefix: str) -> str:
    """The value of the first button starting with ``prefix``."""
    for message in messages:
        for row in message.reply.choices:
            for choice in row:
                if choice.value.startswith(prefix):
                    return choice.value
    raise AssertionError(f"no button {prefix!r} in {[m.reply.text for m in messages]}")
