"""/forget forgets: every record keeps only a placeholder, what is to come is cancelled.

Fast twin of ``test_forget_on_disk.py``: the same story on the in-memory store,
with the real care and dispatch services and the outbox run in-process.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from console_transcript import Transcript, texts

from assistant.bootstrap import build_for_tests
from assistant.clock import FakeClock, to_iso
from assistant.jobs import timers
from assistant.jobs.firing import bound
from assistant.jobs.scheduler import tick
from assistant.services import care, dispatch, people
from assistant.services.care import records as care_records
from assistant.services.people import privacy
from assistant.store.memory import MemoryStore

NAME = "甄秘珍"
PHONE = "13912345678"
ROOM = "QZ9431"
NOTES = "对芒果过敏XYZ"
COMMENT = "小陈很耐心ABC"
SECRETS = (NAME, PHONE, ROOM, NOTES, COMMENT)


class World:
    """The demo community at a console, with the real dispatch and the outbox run in-process."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.store = MemoryStore()
        self.t = Transcript(build_for_tests(store=self.store, clock=self.clock))
        self.app = self.t.app

    async def run_jobs(self) -> list[dict[str, Any]]:
        start = self.t.out.tell()
        self.app.queue.run_all(bound(self.app))  # type: ignore[attr-defined]
        self.t.out.seek(start)
        produced = [json.loads(line) for line in self.t.out.read().splitlines() if line]
        self.t.out.seek(0, 2)
        return produced

    async def onboard(self, user: str) -> None:
        t = self.t
        await t.say(user, "/start")
        await t.press(user, "✓ 中文")
        await t.say(user, NAME)
        await t.press(user, "锦绣家园")
        await t.press(user, "1栋")
        await t.press(user, "2单元")
        await t.say(user, ROOM)
        await t.say(user, PHONE)
        await t.press(user, "同意")

    def book(self, person_id: str, days: int) -> dict[str, Any]:
        """A confirmed home care visit ``days`` from now at 10:00 local, with health notes."""
        zone = self.app.settings.timezone
        local = (self.clock.now() + timedelta(days=days)).astimezone(zone)
        start = local.replace(hour=10, minute=0, second=0, microsecond=0)
        with self.store.snapshot() as tx:
            household = tx.require(people.PEOPLE, person_id)["household"]
        draft = care_records.Draft(
            service="home_care",
            person_id=person_id,
            booked_by=person_id,
            via=care_records.CHAT,
            start=to_iso(start),
            household=household,
            notes=NOTES,
        )
        with self.app.unit() as tx:
            booking = care.book(tx, self.app, draft, self.clock.now())
        return booking

    def everything(self) -> str:
        """Every document the store holds, hot and archived, as one text."""
        return json.dumps([self.store.hot, self.store.cold], ensure_ascii=False)


async def test_forget_leaves_nothing_of_the_person_in_any_record() -> None:
    w = World()
    await w.onboard("zq")
    person_id = people_id(w, "zq")
    # Given a visit that was done and rated with a comment, and a future one a volunteer took
    done = w.book(person_id, days=1)
    await w.run_jobs()
    take(w, done["task_id"])
    finish(w, done)
    future = w.book(person_id, days=3)
    await w.run_jobs()
    volunteer_id = take(w, future["task_id"])
    told_before = await w.run_jobs()
    assert NOTES in w.everything() and NAME in w.everything()
    # When the person asks to be forgotten
    await w.t.say("zq", "/forget")
    out = await w.t.press("zq", "确定删除")
    told = await w.run_jobs()
    assert "删除" in texts(out, "zq")
    # Then not one of their strings is left in any record, hot or archived
    everything = w.everything()
    for secret in (*SECRETS, "console:zq"):
        assert secret not in everything, secret
    # And the future booking is cancelled, its place freed, its task withdrawn
    with w.store.snapshot() as tx:
        assert tx.require(care.BOOKINGS, future["id"])["status"] == care_records.CANCELLED
        assert tx.require(dispatch.TASKS, future["task_id"])["status"] == dispatch.CANCELLED
        placeholder = tx.require(people.PEOPLE, person_id)
    assert placeholder["forgotten"] and "language" not in placeholder
    # And the volunteer and the coordinator were told, without the person's details
    volunteer = volunteer_address(w, volunteer_id)
    assert any(m["to"] == volunteer for m in told), told
    assert any(m["to"] == "grid" and "删除了个人信息" in m["text"] for m in told), told
    for message in told:
        for secret in SECRETS:
            assert secret not in message.get("text", ""), message
    assert told_before  # the volunteer had been given the details on accept


async def test_forget_cancels_messages_still_waiting_for_the_person() -> None:
    w = World()
    await w.onboard("zq")
    person_id = people_id(w, "zq")
    # Given a reminder to the person waiting in the outbox and a note about them to a coordinator
    from assistant.conversation.vocabulary import Outbound, Reply, make_address
    from assistant.jobs import outbox

    now = w.clock.now()
    with w.store.transaction() as tx:
        outbox.post(
            tx,
            Outbound(make_address("console", "zq"), Reply(NOTES)),
            now,
            due=now + timedelta(hours=1),
        )
        outbox.post(
            tx,
            Outbound(make_address("console", "grid"), Reply(f"{NAME} 打过电话")),
            now,
            due=now + timedelta(hours=1),
        )
    # When the person is forgotten
    privacy.forget(w.app, person_id)
    # Then the message to them is cancelled, and the note to the coordinator no longer names them
    w.clock.advance(hours=2)
    tick(w.app)
    sent = await w.run_jobs()
    assert [m["to"] for m in sent] == ["grid"]
    assert NAME not in sent[0]["text"]
    assert NAME not in w.everything() and NOTES not in w.everything()


