"""Pictures out to Telegram over real HTTP: uploaded once (multipart), then sent by file id.

The fake Bot API keeps every multipart upload with its bytes, refuses captions
over 1,024 characters and text edits of photos as Telegram does, so these tests
see what Telegram would receive.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fake_bot_api import FakeBotApi
from people_sim import Person
from tg_demo import COORDINATOR_ID, demo_app, engine_for, telegram_settings

from assistant.bootstrap import App
from assistant.channels.common.media import MediaLibrary, keep_file, media_dir
from assistant.channels.telegram import TelegramChannel, TelegramDelivery
from assistant.clock import to_iso
from assistant.conversation.vocabulary import Choice, Outbound, Reply, parse_address
from assistant.delivery import MemoryDelivery
from assistant.i18n import translator
from assistant.jobs.firing import bound
from assistant.services import notices, people
from assistant.services.reports import weekly
from handlers import build_engine

PNG = b"\x89PNG\r\n\x1a\n"
CHART = "reports-2026-W23.png"


@pytest.fixture
async def world(fake: FakeBotApi, tmp_path: Path) -> AsyncIterator[App]:
    """The demo community on Telegram, its data folder (and media folder) in ``tmp_path``."""
    settings = telegram_settings(fake).with_values(storage={"dir": str(tmp_path)})
    yield demo_app(settings)


def _chart(app: App) -> tuple[str, bytes]:
    """A real weekly chart (matplotlib PNG), kept through the media port."""
    path = app.settings.data_dir / "charts" / CHART
    weekly.draw(path, Counter({"jx-1": 5, "jx-2": 2}), Counter({9: 3}), {}, "上周", None)
    data = path.read_bytes()
    with app.store.transaction() as tx:
        ref = keep_file(tx, media_dir(app.settings.data_dir), data, path.name, app.clock.now())
    return ref, data


def _to(uid: int, text: str, **options: object) -> Outbound:
    return Outbound(parse_address(f"telegram:{uid}"), Reply(text, **options))  # type: ignore[arg-type]


async def test_a_chart_goes_as_a_photo_uploaded_once_with_its_figures_as_caption(
    world: App, fake: FakeBotApi, redis_url: str
) -> None:
    # Given a weekly chart kept by the media port, and a worker's delivery
    ref, data = _chart(world)
    coordinator = Person(fake, COORDINATOR_ID)
    worker = TelegramDelivery(world.settings, redis_url, world.store)
    try:
        # When it is sent to the coordinator with the week's figures, and again next time
        text = "上周一共收到7次反映。最多的网格：锦绣家园一网格 5"
        await asyncio.to_thread(worker.deliver, _to(COORDINATOR_ID, text, image=ref))
        await asyncio.to_thread(worker.deliver, _to(COORDINATOR_ID, text + "。", image=ref))
    finally:
        worker.close()

    # Then Telegram got the PNG once, as the multipart field "photo", with its name
    assert len(fake.uploads) == 1
    upload = fake.uploads[0]
    assert (upload.method, upload.field, upload.filename) == ("sendPhoto", "photo", CHART)
    assert upload.data == data and data.startswith(PNG)
    # And both messages are photos whose caption is the text; the second named the file id
    first, second = coordinator.received()
    assert first.method == second.method == "sendPhoto"
    assert first.text == text and second.params["photo"] == upload.file_id
    # And the media record learnt Telegram's id, and its bytes are private
    stored = MediaLibrary(world.store, media_dir(world.settings.data_dir)).get(ref)
    assert stored.files["telegram"] == upload.file_id
    kept = media_dir(world.settings.data_dir) / stored.file
    assert kept.stat().st_mode & 0o777 == 0o600


async def test_a_caption_too_long_goes_after_the_photo_with_the_buttons(
    world: App, fake: FakeBotApi, redis_url: str
) -> None:
    # Given a picture and a text of 1,500 characters with a button
    ref, _ = _chart(world)
    lin = Person(fake, 811)
    worker = TelegramDelivery(world.settings, redis_url, world.store)
    text = "通知：" + "请大家注意防暑降温。" * 150
    button = Choice("收到", "a:notice:ack:nt1")
    try:
        # When it is sent
        await asyncio.to_thread(
            worker.deliver, _to(811, text, image=ref, choices=((button,),), key="notice:nt1")
        )
        # Then the photo came alone, the text after it with the button under it
        photo, words = lin.received()
        assert photo.method == "sendPhoto" and "caption" not in photo.params
        assert words.method == "sendMessage" and words.text == text
        assert lin.buttons() == ["收到"]
        # And a keyed edit changes that text message (the keyed one), not the photo
        await asyncio.to_thread(
            worker.deliver, _to(811, "已收到，谢谢！", image=ref, key="notice:nt1", edit=True)
        )
    finally:
        worker.close()
    assert fake.chat_messages(811)[1]["text"] == "已收到，谢谢！"
    assert len(lin.received()) == 2


async def test_a_keyed_photo_is_edited_by_its_caption(
    world: App, fake: FakeBotApi, redis_url: str
) -> None:
    # Given a captioned photo with a button, sent under a key
    ref, _ = _chart(world)
    lin = Person(fake, 812)
    worker = TelegramDelivery(world.settings, redis_url, world.store)
    button = Choice("收到", "a:notice:ack:nt2")
    try:
        await asyncio.to_thread(
            worker.deliver, _to(812, "停水通知", image=ref, choices=((button,),), key="notice:nt2")
        )
        assert lin.buttons() == ["收到"]
        # When it is edited by key, with or without the picture named
        await asyncio.to_thread(
            worker.deliver, _to(812, "停水通知（已收到）", key="notice:nt2", edit=True)
        )
    finally:
        worker.close()
    # Then the caption changed in place (editMessageCaption after Telegram refused a text edit)
    (photo,) = fake.chat_messages(812)
    assert photo["caption"] == "停水通知（已收到）" and "reply_markup" not in photo
    assert "editMessageCaption" in [call[0] for call in fake.calls]


async def test_a_notice_photo_to_many_people_is_uploaded_once_then_sent_by_file_id(
    world: App, fake: FakeBotApi, redis_url: str
) -> None:
    # Given twelve residents of jx-1 on Telegram and a notice photo kept by the media port
    # (written at the console or on Matrix: Telegram has no id for it yet)
    uids = list(range(820, 832))
    now = to_iso(world.clock.now())
    with world.store.transaction() as tx:
        for uid in uids:
            people.create_person(
                tx,
                name=f"居民{uid}",
                address=f"telegram:{uid}",
                language="zh_CN",
                now=now,
                grid_id="jx-1",
            )
        photo = keep_file(
            tx,
            media_dir(world.settings.data_dir),
            PNG + b"notice-photo",
            "notice.png",
            world.clock.now(),
            owner=f"telegram:{COORDINATOR_ID}",
        )
    residents = [Person(fake, uid) for uid in uids]
    fake.user(COORDINATOR_ID)
    # When the coordinator confirms a notice with that photo and its copies come out of the outbox
    captured = MemoryDelivery()
    world.delivery = captured
    build_engine(world)  # the jobs and task kinds are registered
    with world.unit() as tx:
        draft = notices.Draft(
            author_id=_coordinator_id(world),
            grids=("jx-1",),
            text="明天上午停水，请提前储水。",
            photo=photo,
        )
        notices.create(tx, world, draft, world.clock.now())
    world.queue.run_all(bound(world))  # type: ignore[attr-defined]
    copies = [m for m in captured.take() if m.to in {f"telegram:{u}" for u in uids}]
    assert len(copies) == len(uids) and all(m.reply.image == photo for m in copies)
    # And two workers (two processes' deliveries) send them at the same time
    workers = [TelegramDelivery(world.settings, redis_url, world.store) for _ in range(2)]
    try:
        await asyncio.gather(
            *(asyncio.to_thread(workers[n % 2].deliver, m) for n, m in enumerate(copies))
        )
    finally:
        for worker in workers:
            worker.close()
    # Then the photo was uploaded once (one multipart request); every other copy named its id
    assert len(fake.uploads) == 1
    file_id = fake.uploads[0].file_id
    multipart = [c for c in fake.calls if c[0] == "sendPhoto" and c[1].get("photo") == file_id]
    assert len(multipart) == len(uids)
    sent = [r.received() for r in residents]
    assert all(len(got) == 1 and got[0].method == "sendPhoto" for got in sent)
    # And each copy is one captioned photo with the "收到" button under it
    for uid in uids:
        shown = fake.last_with_buttons(uid)
        assert "明天上午停水" in shown["caption"] and shown["photo"][-1]["file_id"] == file_id
    assert all(r.buttons() == ["收到"] for r in residents)


async def test_a_photo_that_came_in_from_telegram_is_sent_by_its_own_id(
    world: App, fake: FakeBotApi, redis_url: str
) -> None:
    # Given a photo a coordinator sent the bot (the media record has Telegram's id)
    library = MediaLibrary(world.store, media_dir(world.settings.data_dir))
    ref = library.keep("telegram", "photo-7-1280", "photo", "telegram:900", world.clock.now())
    lin = Person(fake, 840)
    worker = TelegramDelivery(world.settings, redis_url, world.store)
    try:
        # When it goes out with a notice
        await asyncio.to_thread(worker.deliver, _to(840, "社区活动照片", image=ref))
    finally:
        worker.close()
    # Then nothing was uploaded: Telegram's own id was named
    (got,) = lin.received()
    assert got.params["photo"] == "photo-7-1280" and fake.uploads == []


def _coordinator_id(app: App) -> str:
    with app.store.snapshot() as tx:
        person = people.person_at(tx, parse_address(f"telegram:{COORDINATOR_ID}"))
    assert person is not None
    return str(person["id"])


async def test_a_button_under_a_captioned_photo_works_and_is_closed(
    fake: FakeBotApi, redis_url: str, tmp_path: Path
) -> None:
    # Given the bot running and a resident sent a captioned photo with a button
    settings = telegram_settings(fake).with_values(storage={"dir": str(tmp_path)})
    app = demo_app(settings)
    channel = TelegramChannel(app, engine_for(app), redis_url)
    await channel.start()
    try:
        ref, _ = _chart(app)
        with app.store.transaction() as tx:
            people.create_person(
                tx,
                name="居民850",
                address="telegram:850",
                language="zh_CN",
                now=to_iso(app.clock.now()),
                grid_id="jx-1",
            )
        lin = Person(fake, 850)
        offer = Choice("English", "a:lang:en")
        await channel.dispatch([_to(850, "请选择语言", image=ref, choices=((offer,),))])
        # When she presses the button under the photo
        answer = await lin.presses("English")
    finally:
        await channel.stop()
    # Then the engine got the value and answered, and the photo's keyboard was taken away
    assert answer[0].text == translator("en").t("core.language_set")
    photo = fake.chat_messages(850)[0]
    assert "photo" in photo and "reply_markup" not in photo
