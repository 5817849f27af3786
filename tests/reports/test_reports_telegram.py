"""A report on the real Telegram stack: a pin and a photo in chat, a patrol offer, the closed loop.

python-telegram-bot polls the fake Bot API; offers, notes and follow-ups go through a worker's
``TelegramDelivery`` on the real Redis (``tests/telegram/story_stack.py``).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "telegram"))

from people_sim import Person  # noqa: E402
from story_stack import Stack, story_stack, texts  # noqa: E402

from assistant.bootstrap import App  # noqa: E402
from assistant.clock import to_iso  # noqa: E402
from assistant.services import people, reports  # noqa: E402
from assistant.services.people import imports  # noqa: E402
from assistant.services.reports import places  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

REPORTER, FIRST, SECOND, COORDINATOR = 851, 852, 853, 850
HOUSEHOLDS = """grid_id,grid_name,complex,building,unit,households
tg-3,山水湾三网格,山水湾,9,1,6
"""
VOLUNTEERS = f"""name,address,grid_id,skills,teams,phone
石大伯,telegram:{FIRST},tg-3,patrol,老党员志愿服务队,13800003331
余阿姨,telegram:{SECOND},tg-3,patrol,老党员志愿服务队,13800003332
"""
PLACES = """id,grid_id,name_zh,name_en,kind,lat,lon
tg-3-gate,tg-3,山水湾北门,Shanshui Bay north gate,gate,25.07000,118.19000
"""
GATE_PIN = (25.07010, 118.19000)  # about 11 m from the north gate
REPORTER_WORDS = ("蔡奶奶", "13800003330", "楼道里堆满了纸箱")


def _community(app: App) -> None:
    now = app.clock.now()
    imports.import_households(app.store, HOUSEHOLDS)
    imports.import_volunteers(app.store, VOLUNTEERS, to_iso(now))
    places.import_places(app.store, PLACES, now)
    with app.unit() as tx:
        people.create_person(
            tx,
            name="蔡奶奶",
            address=f"telegram:{REPORTER}",
            language="zh_CN",
            now=to_iso(now),
            grid_id="tg-3",
            household={"complex": "山水湾", "building": "9", "unit": "1", "room": "101"},
            phone="13800003330",
        )
        coordinator = people.create_person(
            tx,
            name="网格员小邱",
            address=f"telegram:{COORDINATOR}",
            language="zh_CN",
            now=to_iso(now),
            roles=(people.RESIDENT, people.COORDINATOR),
        )
        coordinator["coordinator_grids"] = ["tg-3"]
        tx.put(people.PEOPLE, coordinator["id"], coordinator)


@pytest.fixture
async def stack(redis_url: str) -> AsyncIterator[Stack]:
    async with story_stack(redis_url, _community) as running:
        yield running


async def test_a_blocked_fire_escape_reported_over_telegram_goes_round_the_closed_loop(
    stack: Stack,
) -> None:
    fake = stack.fake
    cai = Person(fake, REPORTER, "蔡奶奶")
    first, second = Person(fake, FIRST, "石大伯"), Person(fake, SECOND, "余阿姨")
    # Given both patrol volunteers have opened the bot
    await first.says("/start")
    await second.says("/start")
    # When 蔡奶奶 reports a blocked fire escape: a pin, a photo, a note
    await cai.says("/report")
    await cai.presses("消防通道堵塞", expect=2)  # the place buttons, then the pin button
    before = len(cai.received())
    fake.send_location(cai.user, *GATE_PIN)
    await fake.wait_until(lambda: len(cai.received()) > before)
    before = len(cai.received())
    fake.send_photo(cai.user)
    await fake.wait_until(lambda: len(cai.received()) > before)
    filed = await cai.says("楼道里堆满了纸箱")
    [case] = _cases(stack)
    assert case["number"] in texts(filed)
    # Then both volunteers are offered the patrol, with place and count, never the reporter
    await stack.run_jobs()
    await fake.wait_until(lambda: all(_offered(p) for p in (first, second)))
    for volunteer in (first, second):
        offer = texts(volunteer.received())
        assert "消防通道堵塞" in offer and "山水湾北门" in offer
        assert not [word for word in REPORTER_WORDS if word in offer], offer
    # When the first accepts, the second's offer becomes "already taken"
    taken = await first.presses("我来接单")
    assert "纸箱" in texts(taken)  # the note is shown to the one who goes
    await stack.run_jobs()
    await fake.wait_until(lambda: "已经有志愿者接了" in fake.chat_messages(SECOND)[-1]["text"])
    # And after clearing the escape, the reporter hears the outcome
    await fake.wait_until(lambda: "已修好" in first.buttons())
    await first.presses("已修好")
    await stack.run_jobs()
    await fake.wait_until(lambda: "已经处理好了" in texts(cai.received()[-2:]))
    # An hour later she is asked whether it is solved; one tap closes the case
    await stack.travel(minutes=61)
    await fake.wait_until(lambda: "现在解决了吗" in texts(cai.received()))
    await cai.presses("解决了")
    assert _cases(stack, every=True)[0]["stage"] == "closed"
    # Nothing the volunteers ever got, before or after accepting, names the reporter
    seen = texts(first.received() + second.received())
    assert "蔡奶奶" not in seen and "13800003330" not in seen and "101" not in seen


def _offered(person: Person) -> bool:
    return any("我来接单" in str(s.markup) for s in person.received())


def _cases(stack: Stack, every: bool = False) -> list[dict[str, object]]:
    with stack.app.store.snapshot() as tx:
        hot = tx.all(reports.CASES)
        return [*hot, *tx.archived(reports.CASES)] if every else hot
