"""Rate limit, escalation past the deadline, photos and their retention, bad input, unreliable reporters."""

from __future__ import annotations

from care_transcript import MONDAY_9
from reports_world import FAR_FROM_GATE, GATE_PIN, PATROL, ReportsTranscript, buttons, texts

from assistant.bootstrap import build_for_tests
from assistant.clock import FakeClock
from assistant.config import defaults
from assistant.conversation.vocabulary import Incoming, Kind, make_address
from assistant.services import reports

LIN = make_address("console", "lin")


async def test_more_than_the_hourly_limit_gets_a_kind_refusal_then_works_again() -> None:
    clock = FakeClock(MONDAY_9)
    app = build_for_tests(defaults().with_values(reports={"max_per_hour": 2}), clock=clock)
    t = ReportsTranscript(app)
    t.clock = clock
    await t.report("lin")
    await t.report("lin", category="噪音扰民")
    refused = await t.report("lin", category="聚众扎堆")
    assert "这一个小时里您已经反映了好几次" in texts(refused, to="lin")
    assert len(t.cases()) == 2
    with t.app.store.snapshot() as tx:
        assert tx.get("conversations", "console:lin")["state"] is None  # the form ended
    t.travel(minutes=61)
    again = await t.report("lin", category="聚众扎堆")
    assert "事件编号" in texts(again, to="lin") and len(t.cases()) == 3


async def test_past_the_deadline_the_grid_then_the_community_is_told() -> None:
    t = ReportsTranscript()
    # Given a red case nobody accepts (deadline 2 h)
    await t.report("lin")
    [case] = t.cases()
    # When 1 h 59 min pass, no deadline message yet
    early = t.travel(hours=1, minutes=59)
    assert "已超过处理时限" not in texts(early)
    # When the deadline passes, the grid's coordinator is told with the stage and buttons
    late = t.travel(minutes=2)
    assert f"事件 {case['number']} 已超过处理时限" in texts(late, to="grid")
    assert "再派一次" in buttons(late, to="grid") and "林奶奶" not in texts(late, to="grid")
    # And at twice the deadline, the community's coordinators
    later = t.travel(hours=2)
    assert "请社区帮忙" in texts(later, to="grid")
    # And a case handled in time is never escalated
    assert t.case(case["id"])["escalated"] == ["1:1", "1:2"]


async def test_a_handled_case_is_not_escalated() -> None:
    t = ReportsTranscript()
    filed = await t.report("lin")
    volunteer = next(m["to"] for m in filed if "我来接单" in buttons([m]))
    await t.press(volunteer, "我来接单")
    await t.press(volunteer, "已劝导")
    assert "已超过处理时限" not in texts(t.travel(hours=5))


async def test_a_photo_reaches_only_the_assignee_and_is_gone_after_seven_days() -> None:
    t = ReportsTranscript()
    await t.say("lin", "/report")
    await t.press("lin", "消防通道堵塞")
    await t.pin("lin", *GATE_PIN)
    # Text where a photo is asked is answered kindly
    await t.say("lin", "我没有照片")
    ref, said = await t.photo("lin")
    assert "打几个字" in "".join(said)
    filed = await t.press("lin", "提交")
    offered = sorted({m["to"] for m in filed if "我来接单" in buttons([m])})
    assert offered
    # The offers carry no photo; only the assignee gets it, after accepting
    delivered: list[object] = []
    t.app.delivery = _Recording(t.app.delivery, delivered)
    await t.press(offered[0], "我来接单")
    photos = [m for m in delivered if m.meta.get("photo")]  # type: ignore[attr-defined]
    assert [m.to for m in photos] == [f"console:{offered[0]}"] and photos[0].meta["photo"] == ref  # type: ignore[attr-defined]
    # When seven days pass, the media record and the case's reference are gone
    t.travel(days=7, minutes=1)
    with t.app.store.snapshot() as tx:
        assert tx.get("media", ref.removeprefix("media:")) is None
        [case] = [
            c for c in [*tx.all(reports.CASES), *tx.archived(reports.CASES)] if not c.get("demo")
        ]
    assert case["reports"][0]["photo"] == "" and case["reports"][0]["photo_expired"]
    store_text = repr(case)
    assert ref not in store_text


class _Recording:
    """Delivery that keeps a copy of every message (to see ``meta``)."""

    def __init__(self, inner: object, seen: list[object]) -> None:
        self.inner, self.seen = inner, seen

    def deliver(self, message: object) -> None:
        self.seen.append(message)
        self.inner.deliver(message)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


async def test_bad_input_in_every_step_is_answered_kindly() -> None:
    t = ReportsTranscript()
    await t.say("lin", "/report")
    # a category that is not a button, then a forged value
    assert "请按下面的按钮选择" in texts(await t.say("lin", "有人没戴口罩"))
    assert "过期" in texts(await t.forge("lin", "no_such_category"))
    await t.press("lin", "未戴口罩")
    # a location at lat 999, straight from a channel
    said = await t.raw(Incoming(sender=LIN, kind=Kind.LOCATION, location=(999.0, 118.0)))
    assert "这个位置好像不对" in "".join(said)
    # a place id that does not exist (a forged button is never offered)
    forged = await t.forge("lin", "place:nowhere")
    assert forged and "事件编号" not in texts(forged)
    # a photo where text or a place is asked
    _, said = await t.photo("lin")
    assert "请点一个地点" in "".join(said)
    # a note far too long
    await t.pin("lin", *FAR_FROM_GATE)
    long = await t.say("lin", "很" * 500)
    assert "字有点多了" in texts(long)
    assert t.cases() == []
    done = await t.press("lin", "提交")
    assert "事件编号" in texts(done)


async def test_reports_of_an_unreliable_reporter_wait_for_a_coordinator() -> None:
    t = ReportsTranscript()
    await t.report("lin")
    [first] = t.cases()
    # The coordinator marks 林奶奶 unreliable from /cases
    await t.say("grid", "/cases")
    await t.press("grid", first["number"])
    await t.press("grid", "第1位反映人不可靠")
    # Her next report is held: no offer, the coordinator is asked
    held = await t.report("lin", category="噪音扰民", place="锦绣家园1栋")
    assert "网格员看过后会安排" in texts(held, to="lin")
    assert not any("我来接单" in buttons([m]) for m in held)
    assert "派志愿者" in buttons(held, to="grid")
    # When the coordinator dispatches it, the volunteers are offered it
    released = await t.press("grid", "派志愿者")
    assert any("我来接单" in buttons([m]) and m["to"] in PATROL + ("huang",) for m in released)


async def test_volunteers_never_see_the_coordinators_buttons_or_reporters() -> None:
    t = ReportsTranscript()
    filed = await t.report("lin")
    volunteer = next(m["to"] for m in filed if "我来接单" in buttons([m]))
    [case] = t.cases()
    # A volunteer pressing a coordinator's button, or another's outcome, is refused
    refused = await t.forge(volunteer, f"a:rpt:close:{case['id']}")
    assert "只有网格员" in texts(refused)
    other = next(v for v in PATROL if v != volunteer)
    await t.press(volunteer, "我来接单")
    stolen = await t.forge(other, f"a:rpt:out:{case['id']}:persuaded")
    assert "不是您在处理的" in texts(stolen)
    assert t.case(case["id"])["stage"] == "dispatched"
    # And /cases is for coordinators only
    assert "/cases" not in texts(await t.say(volunteer, "/help"))
