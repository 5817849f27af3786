"""Waves, first accept wins, escalation, drop and re-dispatch, with in-memory twins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dispatch_world import (
    SECRETS,
    add_coordinator,
    add_grids,
    add_volunteer,
    advance,
    button,
    delivery,
    engine,
    offers,
    open_care_task,
    person_id_of,
    press,
    sent_to,
    settle,
    task,
)

from assistant.bootstrap import App
from assistant.services import dispatch, people


@pytest.fixture
def app() -> App:
    """Grids g1–g3; five care volunteers (two at home, one next door, two far); a coordinator."""
    from dispatch_world import make_app

    app = make_app()
    add_grids(app)
    with app.unit() as tx:
        add_volunteer(tx, "chen", "g1", taken=[])
        add_volunteer(tx, "huang", "g1")
        add_volunteer(tx, "wu", "g2")
        add_volunteer(tx, "liu", "g3")
        add_volunteer(tx, "zheng", "g3")
        add_volunteer(tx, "li", "g1", skills=("repair",))
        add_volunteer(tx, "pending", "g1", status="pending")
        add_volunteer(tx, "resting", "g1", on_duty=False)
        add_volunteer(tx, "blocked", "g1", reachable=False)
        add_coordinator(tx)
    return app


def offered_to(app: App) -> list[str]:
    """Who received an offer message (with accept buttons) since last asked."""
    return sorted(
        m.to.removeprefix("console:")
        for m in delivery(app).sent
        if any(c.value.startswith("a:offer:accept:") for row in m.reply.choices for c in row)
        and not m.reply.edit
    )


def no_secrets_except(app: App, allowed: set[str]) -> None:
    """Nobody but ``allowed`` addresses ever saw an address, phone, name or health note."""
    for message in delivery(app).sent:
        if message.to in allowed:
            continue
        for secret in SECRETS:
            assert secret not in message.reply.text, (message.to, message.reply.text)


def test_the_first_wave_goes_to_the_nearest_eligible_volunteers(app: App) -> None:
    # When a care task in g1 is opened
    open_care_task(app)
    settle(app)
    # Then the two volunteers of g1 who can take it get an offer, nobody else
    assert offered_to(app) == ["chen", "huang"]
    # And the offer shows service, time and place, but nothing personal
    offer = sent_to(delivery(app).sent, "console:chen")[0]
    assert "上门照料" in offer.reply.text and "锦绣家园" in offer.reply.text
    assert "6月2日" in offer.reply.text  # 07:00 UTC + 30 h is 6月2日 15:00 in Shanghai
    assert "15:00" in offer.reply.text
    assert offer.reply.key.startswith("offer:")
    no_secrets_except(app, set())


def test_silence_moves_on_to_the_next_wave_then_escalates(app: App) -> None:
    task_id = open_care_task(app)
    settle(app)
    delivery(app).take()
    # When nobody answers for a wave's time
    advance(app, minutes=10)
    # Then the next wave goes to the neighbouring grid and then the community
    second = offered_to(app)
    assert "wu" in second and len(second) == 2 and set(second) - {"wu"} <= {"liu", "zheng"}
    assert task(app, task_id)["wave"] == 2
    delivery(app).take()
    # When the last wave also stays silent
    advance(app, minutes=10)
    # Then the grid's group is asked for help and the coordinator gets one-tap choices
    sent = delivery(app).sent
    group = sent_to(sent, "console:group-g1")
    assert len(group) == 1 and "/tasks" in group[0].reply.text
    alert = sent_to(sent, "console:网格员小周")[0]
    assert button([alert], "a:assign:" + task_id + ":")
    assert task(app, task_id)["escalated"] is True
    assert [e["event"] for e in task(app, task_id)["events"]] == ["escalated"]
    # And nobody got personal data
    no_secrets_except(app, set())
    # And a redelivered last wave changes nothing
    delivery(app).take()
    with app.unit() as tx:
        assert dispatch.run_wave(tx, app, task_id, 1, 3) == 0 and tx.due_timers == []
    settle(app)
    assert delivery(app).sent == []


async def test_first_accept_wins_and_the_other_offer_becomes_taken(app: App) -> None:
    task_id = open_care_task(app)
    settle(app)
    eng = engine(app)
    first = sent_to(delivery(app).sent, "console:chen")
    second = sent_to(delivery(app).sent, "console:huang")
    # When huang accepts first
    won = await press(eng, "console:huang", button(second, "a:offer:accept:"))
    settle(app)
    # Then huang gets the private details with the next steps
    assert SECRETS[0] in won[0].reply.text and SECRETS[1] in won[0].reply.text
    assert button(won, "a:task:drop:" + task_id)  # "on my way" comes nearer the start
    # And chen's offer is edited in place to "already taken"
    edits = [m for m in sent_to(delivery(app).sent, "console:chen") if m.reply.edit]
    assert len(edits) == 1 and "已经有志愿者接了" in edits[0].reply.text
    assert edits[0].reply.key == first[0].reply.key and edits[0].reply.choices == ()
    # When chen presses accept on the old message anyway
    lost = await press(eng, "console:chen", button(first, "a:offer:accept:"))
    # Then chen is thanked and told it is taken; the task stays huang's
    assert "已经有人接了" in lost[0].reply.text
    assert task(app, task_id)["status"] == dispatch.ASSIGNED
    assert [o["status"] for o in offers(app, task_id)].count("accepted") == 1
    # And chen never saw the address, phone or notes
    no_secrets_except(app, {"console:huang"})
    assert not any(SECRETS[0] in m.reply.text for m in lost)


async def test_someone_cannot_press_another_volunteers_offer(app: App) -> None:
    open_care_task(app)
    settle(app)
    chen_offer = button(sent_to(delivery(app).sent, "console:chen"), "a:offer:accept:")
    replies = await press(engine(app), "console:wu", chen_offer)
    assert "失效" in replies[0].reply.text
    no_secrets_except(app, set())


async def test_declines_start_the_next_wave_at_once(app: App) -> None:
    task_id = open_care_task(app)
    settle(app)
    eng = engine(app)
    sent = delivery(app).take()
    # When both of the first wave decline
    for who in ("chen", "huang"):
        await press(
            eng, f"console:{who}", button(sent_to(sent, f"console:{who}"), "a:offer:decline:")
        )
    settle(app)
    # Then the second wave is offered without waiting (the neighbour, then one far away)
    second = offered_to(app)
    assert "wu" in second and len(second) == 2 and set(second) - {"wu"} <= {"liu", "zheng"}
    assert task(app, task_id)["declined"] == sorted(
        o["person_id"] for o in offers(app, task_id, status="declined")
    )


async def test_drop_re_dispatches_without_the_volunteer_who_dropped(app: App) -> None:
    task_id = open_care_task(app)
    settle(app)
    eng = engine(app)
    sent = delivery(app).take()
    await press(eng, "console:chen", button(sent_to(sent, "console:chen"), "a:offer:accept:"))
    settle(app)
    delivery(app).take()
    # When chen gives the task up (after confirming)
    confirm = await press(eng, "console:chen", f"a:task:drop:{task_id}")
    replies = await press(eng, "console:chen", button(confirm, "a:task:dropyes:"))
    settle(app)
    # Then a fresh round offers it again, to huang (who had lost) and not to chen
    assert "另找" in replies[0].reply.text
    current = task(app, task_id)
    assert current["status"] == dispatch.OPEN and current["round"] == 2
    assert offered_to(app) == ["huang", "wu"]
    assert [e["event"] for e in current["events"]] == ["assigned", "dropped"]


async def test_lifecycle_and_a_second_press_is_harmless(app: App) -> None:
    task_id = open_care_task(app)
    settle(app)
    eng = engine(app)
    sent = delivery(app).take()
    await press(eng, "console:chen", button(sent_to(sent, "console:chen"), "a:offer:accept:"))
    advance(app, hours=28)  # two hours before the start: "on my way" is offered now
    for step in ("on_way", "on_way", "arrived", "done", "done"):
        await press(eng, "console:chen", f"a:task:{step}:{task_id}")
    settle(app)
    current = task(app, task_id)
    assert current["status"] == dispatch.DONE
    assert [e["event"] for e in current["events"]] == ["assigned", "on_way", "arrived", "done"]
    # And a stranger cannot move anyone's task
    replies = await press(eng, "console:wu", f"a:task:arrived:{task_id}")
    assert "不在您名下" in replies[0].reply.text


async def test_could_not_complete_asks_a_reason(app: App) -> None:
    task_id = open_care_task(app)
    settle(app)
    eng = engine(app)
    sent = delivery(app).take()
    await press(eng, "console:chen", button(sent_to(sent, "console:chen"), "a:offer:accept:"))
    reasons = await press(eng, "console:chen", f"a:task:fail:{task_id}")
    await press(eng, "console:chen", button(reasons, f"a:task:failwhy:{task_id}:not_home"))
    current = task(app, task_id)
    assert current["status"] == dispatch.FAILED and current["reason"] == "not_home"


async def test_coordinator_asks_a_volunteer_after_escalation_and_it_is_checked(app: App) -> None:
    task_id = open_care_task(app)
    settle(app)
    advance(app, minutes=10)
    advance(app, minutes=10)
    eng = engine(app)
    alert = sent_to(delivery(app).sent, "console:网格员小周")
    # The alert says one thing: the volunteers to ask, not also "nobody is suitable"
    assert "可以请下面的志愿者帮忙" in alert[0].reply.text
    assert "暂时没有合适的志愿者" not in alert[0].reply.text
    choice = button(alert, f"a:assign:{task_id}:")
    delivery(app).take()
    # When a volunteer (not a coordinator) presses the assignment button
    refused = await press(eng, "console:wu", choice)
    assert "过期" in refused[0].reply.text and task(app, task_id)["status"] == dispatch.OPEN
    # When the coordinator presses it
    done = await press(eng, "console:网格员小周", choice)
    settle(app)
    # Then the volunteer is asked, with accept / can't buttons, and no personal data yet
    asked_id = choice.rsplit(":", 1)[1]
    assert task(app, task_id)["status"] == dispatch.OPEN and "已经问" in done[0].reply.text
    asked = [m for m in delivery(app).take() if m.to != "console:网格员小周"]
    [request] = asked
    assert "网格员想请您帮忙" in request.reply.text and "已经有志愿者接了" not in request.reply.text
    assert [c.label for row in request.reply.choices for c in row] == ["我来接单", "这次去不了"]
    no_secrets_except(app, set())
    # When they accept, they alone get the details, thanked once, and never told "taken"
    details = await press(eng, request.to, button([request], "a:offer:accept:"))
    settle(app)
    assert task(app, task_id)["assignee_id"] == asked_id
    assert SECRETS[0] in details[0].reply.text and "谢谢您接单" in details[0].reply.text
    to_them = [m.reply.text for m in delivery(app).take() if m.to == request.to]
    assert not any("已经有志愿者接了" in text for text in to_them)
    no_secrets_except(app, {request.to})
    # And pressing again changes nothing
    again = await press(eng, "console:网格员小周", choice)
    assert "已经有人接了" in again[0].reply.text


async def test_assign_only_for_an_escalated_task_and_a_volunteer_it_offered(app: App) -> None:
    # Given an open task in its first wave (not escalated), offered to chen and huang
    task_id = open_care_task(app)
    settle(app)
    delivery(app).take()
    eng = engine(app)
    wu = person_id_of(app, "console:wu")
    # When the coordinator forges an assignment to wu before any escalation
    early = await press(eng, "console:网格员小周", f"a:assign:{task_id}:{wu}")
    # Then nothing happens
    assert "没有问成" in early[0].reply.text and task(app, task_id)["status"] == dispatch.OPEN
    assert offers(app, task_id, person_id=wu) == []
    # When it escalates, a volunteer who was not one of the choices cannot be assigned either
    advance(app, minutes=10)
    advance(app, minutes=10)
    choices = task(app, task_id)["assign_choices"]
    li = person_id_of(app, "console:li")  # a repair volunteer: not a choice for care
    assert li not in choices
    forged = await press(eng, "console:网格员小周", f"a:assign:{task_id}:{li}")
    assert "没有问成" in forged[0].reply.text and offers(app, task_id, person_id=li) == []
    # And "take" from /tasks only works for escalated tasks
    fresh = open_care_task(app, grid_id="g3")
    settle(app)
    taken = await press(eng, "console:chen", f"a:task:take:{fresh}")
    assert "不适合" in taken[0].reply.text and task(app, fresh)["status"] == dispatch.OPEN


async def test_a_volunteer_who_cannot_go_gives_the_coordinator_fresh_choices(app: App) -> None:
    task_id = open_care_task(app)
    settle(app)
    advance(app, minutes=10)
    advance(app, minutes=10)
    eng = engine(app)
    choice = button(sent_to(delivery(app).take(), "console:网格员小周"), f"a:assign:{task_id}:")
    await press(eng, "console:网格员小周", choice)
    settle(app)
    [request] = [m for m in delivery(app).take() if m.to != "console:网格员小周"]
    # When the volunteer asked cannot go
    said = await press(eng, request.to, button([request], "a:offer:decline:"))
    settle(app)
    # Then they are thanked once, and the coordinator hears it with other volunteers to ask
    assert "谢谢" in said[0].reply.text
    edit = [m for m in delivery(app).sent if m.to == request.to and m.reply.edit]
    assert edit and "谢谢" not in edit[-1].reply.text
    told = sent_to(delivery(app).take(), "console:网格员小周")
    assert "这次去不了" in told[0].reply.text
    values = [c.value for row in told[0].reply.choices for c in row]
    assert values and choice not in values


def test_nobody_eligible_escalates_at_once() -> None:
    from dispatch_world import make_app

    app = make_app()
    add_grids(app)
    with app.unit() as tx:
        add_coordinator(tx)
    task_id = open_care_task(app)
    settle(app)
    assert task(app, task_id)["escalated"] is True
    alert = sent_to(delivery(app).sent, "console:网格员小周")[0]
    assert "暂时没有合适的志愿者" in alert.reply.text


async def test_cancel_withdraws_offers_and_tells_the_assignee(app: App) -> None:
    task_id = open_care_task(app)
    settle(app)
    with app.unit() as tx:
        dispatch.cancel_task(tx, app, task_id, "resident")
    settle(app)
    edits = [m for m in delivery(app).sent if m.reply.edit]
    assert sorted(m.to for m in edits) == ["console:chen", "console:huang"]
    assert all("取消" in m.reply.text for m in edits)
    assert task(app, task_id)["status"] == dispatch.CANCELLED
    # And the next wave never comes
    delivery(app).take()
    advance(app, minutes=30)
    assert offered_to(app) == []


async def test_reschedule_edits_open_offers_with_the_new_time(app: App) -> None:
    task_id = open_care_task(app)
    settle(app)
    delivery(app).take()
    later = app.clock.now() + timedelta(days=3)
    with app.unit() as tx:
        dispatch.reschedule_task(tx, app, task_id, later)
    settle(app)
    edits = delivery(app).sent
    assert sorted(m.to for m in edits) == ["console:chen", "console:huang"]
    assert all(m.reply.edit and "6月4日" in m.reply.text for m in edits)
    assert button(edits, "a:offer:accept:")


def test_a_wave_reads_its_own_grid_first_and_widens_only_when_it_is_short() -> None:
    from dispatch_world import make_app

    # Given a wave of four: in g1 a busy volunteer, one whose profile names no grid (the
    # person lives in g1), and one more; a neighbour in g2, and one far away in g3
    app = make_app(wave_size=4)
    add_grids(app)
    with app.unit() as tx:
        add_volunteer(tx, "chen", "g1")
        add_volunteer(tx, "huang", "g1")
        nogrid = add_volunteer(tx, "nogrid", "g1")
        person = tx.require(people.PEOPLE, nogrid)
        person["volunteer"]["grid_id"] = None
        tx.put(people.PEOPLE, nogrid, person)
        add_volunteer(tx, "wu", "g2")
        add_volunteer(tx, "liu", "g3")
        add_coordinator(tx)
    busy_id = open_care_task(app, grid_id="g3")  # another task, at the same time
    with app.unit() as tx:
        other = tx.require(dispatch.TASKS, busy_id)
        other.update(status=dispatch.ASSIGNED, assignee_id=person_id_of(app, "console:chen"))
        tx.put(dispatch.TASKS, busy_id, other)
    delivery(app).take()
    # When a task in g1 is opened
    open_care_task(app)
    settle(app)
    # Then g1's two free volunteers, the neighbour and the far one get it; the busy one not
    assert offered_to(app) == ["huang", "liu", "nogrid", "wu"]


def test_a_grid_with_enough_volunteers_is_the_whole_wave() -> None:
    from dispatch_world import make_app

    app = make_app(wave_size=2)
    add_grids(app)
    with app.unit() as tx:
        add_volunteer(tx, "wu", "g2", taken=[])  # a neighbour who never took a task
        add_volunteer(tx, "chen", "g1")
        add_volunteer(tx, "huang", "g1")
        add_volunteer(tx, "blocked", "g1", reachable=False)
        add_coordinator(tx)
    open_care_task(app)
    settle(app)
    assert offered_to(app) == ["chen", "huang"]
