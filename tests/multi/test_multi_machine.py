"""The multi-machine profile: PostgreSQL, Redis (and RabbitMQ) shared by processes that share nothing else.

One machine runs the bot (``assistant up`` on the Telegram channel, no
workers, the one scheduler); two more run one ``assistant worker`` each; four
booking processes stand for bots on further machines. Each has its own data
folder. A resident books a home care visit through Telegram and a volunteer
takes it; then 100 bookings for one day with 80 places race in, and a worker is
SIGKILLed in the middle of dispatching them. Exactly 80 are booked, each is
dispatched once, and no volunteer is offered the same task twice.

It runs twice: with the job messages on Redis, and on RabbitMQ (``[queue]
url``) where the machine has it. On Redis the killed worker's jobs come back
when their lease lapses, shortened here to 20 s (``[workers] lease_seconds``;
90 s by default); on RabbitMQ its unacknowledged messages come back as soon as
its connection drops.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fake_bot_api import SEND_METHODS, FakeBotApi
from machines import SPAWN_CONTEXT, booker_main, machine_env, run, start
from people_sim import Person
from pg_server import PostgresServer

from assistant.clock import to_iso
from assistant.demo import HOUSEHOLDS
from assistant.services import care, dispatch, people
from assistant.store.postgres import PostgresStore

pytestmark = pytest.mark.slow

PLACES = 80
BURST = 100
BOOKERS = 4
WORKER_THREADS = 4
VOLUNTEERS = {"jx-1": range(9001, 9005), "jx-2": range(9005, 9009), "ssw-1": range(9009, 9013)}
SETTINGS = f"""
[workers]
processes = 0
threads = {WORKER_THREADS}
scheduler_interval_seconds = 0.2
lease_seconds = 20.0

[services.home_care]
name_zh = "上门照料"
name_en = "Home care visit"
skill = "care"
price = 0
duration_minutes = 60
opens = 0
closes = 24
notice_minutes = 60
daily_capacity = {PLACES}
needs_approval = false
"""


def shared_settings(
    tmp_path: Path, fake: FakeBotApi, store_url: str, redis_url: str, queue_url: str = ""
) -> dict[str, str]:
    """What every machine is told: the servers' addresses, and nothing else in common."""
    (tmp_path / "settings.toml").write_text(SETTINGS, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_SETTINGS=str(tmp_path / "settings.toml"),
        ASSISTANT_STORAGE__URL=store_url,
        ASSISTANT_REDIS__URL=redis_url,
        ASSISTANT_QUEUE__URL=queue_url,
        ASSISTANT_TELEGRAM__TOKEN=fake.token,
        ASSISTANT_TELEGRAM__BASE_URL=fake.base_url,
        ASSISTANT_TELEGRAM__BASE_FILE_URL=fake.base_file_url,
        ASSISTANT_TELEGRAM__MAX_CHAT_MESSAGES_PER_SECOND="200",
        ASSISTANT_TELEGRAM__MAX_MESSAGES_PER_SECOND="200",
    )
    return env


def add_volunteers(store: PostgresStore, fake: FakeBotApi) -> None:
    """Twelve care volunteers on Telegram, four in each of three micro-grids."""
    now = to_iso(datetime.now(UTC))
    with store.transaction() as tx:
        for grid_id, uids in VOLUNTEERS.items():
            for uid in uids:
                fake.user(uid, f"志愿者{uid}")  # each has opened the bot
                person = people.create_person(
                    tx,
                    name=f"志愿者{uid}",
                    address=f"telegram:{uid}",
                    language="zh_CN",
                    now=now,
                    roles=("resident", "volunteer"),
                    grid_id=grid_id,
                    phone="13800000000",
                )
                person["volunteer"] = {
                    "status": "approved",
                    "skills": ["care"],
                    "teams": ["老党员志愿服务队"],
                    "grid_id": grid_id,
                    "hours_per_week": 40,
                    "on_duty": True,
                    "since": now,
                    "taken": [],
                }
                tx.put(people.PEOPLE, person["id"], person)


