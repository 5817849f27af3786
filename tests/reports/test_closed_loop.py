"""The closed loop on the console, with the real dispatch and the fake clock.

report → a second report merges → dispatch → resolved → both followers told →
"not resolved" reopens → dispatched again; and the second "no" goes to the coordinator.
"""

from __future__ import annotations

from reports_world import GATE, NEAR_GATE, PATROL, REPORTERS, ReportsTranscript, buttons, texts


async def test_two_reports_one_case_resolved_then_reopened_and_dispatched_again() -> None:
    t = ReportsTranscript()
    # Given 林奶奶 reports someone without a mask at the east gate, with a note
    filed = await t.report("lin", note="门口有三个人没戴口罩")
    [case] = t.cases()
    assert f"事件编号 {case['number']}" in texts(filed, to="lin")
    # Then the patrol volunteers are offered it: category, place, count, age — never who reported
    offered = sorted({m["to"] for m in filed if "我来接单" in buttons([m])})
    assert offered and set(offered) <= set(PATROL), offered
    offers = texts([m for m in filed if m["to"] in offered])
    assert "未戴口罩" in offers and GATE in offers and "1位居民反映" in offers
    assert not any(name in offers for name in REPORTERS) and "三个人" not in offers

    # When 王先生 reports the same thing from a pin 30 m away
    await t.say("wang", "/report")
    await t.press("wang", "未戴口罩")
    await t.pin("wang", *NEAR_GATE)
    merged = await t.press("wang", "提交")
    # Then it joins the open case: no new task, and he follows it
    assert "已有邻居反映，我们已经在处理" in texts(merged, to="wang")
    assert not any("我来接单" in buttons([m]) for m in merged if not m.get("edits"))
    # And the offers still open now say two neighbours reported it (edited in place)
    edited = [m for m in merged if m.get("edits") and m["to"] in offered]
    assert edited and all("2位居民反映" in m["text"] for m in edited)
    assert not any(name in texts(edited) for name in REPORTERS)
    [case] = t.cases()
    assert len(case["reports"]) == 2 and len(case["followers"]) == 2

    # When a volunteer accepts, they see the note and the outcome buttons; both followers hear
    volunteer = offered[0]
    taken = await t.press(volunteer, "我来接单")
    mine = texts(taken, to=volunteer)
    assert "门口有三个人没戴口罩" in mine and "已劝导" in buttons(taken, to=volunteer)
    assert not any(name in mine for name in REPORTERS)
    assert "志愿者已经接单" in texts(taken, to="lin") and "志愿者已经接单" in texts(
        taken, to="wang"
    )

    # When the volunteer has persuaded them
    done = await t.press(volunteer, "已劝导")
    # Then both followers are told, and the case is handled
    assert "劝导好了" in texts(done, to="lin") and "劝导好了" in texts(done, to="wang")
    assert t.case(case["id"])["stage"] == "handled"

    # When an hour passes, each follower is asked "is it resolved now?"
    asked = t.travel(minutes=61)
    assert "现在解决了吗" in texts(asked, to="lin") and "现在解决了吗" in texts(asked, to="wang")
    # And 林奶奶 says no: the case reopens and is dispatched again
    again = await t.press("lin", "没解决")
    assert "再请志愿者去看看" in texts(again, to="lin")
    reopened = t.case(case["id"])
    assert reopened["round"] == 2 and reopened["stage"] == "dispatched"
    assert reopened["task_id"] != case["task_id"]
    assert any("我来接单" in buttons([m]) for m in again)
    # And 王先生's late answer of the old round changes nothing
    late = await t.press("wang", "解决了")
    assert t.case(case["id"])["stage"] == "dispatched", texts(late)

    # Stages are time-stamped, and no volunteer ever saw a reporter's name
    assert [s["stage"] for s in t.case(case["id"])["history"]] == [
        "reported",
        "accepted",
        "dispatched",
        "handled",
        "accepted",
        "dispatched",
    ]
    for line in t.history():
        if any(f'"to": "{v}"' in line for v in PATROL):
            assert not any(name in line for name in REPORTERS), line


async def test_the_second_no_goes_to_the_coordinator() -> None:
    t = ReportsTranscript()
    filed = await t.report("lin")
    volunteer = next(m["to"] for m in filed if "我来接单" in buttons([m]))
    for round_no in (1, 2):
        offers = [m["to"] for m in t.run_jobs()]  # nothing waiting
        await t.press(volunteer, "我来接单")
        await t.press(volunteer, "已疏散")
        t.travel(minutes=61)
        said = await t.press("lin", "没解决")
        if round_no == 1:
            volunteer = next(m["to"] for m in said if "我来接单" in buttons([m]))
    assert "网格员会亲自跟进" in texts(said, to="lin")
    assert "两次说没解决" in texts(said, to="grid") and "再派一次" in buttons(said, to="grid")
    [case] = t.cases()
    assert case["held"] and case["no_count"] == 2
    del offers


async def test_yes_verifies_and_closes_and_the_case_leaves_the_hot_file_a_day_later() -> None:
    t = ReportsTranscript()
    filed = await t.report("lin")
    volunteer = next(m["to"] for m in filed if "我来接单" in buttons([m]))
    await t.press(volunteer, "我来接单")
    await t.press(volunteer, "已劝导")
    t.travel(minutes=61)
    closed = await t.press("lin", "解决了")
    assert "这个事件就结束了" in texts(closed, to="lin")
    [case] = t.cases()
    assert case["stage"] == "closed" and "verified" in case["stages"]
    t.travel(hours=25)
    assert t.cases() == [] and t.case(case["id"])["stage"] == "closed"
