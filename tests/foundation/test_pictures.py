"""Pictures out, on the in-memory twins: the attachment, the media port's files, the console.

``Reply.image`` is a media reference; the media port keeps the bytes of files made
here (a weekly chart) privately, and every channel shows the picture its own way —
the console as a line ``[图片 name]`` / ``[picture name]`` above the caption, with the
file's path in JSON lines. A notice's photo rides on every private copy and on the
neighbours' group copy; the weekly chart reaches each coordinator as a picture and is
deleted after the photo retention.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant import demo
from assistant.bootstrap import App, build_for_tests
from assistant.channels.common.media import (
    MEDIA,
    MediaLibrary,
    forget_file,
    keep_file,
    media_dir,
)
from assistant.channels.common.once import message_key
from assistant.channels.console.channel import ConsoleChannel
from assistant.clock import FakeClock
from assistant.config import defaults
from assistant.conversation.vocabulary import (
    Choice,
    Incoming,
    Kind,
    Outbound,
    Reply,
    make_address,
    outbound_from_dict,
    outbound_to_dict,
    parse_address,
)
from assistant.delivery import MemoryDelivery
from assistant.jobs.firing import bound
from assistant.jobs.scheduler import tick
from assistant.services import notices, reports
from handlers import build_engine

PNG = b"\x89PNG\r\n\x1a\n" + b"chart" * 20
MONDAY_9 = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)


def _app(tmp_path: Path) -> App:
    settings = defaults().with_values(storage={"dir": str(tmp_path)})
    app = build_for_tests(settings, clock=FakeClock(MONDAY_9))
    demo.load(app.store, "2026-06-01T00:00:00+00:00")
    return app


def _keep(app: App, data: bytes = PNG, name: str = "chart.png", owner: str = "") -> str:
    with app.store.transaction() as tx:
        return keep_file(
            tx, media_dir(app.settings.data_dir), data, name, app.clock.now(), owner=owner
        )


# -- the attachment ------------------------------------------------------------------------


def test_a_picture_travels_through_the_outbox_and_changes_nothing_for_text_messages() -> None:
    # Given a reply with a picture and one without
    with_picture = Outbound(parse_address("telegram:1"), Reply("上周的图", image="media:m-1"))
    plain = Outbound(parse_address("telegram:1"), Reply("你好"))
    # Then the picture survives the round trip of queues and outboxes
    assert outbound_from_dict(outbound_to_dict(with_picture)).reply.image == "media:m-1"
    # And a text message is written exactly as before (its send-once digest is unchanged)
    assert "image" not in outbound_to_dict(plain)
    assert message_key(plain, "x:") == message_key(
        outbound_from_dict(outbound_to_dict(plain)), "x:"
    )
    assert message_key(plain, "x:") != message_key(with_picture, "x:")


def test_a_file_made_here_is_kept_privately_and_forgotten_with_its_record(tmp_path: Path) -> None:
    # Given a chart kept through the media port
    app = _app(tmp_path)
    ref = _keep(app)
    library = MediaLibrary(app.store, media_dir(app.settings.data_dir))
    stored = library.get(ref)
    path = library.path_of(stored)
    # Then its bytes are in the media folder, readable by this user only
    assert path is not None and path.read_bytes() == PNG == library.read(stored)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert (stored.shown_name, stored.content_type, stored.files) == ("chart.png", "image/png", {})
    # When a network learns its own id, the record keeps it
    library.learn(ref, "telegram", "AgAD-1")
    assert library.get(ref).files == {"telegram": "AgAD-1"}
    # When it is forgotten, record and bytes go together
    with app.store.transaction() as tx:
        assert forget_file(tx, media_dir(app.settings.data_dir), ref)
        assert tx.get(MEDIA, ref.removeprefix("media:")) is None
    assert not path.exists()


# -- the console, in both languages ----------------------------------------------------------


def test_the_console_shows_a_picture_line_in_the_readers_language(tmp_path: Path) -> None:
    # Given a console that can look pictures up, and a chart
    app = _app(tmp_path)
    ref = _keep(app, name="reports-2026-W23.png")
    library = MediaLibrary(app.store, media_dir(app.settings.data_dir))
    out = io.StringIO()
    console = ConsoleChannel(build_engine(app).handle, out=out, media=library)
    button = ((Choice("知道了", "x:ok"),),)
    # When one reader of Chinese and one of English are sent it with a caption
    console.deliver(
        Outbound(make_address("console", "grid"), Reply("上周一共7次反映", button, image=ref))
    )
    console.deliver(
        Outbound(make_address("console", "mei"), Reply("7 reports last week", image=ref), "en")
    )
    # Then each sees the picture's line above the caption (and the buttons under it)
    assert out.getvalue().splitlines() == [
        "[grid] [图片 reports-2026-W23.png]",
        "    上周一共7次反映",
        "    1) 知道了",
        "[mei] [picture reports-2026-W23.png]",
        "    7 reports last week",
    ]
    # And in JSON lines the picture comes with the file the media port keeps
    lines = io.StringIO()
    jsonl = ConsoleChannel(build_engine(app).handle, out=lines, jsonl=True, media=library)
    jsonl.deliver(Outbound(make_address("console", "grid"), Reply("上周", image=ref)))
    shown = json.loads(lines.getvalue())
    assert shown["text"] == "上周" and shown["image"]["name"] == "reports-2026-W23.png"
    assert Path(shown["image"]["path"]).read_bytes() == PNG


# -- a notice with a photo -------------------------------------------------------------------


class Console:
    """The notice form at a JSON-lines console over the twins; jobs run after each line."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.engine = build_engine(app)
        self.out = io.StringIO()
        library = MediaLibrary(app.store, media_dir(app.settings.data_dir))
        self.channel = ConsoleChannel(self.engine.handle, out=self.out, jsonl=True, media=library)
        self.sent = MemoryDelivery()
        app.delivery = self.sent

    def _after(self, start: int) -> list[dict[str, Any]]:
        self.app.queue.run_all(bound(self.app))  # type: ignore[attr-defined]
        self.out.seek(start)
        produced = [json.loads(line) for line in self.out.read().splitlines() if line]
        self.out.seek(0, io.SEEK_END)
        return produced

    async def say(self, user: str, text: str) -> list[dict[str, Any]]:
        start = self.out.tell()
        await self.channel.feed(json.dumps({"as": user, "text": text}, ensure_ascii=False))
        return self._after(start)

    async def press(self, user: str, label: str) -> list[dict[str, Any]]:
        start = self.out.tell()
        await self.channel.feed(json.dumps({"as": user, "press": label}, ensure_ascii=False))
        return self._after(start)

    async def photo(self, user: str, ref: str) -> list[dict[str, Any]]:
        """``user`` sends a photo (as a network channel hands it on: a media reference)."""
        start = self.out.tell()
        incoming = Incoming(make_address("console", user), Kind.PHOTO, file_ref=ref)
        for message in await self.engine.handle(incoming):
            self.channel.deliver(message)
        return self._after(start)

    def settle(self) -> list[Outbound]:
        for _ in range(30):
            self.app.clock.advance(seconds=1)  # type: ignore[attr-defined]
            tick(self.app)
            self.app.queue.run_all(bound(self.app))  # type: ignore[attr-defined]
        return self.sent.take()