def add_residents(store: PostgresStore, fake: FakeBotApi) -> list[str]:
    """The hundred residents of the burst, on Telegram, spread over the three grids."""
    now, made = to_iso(datetime.now(UTC)), []
    with store.transaction() as tx:
        for number in range(BURST):
            uid = 20000 + number
            fake.user(uid, f"居民{number}")
            person = people.create_person(
                tx,
                name=f"居民{number}",
                address=f"telegram:{uid}",
                language="zh_CN",
                now=now,
                grid_id=list(VOLUNTEERS)[number % 3],
                household={"complex": "锦绣家园", "building": "1", "unit": "1", "room": "101"},
            )
            made.append(str(person["id"]))
    return made


ACCEPT = "我来接单"


def offers_sent(fake: FakeBotApi) -> list[int]:
    """The chat of every offer message the bot sent (a first send with the accept button)."""
    return [
        sent.chat_id
        for sent in list(fake.sent)
        if sent.method in SEND_METHODS
        and any(
            button.get("text") == ACCEPT
            for row in (sent.markup or {}).get("inline_keyboard", [])
            for button in row
        )
    ]


def tx_people(store: PostgresStore) -> list[dict[str, Any]]:
    with store.snapshot() as tx:
        return tx.all(people.PEOPLE)


async def poll(check: Callable[[], Any], limit: float, what: str) -> None:
    """Wait until ``check()`` is truthy, looking every 0.2 s for at most ``limit`` seconds."""
    deadline = asyncio.get_running_loop().time() + limit
    while not await asyncio.to_thread(check):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: not within {limit} s")
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("broker", ["redis", "rabbitmq"])
async def test_two_workers_a_scheduler_and_the_bot_share_only_postgresql_and_redis(
    tmp_path: Path,
    fake: FakeBotApi,
    postgres_server: PostgresServer,
    redis_url: str,
    broker: str,
    request: pytest.FixtureRequest,
) -> None:
    # Given a PostgreSQL database made by `assistant db upgrade`, the micro-grids imported
    # and twelve volunteers, and every machine told only where the servers are (the job
    # messages on Redis, or on RabbitMQ)
    queue_url = request.getfixturevalue("rabbit_url") if broker == "rabbitmq" else ""
    store_url = postgres_server.create_database("county")
    env = shared_settings(tmp_path, fake, store_url, redis_url, queue_url)
    admin = machine_env(env, tmp_path / "admin")
    assert "documents and archive" in run(admin, "db", "upgrade")
    (tmp_path / "households.csv").write_text(HOUSEHOLDS, encoding="utf-8")
    run(admin, "import", "households", str(tmp_path / "households.csv"))
    store = PostgresStore(store_url)
    add_volunteers(store, fake)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        bot = start(env, tmp_path / "bot", "up")  # Telegram channel and the one scheduler
        workers = [start(env, tmp_path / f"worker{n}", "worker") for n in (1, 2)]
        processes += [bot, *workers]
        await fake.wait_until(lambda: bool(fake.commands), 60)

        # When a resident registers and books a home care visit through Telegram
        resident = Person(fake, 4343, "梅", "zh-hans")
        await resident.says("/start", expect=1, timeout=60)
        await resident.presses("✓ 中文", timeout=30)
        await resident.says("梅阿姨", timeout=30)
        await resident.presses("锦绣家园", timeout=30)
        await resident.presses("1栋", timeout=30)
        await resident.presses("2单元", timeout=30)
        await resident.says("502", expect=2, timeout=30)
        await resident.presses("跳过", timeout=30)
        await resident.presses("同意", expect=2, timeout=30)
        await resident.says("/care", timeout=30)
        await resident.presses("上门照料 · 免费", timeout=30)
        await resident.presses(resident.buttons()[0], timeout=30)
        await resident.presses(resident.buttons()[0], timeout=30)
        await resident.presses("对，就是这里", timeout=30)
        await resident.presses("跳过", timeout=30)
        booked = await resident.presses("确认预约", timeout=30)
        assert "约好了" in booked[-1].text
        # Then a worker offers it to three volunteers of her micro-grid on Telegram
        await poll(lambda: len(offers_sent(fake)) == 3, 60, "the story's three offers")
        [offered, *_] = [uid for uid in VOLUNTEERS["jx-1"] if any(fake.sent_to(uid))]
        # And the first volunteer to accept, through the bot machine, gets the task
        volunteer = Person(fake, offered, f"志愿者{offered}")
        thanks = await volunteer.presses(ACCEPT, timeout=30)
        assert any("谢谢您接单" in sent.text for sent in thanks)
        with store.snapshot() as tx:
            [task] = tx.all(dispatch.TASKS)
            assert task["status"] == dispatch.ASSIGNED

        # When 100 bookings for one day of 80 places come from four more machines at once
        residents = add_residents(store, fake)
        day = datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0)
        day += timedelta(days=4)
        go, results = SPAWN_CONTEXT.Event(), SPAWN_CONTEXT.Queue()
        bookers = [
            SPAWN_CONTEXT.Process(
                target=booker_main,
                args=(
                    machine_env(env, tmp_path / f"booker{n}"),
                    residents[n::BOOKERS],
                    to_iso(day),
                    go,
                    results,
                ),
            )
            for n in range(BOOKERS)
        ]
        for booker in bookers:
            booker.start()
        go.set()
        # And a worker is SIGKILLed while their offers are being sent
        await poll(lambda: len(offers_sent(fake)) >= 3 + 40, 120, "the burst's first offers")
        workers[0].kill()
        outcome = [await asyncio.to_thread(results.get, True, 120) for _ in bookers]
        for booker in bookers:
            booker.join(30)
            assert booker.exitcode == 0

        # Then exactly the day's places were booked, and the rest were told it is full
        assert sum(won for won, _ in outcome) == PLACES
        assert sum(full for _, full in outcome) == BURST - PLACES
        # And every booking is dispatched once: one task, three offers, each sent once
        expected = 3 * (PLACES + 1)
        address_of = {p["id"]: p["addresses"][0] for p in tx_people(store) if p["addresses"]}

        def unsent() -> Counter[int]:
            """The offers in the store whose message has not reached its chat yet, by chat."""
            with store.snapshot() as tx:
                stored = tx.all(dispatch.OFFERS)
            per_chat = Counter(int(address_of[o["person_id"]].split(":")[1]) for o in stored)
            return per_chat - Counter(offers_sent(fake)) + Counter({0: expected - len(stored)})

        # (waiting for each offer, not for as many sends: a few may have gone twice)
        await poll(lambda: not unsent(), 240, "every offer of the burst")
        with store.snapshot() as tx:
            bookings = [b for b in tx.all(care.BOOKINGS) if b["start"] == to_iso(day)]
            assert len(bookings) == PLACES
            assert care.taken(tx, "home_care")[day.date()] == PLACES
            tasks = tx.all(dispatch.TASKS)
            assert len(tasks) == PLACES + 1
            offers = tx.all(dispatch.OFFERS)
        assert len(offers) == expected
        pairs = Counter((offer["task_id"], offer["person_id"]) for offer in offers)
        assert max(pairs.values()) == 1, "a volunteer was offered one task twice"
        assert Counter(offer["task_id"] for offer in offers) == dict.fromkeys(
            (task["id"] for task in tasks), 3
        )
        per_chat = Counter(int(address_of[o["person_id"]].split(":")[1]) for o in offers)
        sent = Counter(offers_sent(fake))
        # Every offer reached its volunteer. The worker SIGKILLed mid-burst may have died
        # between Telegram accepting a message and the send-once mark being written
        # (docs/TELEGRAM.md, "Sent once", "What remains"): each of its threads may have been
        # sending one such message, and only those may have gone twice.
        missing = per_chat - sent
        assert not missing, f"offers never sent: {dict(missing)}"
        extra = sent - per_chat
        assert sum(extra.values()) <= WORKER_THREADS, f"offers sent twice: {extra}"
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                await asyncio.to_thread(process.wait, 20)
            except subprocess.TimeoutExpired:
                process.kill()
        store.close()
