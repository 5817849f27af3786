"""Dispatch with real Redis, real worker processes and the real TinyDB store."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from dispatch_processes import (
    SPAWN,
    Poison,
    make_app,
    poll,
    racer_main,
    read_lines,
    start_worker,
    stop,
)
from dispatch_world import SECRETS, add_grids, add_volunteer, open_care_task, open_care_tasks

from assistant.bootstrap import App
from assistant.clock import FakeClock, SystemClock
from assistant.jobs import timers
from assistant.jobs.scheduler import tick
from assistant.redis_server import EmbeddedRedis
from assistant.services import dispatch

pytestmark = pytest.mark.slow

VOLUNTEERS = 12  # four per grid


@pytest.fixture
def world(tmp_path: Path, redis_url: str) -> Iterator[tuple[Path, str, Path]]:
    """A TinyDB folder with grids and volunteers, the Redis URL and the delivery file."""
    data, out = tmp_path / "data", tmp_path / "delivered.jsonl"
    app = make_app(data, redis_url, out)
    add_grids(app)
    with app.store.transaction() as tx:
        for number in range(VOLUNTEERS):
            add_volunteer(tx, f"v{number:02}", ("g1", "g2", "g3")[number % 3])
    yield data, redis_url, out


def scheduler(data: Path, url: str, out: Path, ahead: timedelta = timedelta(0)) -> App:
    """The test plays the scheduler, with a clock that may run ahead of the workers'."""
    return make_app(data, url, out, clock=FakeClock(SystemClock().now() + ahead))


def offers_delivered(out: Path) -> list[dict[str, Any]]:
    """Offer messages (first sends, not edits)."""
    return [
        line
        for line in read_lines(out)
        if not line["edit"]
        and any(value.startswith("a:offer:accept:") for row in line["choices"] for _, value in row)
    ]


def offer_ids(line: dict[str, Any]) -> str:
    return str(line["key"])


def test_the_accept_race_across_processes_has_exactly_one_winner(
    world: tuple[Path, str, Path],
) -> None:
    data, url, out = world
    workers = [start_worker(data, url, out) for _ in range(2)]
    try:
        # Given three tasks offered to three volunteers each by real workers
        app = scheduler(data, url, out)
        tasks = [
            open_care_task(app, grid_id=grid, requester_id="p-x") for grid in ("g1", "g2", "g3")
        ]
        poll(lambda: len(offers_delivered(out)) == 9, "nine offers")
        # When all nine volunteers press "accept" at the same moment, each in their own process
        go, results = SPAWN.Event(), SPAWN.Queue()
        racers = [
            SPAWN.Process(
                target=racer_main,
                args=(str(data), url, str(out), line["to"], _accept(line), go, results),
            )
            for line in offers_delivered(out)
        ]
        for racer in racers:
            racer.start()
        go.set()
        answers = [results.get(timeout=60) for _ in racers]
        for racer in racers:
            racer.join(30)
        # Then each task has exactly one winner, who alone got the address
        winners = [a for a in answers if any(SECRETS[0] in text for text in a[2])]
        assert len(winners) == 3
        with app.store.snapshot() as tx:
            for task_id in tasks:
                task = tx.require(dispatch.TASKS, task_id)
                assert task["status"] == dispatch.ASSIGNED
                accepted = tx.find(dispatch.OFFERS, task_id=task_id, status="accepted")
                assert len(accepted) == 1
        losers = [a for a in answers if a not in winners]
        assert all("已经有人接了" in a[2][0] for a in losers)
        # And every loser's offer is edited to "taken" by the workers
        poll(
            lambda: (
                len([x for x in read_lines(out) if x["edit"] and "已经有志愿者接了" in x["text"]])
                == 6
            ),
            "six edits",
        )
        for line in read_lines(out):
            if line["to"] not in {w[0] for w in winners}:
                assert not any(secret in line["text"] for secret in SECRETS)
    finally:
        for worker in workers:
            stop(worker)


def _accept(line: dict[str, Any]) -> str:
    return next(v for row in line["choices"] for _, v in row if v.startswith("a:offer:accept:"))