async def test_sent_messages_keep_who_when_and_which_template_but_no_body() -> None:
    w = World()
    await w.onboard("zq")
    person_id = people_id(w, "zq")
    w.book(person_id, days=2)
    await w.run_jobs()
    with w.store.snapshot() as tx:
        sent = [t for t in tx.archived(timers.TIMERS) if t["job"] == "outbox.deliver"]
    assert sent, "nothing was sent"
    for timer in sent:
        (kept,) = timer["args"]
        assert set(kept) == {"to", "language", "template", "key"}
        assert timer["status"] == timers.DONE and timer["done_at"]
    assert any(t["args"][0]["template"] == "dispatch.offer" for t in sent), sent


def people_id(w: World, user: str) -> str:
    with w.store.snapshot() as tx:
        person = people.person_at(tx, f"console:{user}")
    assert person is not None
    return str(person["id"])


def take(w: World, task_id: str) -> str:
    """The first volunteer offered the task accepts it; returns their id."""
    with w.app.unit() as tx:
        offer = tx.find(dispatch.OFFERS, task_id=task_id, status=dispatch.OFFER_OPEN)[0]
        dispatch.accept(tx, w.app, offer["id"], offer["person_id"])
    return str(offer["person_id"])


def finish(w: World, booking: dict[str, Any]) -> None:
    """The visit is done and the resident rates it with a comment."""
    from assistant.clock import from_iso
    from assistant.services.care import followups as care_followups

    with w.store.snapshot() as tx:
        task = tx.require(dispatch.TASKS, booking["task_id"])
    w.clock.advance(from_iso(task["starts_at"]) - w.clock.now() - timedelta(minutes=30))
    for name in ("on_way", "arrived", "done"):
        with w.app.unit() as tx:
            dispatch.step(tx, w.app, task["id"], task["assignee_id"], name)
        w.app.queue.run_all(bound(w.app))  # type: ignore[attr-defined]
    with w.store.transaction() as tx:
        person = tx.require(people.PEOPLE, booking["person_id"])
        care_followups.rate(tx, w.app, booking["id"], person, 5, w.clock.now())
        care_followups.comment(tx, w.app, booking["id"], person, COMMENT, w.clock.now())


def volunteer_address(w: World, person_id: str) -> str:
    with w.store.snapshot() as tx:
        return str(tx.require(people.PEOPLE, person_id)["addresses"][0]).partition(":")[2]


async def test_what_we_keep_is_shown_in_plain_sentences_in_each_language() -> None:
    w = World()
    await w.onboard("zq")
    person_id = people_id(w, "zq")
    done = w.book(person_id, days=1)
    await w.run_jobs()
    take(w, done["task_id"])
    finish(w, done)
    # When the person asks what is kept, first in Chinese
    await w.t.say("zq", "/me")
    shown = texts(await w.t.press("zq", "看看保存了什么"), "zq")
    # Then profile, home, phone, chat, bookings with notes, rating, comment and how long
    for expected in (NAME, "锦绣家园", ROOM, PHONE, "终端 zq", "上门照料", NOTES, "5 星", COMMENT):
        assert expected in shown, (expected, shown)
    assert "/forget" in shown and "{" not in shown
    # And in English the same, with no Chinese words around the names
    await w.t.say("zq", "/language")
    await w.t.press("zq", "English")
    await w.t.say("zq", "/me")
    english = texts(await w.t.press("zq", "What you keep about me"), "zq")
    for expected in (NAME, ROOM, PHONE, "terminal zq", "Home care visit", NOTES, "5 stars"):
        assert expected in english, (expected, english)
    for phrase in ("住址", "电话", "预约", "星"):
        assert phrase not in english, phrase


async def test_forgetting_one_address_leaves_a_longer_one_that_starts_alike_alone() -> None:
    w = World()
    await w.onboard("zq")
    await w.t.say("zqx", "/start")  # someone else, whose address begins with the same letters
    from assistant.conversation.vocabulary import Outbound, Reply, make_address
    from assistant.jobs import outbox

    now = w.clock.now()
    with w.app.unit() as tx:
        outbox.post(tx, Outbound(make_address("console", "zqx"), Reply("你好")), now)
    # When zq is forgotten
    privacy.forget(w.app, people_id(w, "zq"))
    # Then zqx's message still goes to zqx
    sent = await w.run_jobs()
    assert [m["to"] for m in sent] == ["zqx"]


async def test_photos_and_voice_notes_the_person_sent_are_forgotten_too() -> None:
    from assistant.channels.common.media import MEDIA, MediaLibrary

    w = World()
    await w.onboard("zq")
    library = MediaLibrary(w.store)
    theirs = library.keep("telegram", "file-of-zq", "voice", "console:zq", w.clock.now())
    others = library.keep("telegram", "file-of-lin", "photo", "console:lin", w.clock.now())
    # When the person is forgotten
    privacy.forget(w.app, people_id(w, "zq"))
    # Then their voice note is gone and another person's photo is kept
    with w.store.snapshot() as tx:
        assert tx.get(MEDIA, theirs.removeprefix("media:")) is None
        assert tx.get(MEDIA, others.removeprefix("media:")) is not None
    assert "file-of-zq" not in w.everything()
