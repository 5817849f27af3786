"""A notice on the real Telegram stack: "收到" pressed over HTTP, the rate, a door-knock round.

python-telegram-bot polls the fake Bot API (``tests/telegram/fake_bot_api.py``); the
outbox's messages (copies, offers, cards, alerts) go through a worker's
``TelegramDelivery`` on the real Redis, as in production; time is a FakeClock that the
test moves, running the scheduler and the jobs it hands out after each step.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram_world import Person, Stack, story_stack, texts

from assistant.bootstrap import App
from assistant.clock import to_iso
from assistant.services import notices, people
from assistant.services.people import imports

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

COORDINATOR, VOLUNTEER = 800, 820
HOUSEHOLDS = """grid_id,grid_name,complex,building,unit,households
tg-1,水晶城三网格,水晶城,C,1,6
"""
VOLUNTEERS = f"""name,address,grid_id,skills,teams,phone
孙志强,telegram:{VOLUNTEER},tg-1,care;delivery,老党员志愿服务队,13800000020
"""
RESIDENTS = (
    # (uid or None, name, room): two households tap, three stay silent
    (811, "高阿姨", "101"),
    (812, "高师傅", "101"),  # the same household as 高阿姨
    (813, "罗大爷", "102"),
    (814, "彭奶奶", "201"),
    (None, "谢爷爷", "202"),  # no chat: only a door-knock reaches him
    (816, "邓阿姨", "301"),
)


def _community(app: App) -> None:
    now = to_iso(app.clock.now())
    imports.import_households(app.store, HOUSEHOLDS)
    imports.import_volunteers(app.store, VOLUNTEERS, now)
    with app.store.transaction() as tx:
        for uid, name, room in RESIDENTS:
            people.create_person(
                tx,
                name=name,
                address=f"telegram:{uid}" if uid else None,
                language="zh_CN",
                now=now,
                grid_id="tg-1",
                household={"complex": "水晶城", "building": "C", "unit": "1", "room": room},
            )
        author = people.create_person(
            tx,
            name="网格员小何",
            address=f"telegram:{COORDINATOR}",
            language="zh_CN",
            now=now,
            roles=(people.RESIDENT, people.COORDINATOR),
        )
        author["coordinator_grids"] = ["tg-1"]
        tx.put(people.PEOPLE, author["id"], author)


@pytest.fixture
async def stack(redis_url: str) -> AsyncIterator[Stack]:
    async with story_stack(redis_url, _community) as running:
        yield running


async def test_a_notice_acknowledged_over_telegram_then_a_door_knock_round(stack: Stack) -> None:
    fake = stack.fake
    author = Person(fake, COORDINATOR, "小何")
    residents = {uid: Person(fake, uid, name) for uid, name, _ in RESIDENTS if uid}
    volunteer = Person(fake, VOLUNTEER, "孙志强")

    # Given the volunteer has opened the bot (imported volunteers are reachable once they write)
    await volunteer.says("/start")
    # And the coordinator writes a notice needing "收到", with a typed deadline
    await author.says("/notice")
    await author.presses("水晶城三网格")
    await author.presses("下一步")
    await author.says("明天上午9点到11点停水，请提前储水。")
    await author.presses("写完了")
    await author.presses("跳过")
    await author.presses("需要确认")
    preview = await author.says("明天 18:00")
    assert "6 户、6 人" in texts(preview)  # 谢爷爷's household has no chat: 1 unreachable
    assert "1 户联系不上" in texts(preview)
    # When she sends it and the fan-out runs
    await author.presses("发送")
    for _ in range(10):
        await stack.travel(seconds=1)
    # Then every resident with a chat got one copy with one "收到" button
    for uid, person in [*residents.items(), (VOLUNTEER, volunteer)]:
        copies = [s for s in person.received() if "停水" in s.text]
        assert len(copies) == 1, uid
        assert person.buttons() == ["收到"]

    # When members of two households press "收到" over HTTP (and a second member of the first),
    # and the volunteer for his own
    await volunteer.presses("收到")
    first = await residents[811].presses("收到")
    await residents[813].presses("收到")
    again = await residents[812].presses("收到")
    assert "已经记下您家看过了" in texts(first)
    assert "已经有人确认过了" in texts(again)
    # Then the coordinator's /notices shows the rate of the grid
    listed = await author.says("/notices")
    assert "水晶城三网格：3/6 户（50%）" in texts(listed)
    await author.presses("不发了")

    # When the deadline passes: the three silent households become one round, offered
    await stack.travel(hours=34)
    with stack.app.store.snapshot() as tx:
        [found] = tx.all(notices.ROUNDS)
    assert [h["home"]["room"] for h in found["households"]] == ["201", "202", "301"]
    offer = fake.last_with_buttons(VOLUNTEER)
    assert "敲门行动（3户）" in offer["text"] and "201" not in offer["text"]
    # And the volunteer accepts over Telegram
    await volunteer.presses("我来接单")
    await stack.run_jobs()
    cards = [m for m in fake.chat_messages(VOLUNTEER) if "敲门行动 第" in m.get("text", "")]
    assert len(cards) == 3 and "彭奶奶" in cards[0]["text"]

    # When he records all well, not home, and needs help → supplies with the buttons
    async def press(card: dict[str, Any], label: str) -> None:
        before = len(volunteer.received())
        fake.press(volunteer.user, card, label)
        await fake.wait_until(lambda: len(volunteer.received()) > before)

    await press(cards[0], "一切都好")
    await press(cards[1], "没人在家")
    await press(cards[2], "需要帮助")
    await press(fake.last_with_buttons(VOLUNTEER), "生活物资")
    await stack.run_jobs()
    said = texts(volunteer.received())
    assert "一切都好" in said and "没人在家" in said
    # Then the coordinator was alerted at once, with the full address
    alert = texts(author.received())
    assert "水晶城 C栋 1单元 301（邓阿姨）" in alert
    with stack.app.store.snapshot() as tx:
        checks = [h["check"] for h in tx.require(notices.ROUNDS, found["id"])["households"]]
    assert checks == ["well", "away", "help"]
