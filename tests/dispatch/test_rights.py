"""A volunteer keeps only the rights they still have: revoked, declined later, or too early."""

from __future__ import annotations

from pathlib import Path

import pytest
from dispatch_world import (
    SECRETS,
    TEST_KIND,
    add_coordinator,
    add_grids,
    add_volunteer,
    advance,
    button,
    delivery,
    engine,
    make_app,
    offers,
    open_care_task,
    person_id_of,
    press,
    sent_to,
    settle,
    task,
)

from assistant.bootstrap import App
from assistant.jobs import timers
from assistant.services import dispatch, people


@pytest.fixture
def app() -> App:
    """Two care volunteers in g1 (one wave of two), a coordinator."""
    app = make_app(wave_size=2, waves=1)
    add_grids(app)
    with app.unit() as tx:
        add_volunteer(tx, "chen", "g1")
        add_volunteer(tx, "huang", "g1")
        add_coordinator(tx)
    return app


def _revoke(app: App, address: str) -> dispatch.StoodDown:
    """What ``assistant role revoke ADDRESS volunteer`` does, in one transaction."""
    with app.unit() as tx:
        person = people.revoke(tx, address, people.VOLUNTEER)
        done = dispatch.stand_down(tx, app, person["id"])
    settle(app)
    return done


async def test_a_revoked_volunteer_keeps_no_offer_and_no_task(app: App) -> None:
    eng = engine(app)
    # Given chen accepted one task and holds an open offer of another
    mine = open_care_task(app, in_hours=30)
    settle(app)
    await press(eng, "console:chen", button(sent_to(delivery(app).take(), "console:chen"), "a:"))
    other = open_care_task(app, in_hours=50)
    settle(app)
    old_offer = button(sent_to(delivery(app).take(), "console:chen"), "a:offer:accept:")
    assert task(app, mine)["assignee_id"] == person_id_of(app, "console:chen")
    # When the administrator revokes chen's volunteer role
    done = _revoke(app, "console:chen")
    # Then the open offer is withdrawn and its message says it is no longer needed
    assert (done.offers, done.tasks) == (1, 1)
    told = sent_to(delivery(app).take(), "console:chen")
    edits = [m for m in told if m.reply.edit]
    assert len(edits) == 1 and "不用您去了" in edits[0].reply.text and not edits[0].reply.choices
    assert [o["status"] for o in offers(app, other, person_id=task(app, mine)["dropped"][0])] == [
        "withdrawn"
    ]
    # And the accepted task goes back to dispatch without chen, and chen is told
    back = task(app, mine)
    assert back["status"] == dispatch.OPEN and back["round"] == 2 and back["assignee_id"] is None
    assert [e["event"] for e in back["events"]][-1] == "dropped"
    assert any("交回社区" in m.reply.text for m in told)
    # When chen presses the old accept button and the old step button anyway
    late = await press(eng, "console:chen", old_offer)
    step = await press(eng, "console:chen", f"a:task:on_way:{mine}")
    # Then nothing is given: no name, no address
    assert "失效" in late[0].reply.text and "不在您名下" in step[0].reply.text
    assert not any(secret in m.reply.text for m in late + step for secret in SECRETS)
    assert task(app, other)["status"] == dispatch.OPEN


async def test_accepting_checks_the_role_inside_the_deciding_transaction(app: App) -> None:
    task_id = open_care_task(app)
    settle(app)
    offer = button(sent_to(delivery(app).take(), "console:chen"), "a:offer:accept:")
    # Given chen's role is taken away by some other way, with the offer still open
    with app.unit() as tx:
        people.revoke(tx, "console:chen", people.VOLUNTEER)
    # When chen accepts
    replies = await press(engine(app), "console:chen", offer)
    # Then the task stays open and chen sees nothing personal
    assert "不适合" in replies[0].reply.text and task(app, task_id)["status"] == dispatch.OPEN
    assert not any(secret in replies[0].reply.text for secret in SECRETS)


