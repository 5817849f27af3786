"""/forget removes a reporter from every case; coordinators' /cases; the CSV export and places import."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from reports_world import GATE, ReportsTranscript, buttons, texts

from assistant import cli
from assistant.services import people, reports
from assistant.services.people import privacy
from assistant.store.tinydb_store import TinyDbStore


async def test_forget_removes_the_reporter_note_and_photo_from_every_case() -> None:
    t = ReportsTranscript()
    await t.say("lin", "/report")
    await t.press("lin", "消防通道堵塞")
    await t.press("lin", GATE)
    ref, _ = await t.photo("lin")
    await t.say("lin", "我家门口堆满了纸箱")
    lin = t.person("lin")["id"]
    privacy.forget(t.app, lin)
    with t.app.store.snapshot() as tx:
        cases = [*tx.all(reports.CASES), *tx.archived(reports.CASES)]
        assert tx.get("media", ref.removeprefix("media:")) is None
        assert tx.get(reports.REPORTERS, lin) is None
    text = repr(cases)
    assert lin not in text and "纸箱" not in text and ref not in text


async def test_coordinators_see_open_cases_with_stage_and_deadline_and_who_reported() -> None:
    t = ReportsTranscript()
    await t.report("lin")
    listed = await t.say("grid", "/cases")
    said = texts(listed, to="grid")
    assert "待处理的事件" in said and "未戴口罩" in said and "时限" in said
    [case] = t.cases()
    detail = await t.press("grid", case["number"])
    assert "林奶奶" in texts(detail, to="grid") and "已派单" in texts(detail, to="grid")
    # A reporter who chose to be anonymous even to coordinators is shown as anonymous
    await t.say("wang", "/anonymous")
    await t.press("wang", "完全匿名")
    await t.report("wang", category="噪音扰民", place="锦绣家园1栋")
    await t.say("grid", "/cases")
    noise = next(c for c in t.cases() if c["category"] == "noise")
    detail = await t.press("grid", noise["number"])
    assert "王先生" not in texts(detail, to="grid") and "匿名" in texts(detail, to="grid")
    assert "第1位反映人不可靠" not in buttons(detail, to="grid")
    # Residents cannot open /cases
    assert "/cases" not in texts(await t.say("lin", "/help"))


async def test_typed_words_start_the_report_flow() -> None:
    t = ReportsTranscript()
    said = await t.say("lin", "有人没戴口罩")
    assert "您看到了什么情况" in texts(said, to="lin")
    assert "随手拍" in buttons(await t.say("lin", "/menu"), to="lin")


def test_export_and_import_from_the_command_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from assistant import demo
    from assistant.bootstrap import build
    from assistant.clock import FakeClock
    from assistant.config import defaults

    data = tmp_path / "data"
    settings = defaults().with_values(storage={"dir": str(data)})
    app = build(settings, clock=FakeClock(datetime(2026, 6, 1, 1, 0, tzinfo=UTC)))
    demo.load(app.store, "2026-06-01T00:00:00+00:00")
    with app.unit() as tx:
        reports.submit(
            tx,
            app,
            reports.Draft(reporter_id="x", category="no_mask", place_id="clinic"),
            app.clock.now(),
        )
    places = tmp_path / "places.csv"
    places.write_text(
        "id,grid_id,name_zh,name_en,kind,lat,lon\nnew-gate,jx-1,锦绣家园西门,West gate,gate,,\n",
        encoding="utf-8",
    )
    assert cli.main(["import", "places", str(places), "--data", str(data)]) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "id,grid_id,name_zh,name_en,kind,lat,lon\nx,nowhere,某处,,gate,999,1\n", encoding="utf-8"
    )
    assert cli.main(["import", "places", str(bad), "--data", str(data)]) == 2
    out = tmp_path / "cases.csv"
    assert (
        cli.main(
            [
                "export",
                "cases",
                "--from",
                "2026-06-01",
                "--to",
                "2026-06-01",
                "--data",
                str(data),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("number,category") and "no_mask" in text
    assert "x" not in text.split("\n", 1)[1].split(",")[0]  # no reporter ids
    with TinyDbStore(data / "store").snapshot() as tx:
        assert tx.get(reports.PLACES, "new-gate") is not None
        assert people.PEOPLE


async def test_a_place_added_in_chat_carries_an_english_name_for_english_readers() -> None:
    t = ReportsTranscript()
    await t.say("grid", "/place")
    # Too short a name is answered kindly and asked again
    assert "地点" in texts(await t.say("grid", "门"), to="grid")
    await t.say("grid", "锦绣家园南门 / Jinxiu south gate")
    await t.press("grid", "锦绣家园一网格")
    saved = await t.press("grid", "不发位置")
    assert "锦绣家园南门" in texts(saved, to="grid")
    with t.app.store.snapshot() as tx:
        [place] = [p for p in tx.all(reports.PLACES) if p["name_zh"] == "锦绣家园南门"]
    assert place["name_en"] == "Jinxiu south gate" and place["grid_id"] == "jx-1"
    # And a reporter writing in English is offered it by its English name
    await t.say("lin", "/language")
    await t.press("lin", "English")
    await t.say("lin", "/report")
    where = await t.press("lin", "Blocked fire escape")
    assert "Jinxiu south gate" in buttons(where, to="lin")


async def test_the_profile_leads_to_the_anonymity_choice() -> None:
    t = ReportsTranscript()
    await t.say("wang", "/me")
    asked = await t.press("wang", "反映问题时匿名")
    assert "完全匿名" in buttons(asked, to="wang")
    await t.press("wang", "完全匿名")
    with t.app.store.snapshot() as tx:
        assert reports.reporter(tx, t.person("wang")["id"]).get("always_anonymous") is True
