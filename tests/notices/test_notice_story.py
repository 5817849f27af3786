"""The whole story of a notice: two grids, "收到" per household, rates, reminders, door-knocks."""

from __future__ import annotations

from notices_world import World, texts, to, write_notice

from assistant.conversation.buttons import KnockCheck, KnockVerb, NoticeButton, NoticeVerb
from assistant.services import care, notices


async def test_a_notice_to_two_grids_from_preview_to_door_knocks() -> None:
    # Given the coordinator of the demo community writes a notice to both grids of 锦绣家园
    w = World()
    preview = await write_notice(w)
    # Then the preview counts the households and the people it will reach
    assert "8 户、8 人" in texts(preview, "grid")
    assert "1 户联系不上" in texts(preview, "grid")  # 钱奶奶 has no chat address
    # When it is sent and the fan-out runs
    sent = await w.press("grid", "发送")
    sent += w.settle()
    # Then every reachable person got exactly one copy with one "收到" button
    copies = [m for m in sent if m.get("buttons") == [["收到"]]]
    receivers = sorted(m["to"] for m in copies)
    assert receivers == sorted(["lin", "linye", "zhao", "chen", "huang", "li", "sun", "zhou"])
    assert "停水" in copies[0]["text"]
    # And the coordinator saw the progress edited in place and a summary
    progress = [m for m in to(sent, "grid") if m.get("edits", "").startswith("notice-progress:")]
    assert progress and "8 / 8" in progress[-1]["text"]
    assert "通知已经发到 8 户、8 人" in texts(sent, "grid")

    # When 林奶奶 taps "收到", then her husband too
    ack = NoticeButton(NoticeVerb.ACK, w.notice()["id"]).encode()
    first = await w.act("lin", ack)
    second = await w.act("linye", ack)
    # Then one tap answered for the household, and the second is thanked kindly
    assert "已经记下您家看过了" in texts(first, "lin")
    assert "已经有人确认过了" in texts(second, "linye")
    for user in ("chen", "huang", "li"):
        await w.act(user, ack)
    # And the rate per grid is live in /notices
    listed = await w.say("grid", "/notices")
    assert "锦绣家园一网格：3/5 户（60%）" in texts(listed)
    assert "锦绣家园二网格：1/3 户（33%）" in texts(listed)
    detail = await w.press("grid", w.first_notice(listed))
    # with the full address and names of the silent households for the coordinator
    assert "锦绣家园 1栋 2单元 501（赵阿姨）" in texts(detail)
    # and building and unit only for a volunteer
    seen_by_volunteer = await w.say("chen", "/notices")
    shown = await w.press("chen", w.first_notice(seen_by_volunteer))
    assert "锦绣家园 1栋 2单元" in texts(shown)
    assert "501" not in texts(shown) and "赵阿姨" not in texts(shown)

    # When the reminder time comes (3 hours before the deadline)
    reminded = w.travel(hours=30)
    # Then only the reachable members of silent households are reminded
    assert sorted(m["to"] for m in reminded if "提醒" in m.get("text", "")) == [
        "sun",
        "zhao",
        "zhou",
    ]

    # When the deadline passes
    at_deadline = w.travel(hours=3)
    # Then the silent households became door-knock rounds, one per building, offered to volunteers
    assert "还有 4 户没有回复，已按楼栋安排了 3 个敲门任务" in texts(at_deadline, "grid")
    building_one = w.round_of("锦绣家园|1")
    assert [h["home"]["room"] for h in building_one["households"]] == ["501", "601"]
    offers = [m for m in at_deadline if "敲门行动（2户）" in m.get("text", "")]
    assert offers and all("501" not in m["text"] for m in offers)  # no address before accepting

    # When 陈建国 accepts the round of building 1
    accepted = await w.act("chen", w.offer_for(building_one["task_id"], "chen"))
    # Then he gets the address and one card per household
    cards = [m for m in to(accepted, "chen") if "敲门行动 第" in m.get("text", "")]
    assert len(cards) == 2 and "赵阿姨" in cards[0]["text"]
    round_id = building_one["id"]
    # When he finds 赵阿姨 all well
    well = await w.act("chen", KnockCheck(KnockVerb.WELL, round_id, 0).encode())
    assert "一切都好" in texts(well, "chen") and "还有 1 户" in texts(well, "chen")
    # And nobody home at 钱奶奶's
    away = await w.act("chen", KnockCheck(KnockVerb.AWAY, round_id, 1).encode())
    assert "没人在家" in texts(away, "chen") and "6月3日 周三 10:00" in texts(away, "chen")
    # Then the card comes back the next morning
    again = w.travel(hours=16)
    assert "第1次再去" in texts(again, "chen")
    # When 钱奶奶 needs help this time: which help, then a care visit booked for her
    asked = await w.act("chen", KnockCheck(KnockVerb.HELP, round_id, 1).encode())
    assert "需要什么帮助" in texts(asked, "chen")
    helped = await w.act("chen", KnockCheck(KnockVerb.HELP_CARE, round_id, 1).encode())
    # Then a home care visit is booked for her by the volunteer, as her helper
    with w.app.store.snapshot() as tx:
        [booking] = tx.all(care.BOOKINGS)
    assert booking["person_id"] != w.person("chen")["id"]
    assert booking["booked_by"] == w.person("chen")["id"]
    assert "已经帮他预约了上门照料" in texts(helped, "chen")
    # And the coordinator is alerted at once, with the address and the booking
    alert = texts(helped, "grid")
    assert (
        "锦绣家园 1栋 2单元 601（钱奶奶）" in alert
        and "需要上门照料" in alert
        and "已经预约" in alert
    )
    # And the round is complete; the households told in person count on the notice
    assert "这一栋都记下了" in texts(helped, "chen")
    with w.app.store.snapshot() as tx:
        rates = {r.grid_id: r.acked for r in notices.rates(tx, w.notice())}
    assert rates["jx-1"] == 5


async def test_not_home_is_tried_again_at_most_twice_then_the_coordinator_is_told() -> None:
    w = World(knock_retries=2)
    await write_notice(w, grids=("锦绣家园二网格",))
    await w.press("grid", "发送")
    w.settle()
    w.travel(hours=33)  # past the deadline: nobody answered
    found = w.round_of("锦绣家园|2")
    await w.act("chen", w.offer_for(found["task_id"], "chen"))
    for attempt in (1, 2):
        told = await w.act("chen", KnockCheck(KnockVerb.AWAY, found["id"], 0).encode())
        assert "再提醒您去一次" in texts(told, "chen"), attempt
        again = w.travel(hours=24)
        assert f"第{attempt}次再去" in texts(again, "chen")
    last = await w.act("chen", KnockCheck(KnockVerb.AWAY, found["id"], 0).encode())
    assert "已经告诉网格员了" in texts(last, "chen")
    assert "几次都没人在家" in texts(last, "grid")
    assert not [m for m in w.travel(hours=24) if m.get("to") == "chen"]