async def test_every_copy_of_a_notice_and_the_group_copy_carry_its_photo(tmp_path: Path) -> None:
    # Given the coordinator writing a notice to 锦绣家园一网格
    app = _app(tmp_path)
    photo = _keep(app, name="water.png", owner="console:grid")
    c = Console(app)
    await c.say("grid", "/notice")
    await c.press("grid", "锦绣家园一网格")
    await c.press("grid", "下一步")
    asked = await c.say("grid", "明天上午9点到11点停水，请提前储水。")
    assert "想配一张图片" in asked[-1]["text"]
    # When she sends a photo while writing, then goes on
    kept = await c.photo("grid", photo)
    assert "图片收到了" in kept[-1]["text"]
    await c.press("grid", "写完了")
    await c.press("grid", "跳过")
    await c.press("grid", "需要确认")
    preview = await c.press("grid", "明天 18:00")
    assert "配图：有" in preview[-1]["text"]
    await c.press("grid", "发送")
    copies = c.settle()
    # Then every private copy carries the photo with its caption and the "收到" button
    with app.store.snapshot() as tx:
        notice = notices.recent(tx)[0]
    assert notice["photo"] == photo
    private = [m for m in copies if "停水" in m.reply.text and m.reply.choices]
    assert len(private) >= 2 and all(m.reply.image == photo for m in private)
    assert all(m.reply.choices[0][0].label == "收到" for m in private)
    # And the neighbours' group copy carries it too (no button: one tap is private)
    groups = [m for m in copies if "停水" in m.reply.text and not m.reply.choices]
    assert groups and all(m.reply.image == photo for m in groups)


