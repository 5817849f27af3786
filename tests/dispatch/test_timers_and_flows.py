"""Reminders, safety checks, the daily digest, and the volunteer's own flows."""

from __future__ import annotations

import pytest
from dispatch_world import (
    SECRETS,
    add_coordinator,
    add_grids,
    add_volunteer,
    advance,
    button,
    clock,
    delivery,
    engine,
    make_app,
    open_care_task,
    person_id_of,
    press,
    say,
    sent_to,
    settle,
    task,
)

from assistant.bootstrap import App
from assistant.jobs import timers
from assistant.services import dispatch, people


@pytest.fixture
def app() -> App:
    app = make_app(wave_size=1, waves=1)
    add_grids(app)
    with app.unit() as tx:
        add_volunteer(tx, "chen", "g1")
        add_coordinator(tx)
    return app


async def accepted(app: App, **task_options: float) -> str:
    """A task opened in 30 hours and accepted by chen."""
    task_id = open_care_task(app, **task_options)  # type: ignore[arg-type]
    settle(app)
    offer = button(sent_to(delivery(app).take(), "console:chen"), "a:offer:accept:")
    await press(engine(app), "console:chen", offer)
    settle(app)
    delivery(app).take()
    return task_id


async def test_reminders_come_24_hours_and_1_hour_before(app: App) -> None:
    await accepted(app)
    # When time reaches 24 hours before the start (the task starts in 30 hours)
    advance(app, hours=5, minutes=59)
    assert sent_to(delivery(app).take(), "console:chen") == []
    advance(app, minutes=1)
    first = sent_to(delivery(app).take(), "console:chen")
    # Then chen alone is reminded, with the address and the next step
    assert [m.to for m in first] == ["console:chen"]
    assert "温馨提醒" in first[0].reply.text and SECRETS[0] in first[0].reply.text
    # And a day ahead "on my way" is not offered yet; the reminder says when it comes
    assert not [c for row in first[0].reply.choices for c in row if "on_way" in c.value]
    assert "开始前2小时起" in first[0].reply.text
    # And again an hour before, once, whatever the scheduler does meanwhile, with "on my way"
    advance(app, hours=23)
    second = sent_to(delivery(app).take(), "console:chen")
    assert len(second) == 1 and "温馨提醒" in second[0].reply.text
    assert button(second, "a:task:on_way:")
    advance(app, hours=3)
    assert sent_to(delivery(app).take(), "console:chen") == []


async def test_a_reminder_is_not_sent_for_a_task_given_up(app: App) -> None:
    task_id = await accepted(app)
    eng = engine(app)
    await press(eng, "console:chen", f"a:task:dropyes:{task_id}")
    settle(app)
    delivery(app).take()
    advance(app, hours=6)
    assert not [m for m in delivery(app).take() if "温馨提醒" in m.reply.text]


async def test_the_safety_check_asks_the_volunteer_then_the_coordinator(app: App) -> None:
    task_id = await accepted(app, in_hours=1.5)
    eng = engine(app)
    await press(eng, "console:chen", f"a:task:arrived:{task_id}")
    settle(app)
    delivery(app).take()
    # When the visit (60 min) plus the margin (30 min) passes without "done"
    advance(app, minutes=89)
    assert delivery(app).take() == []
    advance(app, minutes=1)
    # Then the volunteer is asked whether all is well
    asked = delivery(app).take()
    assert [m.to for m in asked] == ["console:chen"] and "一切都好吗" in asked[0].reply.text
    assert button(asked, "a:task:help:")
    # And another margin later the coordinator is alerted with where to go
    advance(app, minutes=30)
    alert = delivery(app).take()
    assert [m.to for m in alert] == ["console:网格员小周"]
    assert "安全提醒" in alert[0].reply.text and SECRETS[0] in alert[0].reply.text
    # And nothing more after that
    advance(app, hours=2)
    assert delivery(app).take() == []


async def test_done_in_time_means_no_safety_check(app: App) -> None:
    task_id = await accepted(app, in_hours=1.5)
    eng = engine(app)
    await press(eng, "console:chen", f"a:task:arrived:{task_id}")
    advance(app, minutes=50)
    await press(eng, "console:chen", f"a:task:done:{task_id}")
    settle(app)
    delivery(app).take()
    advance(app, hours=3)
    assert delivery(app).take() == []
    with app.store.snapshot() as tx:
        assert not [t for t in timers.pending(tx) if t["job"] == "dispatch.safety"]


async def test_asking_for_help_alerts_the_coordinator_at_once(app: App) -> None:
    task_id = await accepted(app, in_hours=1.5)
    replies = await press(engine(app), "console:chen", f"a:task:help:{task_id}")
    settle(app)
    assert "通知网格员" in replies[0].reply.text
    assert [m.to for m in delivery(app).take()] == ["console:网格员小周"]