def test_a_worker_killed_mid_dispatch_loses_nothing_and_repeats_nothing(
    world: tuple[Path, str, Path], tmp_path: Path
) -> None:
    data, url, out = world
    marker = tmp_path / "frozen"
    # Given a worker that will freeze just before committing a wave's offers
    victim = start_worker(data, url, out, marker=str(marker))
    healthy: list[Any] = []
    try:
        app = scheduler(data, url, out)
        # (one transaction: the frozen victim will hold the store lock until it is killed)
        tasks = open_care_tasks(app, ["g1", "g2", "g3"], requester_id="p-x")
        poll(marker.exists, "the victim to freeze mid-wave")
        # When it is SIGKILLed there (holding the store lock), and a healthy worker takes over
        victim.kill()
        victim.join(10)
        assert victim.exitcode is not None and victim.exitcode < 0
        healthy.append(start_worker(data, url, out))

        def quiet() -> bool:
            """Only the dead worker's timers are still in flight."""
            with app.store.snapshot() as tx:
                for timer in timers.pending(tx):
                    if timer["status"] == timers.ENQUEUED and timer["job"] != "dispatch.wave":
                        return False
                    if timer["job"] == "dispatch.wave" and timer["status"] == timers.ENQUEUED:
                        task = tx.require(dispatch.TASKS, timer["args"][0])
                        if int(task["wave"]) >= int(timer["args"][2]):
                            return False
            return True

        poll(quiet, "the healthy worker to finish what it could")
        # And the scheduler hands out again what the dead worker held, a lease later
        tick(scheduler(data, url, out, ahead=timers.LEASE + timedelta(seconds=1)))
        poll(lambda: len(offers_delivered(out)) >= 9, "every first wave")
        poll(lambda: _all_waves_ran(app, tasks), "every wave recorded")
        poll(lambda: _no_outbox_left(app), "every message sent")
        # Then every task's first wave reached three volunteers, and nobody got an offer twice
        lines = offers_delivered(out)
        per_task = Counter(_task_of(app, line) for line in lines)
        assert per_task == Counter({task_id: 3 for task_id in tasks})
        assert len({offer_ids(line) for line in lines}) == len(lines) == 9
    finally:
        stop(victim)
        for worker in healthy:
            stop(worker)


def _task_of(app: App, line: dict[str, Any]) -> str:
    offer_id = str(line["key"]).removeprefix("offer:")
    with app.store.snapshot() as tx:
        return str(tx.require(dispatch.OFFERS, offer_id)["task_id"])


def _all_waves_ran(app: App, tasks: list[str]) -> bool:
    with app.store.snapshot() as tx:
        return all(int(tx.require(dispatch.TASKS, t)["wave"]) >= 1 for t in tasks)


def _no_outbox_left(app: App) -> bool:
    with app.store.snapshot() as tx:
        return not [t for t in timers.pending(tx) if t["job"] == "outbox.deliver"]


def test_a_redis_restart_with_pending_timers_loses_nothing(
    world: tuple[Path, str, Path], redis_server: EmbeddedRedis
) -> None:
    data, url, out = world
    workers = [start_worker(data, url, out) for _ in range(2)]
    try:
        # Given tasks whose first wave went out, with their second waves pending
        app = scheduler(data, url, out)
        first = [open_care_task(app, grid_id=g, requester_id="p-x") for g in ("g1", "g2")]
        poll(lambda: len(offers_delivered(out)) == 6, "the first waves")
        # When Redis dies, a booking is made while it is down, and Redis comes back
        redis_server.kill()
        with pytest.raises(Exception):  # noqa: B017 - the hand-out fails; the timer is stored
            open_care_task(app, grid_id="g3", requester_id="p-x")
        redis_server.restart_killed()
        # Then the scheduler hands out the stranded timer and the second waves when due
        tick(scheduler(data, url, out, ahead=timers.LEASE + timedelta(seconds=1)))
        poll(lambda: len(offers_delivered(out)) == 9, "the booking made while Redis was down")
        tick(scheduler(data, url, out, ahead=timedelta(minutes=10, seconds=5)))
        poll(lambda: len(offers_delivered(out)) == 9 + 9, "every second wave", limit=60)
        with app.store.snapshot() as tx:
            waves = [t["wave"] for t in tx.all(dispatch.TASKS)]
        assert waves == [2, 2, 2]
        assert len({offer_ids(line) for line in offers_delivered(out)}) == 18
        assert first
    finally:
        for worker in workers:
            stop(worker)
        if not redis_server.running_url():
            redis_server.restart_killed()


def test_a_poison_timer_ends_dead_and_the_admins_hear_of_it_once(
    world: tuple[Path, str, Path],
) -> None:
    data, url, out = world
    admin = "console:admin"
    worker = start_worker(data, url, out, admins=(admin,))
    try:
        # Given a job that fails every time, allowed two retries, handed to a real worker
        app = make_app(data, url, out, admins=(admin,))
        with app.unit() as tx:
            now = app.clock.now()
            timer_id = timers.schedule(tx, "test.poison", ["林奶奶 13911112222"], now, now)

        def dead() -> bool:
            tick(app)  # the test plays the scheduler: failed attempts come back after back-off
            with app.store.snapshot() as tx:
                return tx.require(timers.TIMERS, timer_id)["status"] == timers.DEAD

        # When the scheduler keeps handing it out
        poll(dead, "the poison timer to die", limit=60)
        # Then it ran three times, is kept with its error, and the admin is told once, plainly
        with app.store.snapshot() as tx:
            timer = tx.require(timers.TIMERS, timer_id)
            assert [t["id"] for t in timers.dead(tx)] == [timer_id]
        assert (timer["attempts"], timer["error"]) == (3, Poison.__name__)
        poll(lambda: _no_outbox_left(app), "the admins' notice sent")
        # And nothing hands it out again: a dead timer stays dead until an admin retries it
        assert [tick(app) for _ in range(5)] == [0] * 5 and dead()
        [notice] = [line for line in read_lines(out) if line["to"] == admin]
        assert "test.poison" in notice["text"] and timer_id in notice["text"]
        assert Poison.__name__ in notice["text"]
        assert "林奶奶" not in notice["text"] and "13911112222" not in notice["text"]
    finally:
        stop(worker)