async def test_a_coordinator_declining_later_stands_the_volunteer_down(app: App) -> None:
    task_id = open_care_task(app)
    settle(app)
    offer = button(sent_to(delivery(app).take(), "console:chen"), "a:offer:accept:")
    chen = person_id_of(app, "console:chen")
    # When a coordinator presses "decline" on chen, who was approved before
    said = await press(engine(app), "console:网格员小周", f"a:vol:no:{chen}")
    settle(app)
    assert "已处理" in said[0].reply.text
    # Then chen is told, loses the role and the offer
    told = sent_to(delivery(app).take(), "console:chen")
    assert any("暂停" in m.reply.text for m in told)
    assert any(m.reply.edit and "不用您去了" in m.reply.text for m in told)
    with app.store.snapshot() as tx:
        person = tx.require(people.PEOPLE, chen)
    assert "volunteer" not in person["roles"] and person["volunteer"]["status"] == "declined"
    refused = await press(engine(app), "console:chen", offer)
    assert task(app, task_id)["status"] == dispatch.OPEN
    assert not any(secret in refused[0].reply.text for secret in SECRETS)


async def test_on_my_way_a_day_early_says_when_the_visit_is(app: App) -> None:
    eng = engine(app)
    task_id = open_care_task(app, in_hours=30)
    settle(app)
    await press(eng, "console:chen", button(sent_to(delivery(app).take(), "console:chen"), "a:"))
    settle(app)
    delivery(app).take()
    # When chen presses "on my way" (an old button) a day before the visit
    early = await press(eng, "console:chen", f"a:task:on_way:{task_id}")
    settle(app)
    # Then the visit's time is said, the task does not move, and the resident hears nothing
    assert "还没到时间" in early[0].reply.text and "6月2日 周二 15:00" in early[0].reply.text
    assert task(app, task_id)["status"] == dispatch.ASSIGNED
    assert [e["event"] for e in task(app, task_id)["events"]] == ["assigned"]
    # And two hours before the start it is offered and accepted
    advance(app, hours=28)
    delivery(app).take()
    listed = await press(eng, "console:chen", f"a:task:on_way:{task_id}")
    assert "路上注意安全" in listed[0].reply.text
    assert task(app, task_id)["status"] == dispatch.ON_WAY


def test_with_nobody_to_ask_the_coordinator_is_told_whom_to_call() -> None:
    app = make_app()
    add_grids(app)
    with app.unit() as tx:
        add_coordinator(tx)
    open_care_task(app)
    settle(app)
    [alert] = sent_to(delivery(app).sent, "console:网格员小周")
    text = alert.reply.text
    assert "暂时没有合适的志愿者" in text and "可以请" not in text and alert.reply.choices == ()
    assert "林奶奶" in text and "13911112222" in text


def test_the_command_line_revoke_withdraws_in_the_same_transaction(tmp_path: Path) -> None:
    from assistant import cli, config
    from assistant.bootstrap import build
    from assistant.clock import FakeClock

    # Given a TinyDB store on disk where chen holds an open offer
    settings_file = tmp_path / "settings.toml"
    settings_file.write_text(f'[storage]\ndir = "{tmp_path / "data"}"\n', encoding="utf-8")
    settings = config.load(settings_file, environ={})
    seeded = build(settings, clock=FakeClock())
    seeded.task_kinds.register(TEST_KIND)
    add_grids(seeded)
    with seeded.store.transaction() as tx:
        add_volunteer(tx, "chen", "g1")
    task_id = open_care_task(seeded)
    settle(seeded)
    assert offers(seeded, task_id, status="open")
    # When the administrator revokes chen's role from the command line
    code = cli.main(
        ["--settings", str(settings_file), "role", "revoke", "console:chen", "volunteer"]
    )
    # Then the role is gone and the offer withdrawn, with its edit waiting in the outbox
    assert code == 0
    again = build(settings, clock=FakeClock())
    with again.store.snapshot() as tx:
        person = people.person_at(tx, "console:chen")
        pending = [t for t in timers.pending(tx) if t["job"] == "outbox.deliver"]
    assert person is not None and "volunteer" not in person["roles"]
    assert [o["status"] for o in offers(again, task_id)] == ["withdrawn"]
    assert any("不用您去了" in t["args"][0]["text"] for t in pending)
    # And left pending for the running scheduler, since the command has no workers
    assert {t["status"] for t in pending} == {timers.PENDING}