async def test_the_digest_comes_each_morning_once_and_counts(app: App) -> None:
    # Given one open task that nobody took and one that failed
    open_care_task(app, in_hours=2)
    settle(app)
    delivery(app).take()
    failed = await accepted(app, in_hours=3)
    reasons = await press(engine(app), "console:chen", f"a:task:fail:{failed}")
    await press(engine(app), "console:chen", button(reasons, f"a:task:failwhy:{failed}:refused"))
    settle(app)
    delivery(app).take()
    # When the clock passes 08:00 in Shanghai (00:00 UTC) the next day
    clock(app).set(clock(app).now().replace(hour=23, minute=59))
    settle(app)
    assert sent_to(delivery(app).take(), "console:网格员小周") != []  # the escalation
    advance(app, minutes=1)
    digest = sent_to(delivery(app).take(), "console:网格员小周")
    # Then the coordinator gets one summary with the counts, and no personal data
    assert len(digest) == 1
    text = digest[0].reply.text
    assert "派单日报" in text and "新任务：2" in text and "未完成：1" in text
    assert "延误：1" in text and not any(secret in text for secret in SECRETS)
    # And the next one is already waiting for tomorrow, once
    with app.store.snapshot() as tx:
        waiting = [t for t in timers.pending(tx) if t["job"] == "dispatch.digest"]
    assert len(waiting) == 1 and waiting[0]["args"] == ["2026-06-03"]
    # And a redelivered digest for the same day sends nothing
    from assistant.services.dispatch import jobs as dispatch_jobs

    with app.unit() as tx:
        dispatch_jobs.digest_job(tx, app, "2026-06-02")
    settle(app)
    assert delivery(app).take() == []


# -- the volunteer's own flows ----------------------------------------------------------------


async def test_signing_up_then_a_coordinator_approves() -> None:
    app = make_app()
    add_grids(app)
    with app.unit() as tx:
        people.create_person(
            tx,
            name="梅阿姨",
            address="console:mei",
            language="zh_CN",
            now="2026-06-01T00:00:00+00:00",
            grid_id="g2",
        )
        add_coordinator(tx)
    eng = engine(app)
    # When 梅阿姨 signs up: two skills (one ticked off again), a team, her grid, 4 hours
    asked = await say(eng, "console:mei", "/volunteer")
    assert "谢谢您愿意" in asked[0].reply.text
    await press(eng, "console:mei", "s:care")
    await press(eng, "console:mei", "s:repair")
    await press(eng, "console:mei", "s:repair")
    asked = await press(eng, "console:mei", "s:escort")
    assert "✓ 上门照料" in [c.label for row in asked[-1].reply.choices for c in row]
    await press(eng, "console:mei", "done")
    teams = await press(eng, "console:mei", "none")
    grids = teams[-1].reply.choices
    assert grids[0][0].value == "g:g2"  # her own grid first
    await press(eng, "console:mei", "g:g2")
    done = await say(eng, "console:mei", "4")
    assert "申请交上去了" in done[0].reply.text
    settle(app)
    # Then the coordinator is asked, with buttons
    ask = sent_to(delivery(app).take(), "console:网格员小周")
    assert "上门照料、就医陪护" in ask[0].reply.text
    approve = button(ask, "a:vol:yes:")
    # When someone who is not a coordinator presses approve, nothing happens
    refused = await press(eng, "console:mei", approve)
    assert "过期" in refused[0].reply.text
    # When the coordinator approves
    await press(eng, "console:网格员小周", approve)
    settle(app)
    # Then she is told and is a volunteer who can get offers
    told = sent_to(delivery(app).take(), "console:mei")
    assert "通过啦" in told[0].reply.text
    with app.store.snapshot() as tx:
        person = tx.require(people.PEOPLE, person_id_of(app, "console:mei"))
    assert "volunteer" in person["roles"]
    assert person["volunteer"]["skills"] == ["care", "escort"]
    assert person["volunteer"]["grid_id"] == "g2" and person["volunteer"]["status"] == "approved"
    # And a second press changes nothing
    again = await press(eng, "console:网格员小周", approve)
    assert "过期" in again[0].reply.text
    # And /volunteer now says she is one
    status = await say(eng, "console:mei", "/volunteer")
    assert "已经是我们的志愿者" in status[0].reply.text


async def test_duty_switches_offers_off_and_on(app: App) -> None:
    eng = engine(app)
    off = await say(eng, "console:chen", "/duty")
    assert "休息" in off[0].reply.text
    task_id = open_care_task(app)
    settle(app)
    assert task(app, task_id)["escalated"] is True
    assert sent_to(delivery(app).take(), "console:chen") == []
    on = await say(eng, "console:chen", "/duty")
    assert "在岗" in on[0].reply.text
    # And an escalated task can be taken from /tasks
    listed = await say(eng, "console:chen", "/tasks")
    take = button(listed, f"a:task:take:{task_id}")
    assert not any(secret in m.reply.text for m in listed for secret in SECRETS)
    details = await press(eng, "console:chen", take)
    assert SECRETS[0] in details[0].reply.text
    assert task(app, task_id)["status"] == dispatch.ASSIGNED


async def test_tasks_lists_mine_with_their_buttons(app: App) -> None:
    eng = engine(app)
    empty = await say(eng, "console:chen", "/tasks")
    assert "没有任务" in empty[0].reply.text
    task_id = await accepted(app)
    listed = await say(eng, "console:chen", "/tasks")
    assert button(listed, f"a:task:drop:{task_id}")
    assert any(SECRETS[0] in m.reply.text for m in listed)
    # And two hours before the start, "on my way" is there too
    advance(app, hours=28)
    listed = await say(eng, "console:chen", "/tasks")
    assert button(listed, f"a:task:on_way:{task_id}")


async def test_residents_cannot_use_volunteer_commands(app: App) -> None:
    with app.unit() as tx:
        people.create_person(
            tx,
            name="林奶奶",
            address="console:lin",
            language="zh_CN",
            now="2026-06-01T00:00:00+00:00",
        )
    eng = engine(app)
    for command in ("/duty", "/tasks"):
        replies = await say(eng, "console:lin", command)
        assert replies[0].reply.text == replies[0].reply.text.strip()
        assert not any(
            choice.value.startswith("a:task:")
            for m in replies
            for row in m.reply.choices
            for choice in row
        )