async def test_a_photo_is_refused_nowhere_else_in_the_form(tmp_path: Path) -> None:
    # Given the coordinator at the English question
    app = _app(tmp_path)
    c = Console(app)
    await c.say("grid", "/notice")
    await c.press("grid", "锦绣家园一网格")
    await c.press("grid", "下一步")
    await c.say("grid", "今晚八点在广场开会")
    await c.press("grid", "写完了")
    # When a photo comes where English text is asked
    answer = await c.photo("grid", _keep(app))
    # Then the form kindly asks again and keeps no photo
    assert answer and answer[-1]["to"] == "grid"
    await c.press("grid", "跳过")
    await c.press("grid", "不用确认")
    await c.press("grid", "发送")
    with app.store.snapshot() as tx:
        assert notices.recent(tx)[0].get("photo", "") == ""


# -- the weekly chart ------------------------------------------------------------------------


def test_the_weekly_chart_reaches_coordinators_as_a_picture_and_expires(tmp_path: Path) -> None:
    # Given reports on Tuesday 2 June 2026
    app = _app(tmp_path)
    clock: FakeClock = app.clock  # type: ignore[assignment]
    clock.advance(days=1)
    with app.unit() as tx:
        for n in range(3):
            draft = reports.Draft(reporter_id=f"r{n}", category="noise", place_id="market")
            reports.submit(tx, app, draft, clock.now())
    app.queue.run_all(bound(app))  # type: ignore[attr-defined]
    app.delivery.take()  # type: ignore[attr-defined]
    # When next Monday 09:00 comes
    clock.advance(days=6)
    tick(app)
    app.queue.run_all(bound(app))  # type: ignore[attr-defined]
    # Then the coordinator gets the chart as a picture with the figures as its caption
    sent = [m for m in app.delivery.take() if m.to == "console:grid"]  # type: ignore[attr-defined]
    [weekly] = [m for m in sent if m.reply.image]
    assert "上周一共收到" in weekly.reply.text
    library = MediaLibrary(app.store, media_dir(app.settings.data_dir))
    stored = library.get(weekly.reply.image)
    assert library.read(stored).startswith(b"\x89PNG")
    chart_file = tmp_path / "charts" / stored.shown_name
    kept = library.path_of(stored)
    assert kept is not None and kept.exists()
    assert chart_file.exists() and chart_file.stat().st_mode & 0o777 == 0o600
    # When the photo retention has passed
    days = int(app.settings.get("reports", "photo_retention_days"))
    clock.advance(days=days, minutes=1)
    tick(app)
    app.queue.run_all(bound(app))  # type: ignore[attr-defined]
    # Then the chart's record, its bytes and its file are gone (the next week's chart stays)
    with app.store.snapshot() as tx:
        assert tx.get(MEDIA, weekly.reply.image.removeprefix("media:")) is None
    assert not chart_file.exists() and not kept.exists()


# -- a listing's photo -----------------------------------------------------------------------


async def test_a_listings_photo_is_in_its_announcement_and_its_shop_card(tmp_path: Path) -> None:
    # Given the demo's oranges with a photo the vendor sent with /newlisting
    from assistant.services.orders import demo as orders_demo
    from assistant.services.orders.records import LISTINGS

    app = _app(tmp_path)
    photo = _keep(app, name="oranges.jpg", owner="console:post")
    with app.store.transaction() as tx:
        [oranges] = [d for d in tx.all(LISTINGS) if d["title_zh"].startswith("赣南脐橙")]
        oranges["photo"] = photo
        tx.put(LISTINGS, oranges["id"], oranges)
    c = Console(app)
    # When the sale goes live, then 林奶奶 opens the oranges in /shop
    orders_demo.announce_now(app)
    app.queue.run_all(bound(app))  # type: ignore[attr-defined]
    told = [m for m in c.sent.take() if m.to == "console:lin" and "赣南脐橙" in m.reply.text]
    shown = await c.say("lin", "/shop")
    label = next(b for row in shown[-1]["buttons"] for b in row if b.startswith("赣南脐橙"))
    card = await c.press("lin", label)
    # Then the announcement and the item card both carry the photo, the buttons still under it
    assert told and told[0].reply.image == photo and told[0].reply.choices
    assert card[-1]["image"]["ref"] == photo and card[-1]["buttons"]
