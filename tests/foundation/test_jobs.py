"""The jobs core: one hand-out per due timer, attempts that end somewhere, an index by due time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from assistant.bootstrap import App, build_for_tests, job_table
from assistant.clock import FakeClock, from_iso, to_iso
from assistant.config import defaults
from assistant.delivery import MemoryDelivery
from assistant.errors import TryLater
from assistant.jobs import firing, scheduler, timers
from assistant.jobs.firing import bound
from assistant.jobs.table import DuplicateJob, JobSpec
from assistant.jobs.unit import after_commit
from assistant.queue import MemoryQueue, SchedulerQueue
from assistant.services import dispatch
from assistant.store.base import Store, Tx
from assistant.store.memory import MemoryStore

ADMIN = "console:admin"
RAN: list[str] = []


class Refused(LookupError):
    """What the refusing job raises: expected, never retried."""


def flaky(app: App, tag: str) -> None:
    RAN.append(tag)
    if tag.startswith("bad"):
        raise RuntimeError("林奶奶 13911112222")  # an error text may quote personal data


def refusing(app: App, tag: str) -> None:
    raise Refused(tag)


def later(app: App, tag: str) -> None:
    RAN.append(tag)
    if len(RAN) == 1:
        raise TryLater(37.0)  # e.g. another worker's claim on the message lives 37 s more


def writes(tx: Tx, app: App, tag: str) -> None:
    tx.put("notes", tag, {"tag": tag})
    if tag == "bad":
        raise RuntimeError("no")


JOBS = {
    "test.flaky": JobSpec(flaky, max_retries=2, min_backoff_ms=1000, max_backoff_ms=3000),
    "test.refusing": JobSpec(refusing, throws=(Refused,)),
    "test.later": JobSpec(later, max_retries=3, min_backoff_ms=1000),
    "test.writes": JobSpec(writes, max_retries=1, in_unit=True),
    "test.private": JobSpec(
        flaky, max_retries=1, min_backoff_ms=1000, audit=lambda args: [len(args)], private_args=True
    ),
}


@pytest.fixture(params=["memory", "postgres"])
def app(request: pytest.FixtureRequest) -> Iterator[App]:
    """The jobs core on the in-memory twin, and on PostgreSQL (its own index by due time)."""
    RAN.clear()
    settings = defaults().with_values(roles={"admins": [ADMIN]})
    if request.param == "memory":
        yield build_for_tests(settings, jobs=JOBS)
        return
    from assistant.store.postgres import PostgresStore

    store = PostgresStore(request.getfixturevalue("postgres_url"))
    yield build_for_tests(settings, store=store, jobs=JOBS)
    store.close()


def queue(app: App) -> MemoryQueue:
    assert isinstance(app.queue, MemoryQueue)
    return app.queue


def clock(app: App) -> FakeClock:
    assert isinstance(app.clock, FakeClock)
    return app.clock


def schedule(app: App, job: str, tag: str, later: timedelta = timedelta(0), key: str = "") -> str:
    with app.unit() as tx:
        now = app.clock.now()
        return timers.schedule(tx, job, [tag], now + later, now, key=key)


def timer(app: App, timer_id: str) -> dict[str, Any]:
    with app.store.snapshot() as tx:
        return tx.require(timers.TIMERS, timer_id)


def run(app: App) -> int:
    """Run what is queued, recording failures as the workers do (no re-raise)."""
    return queue(app).run_all(bound(app, reraise=False))


def admin_notices(app: App) -> list[str]:
    delivery = app.delivery
    assert isinstance(delivery, MemoryDelivery)
    return [m.reply.text for m in delivery.sent if m.to == ADMIN]


# -- one unit of work, one hand-out ------------------------------------------------------------


def test_a_timer_due_now_is_handed_out_once_after_the_commit(app: App) -> None:
    # Given a unit of work that schedules a timer due now, and the same keyed timer twice
    with app.unit() as tx:
        now = app.clock.now()
        first = timers.schedule(tx, "test.flaky", ["a"], now, now, key="k")
        again = timers.schedule(tx, "test.flaky", ["a"], now, now, key="k")
        # Then nothing is queued before the commit
        assert queue(app).jobs == [] and tx.due_timers == [first]
    # And after it the one timer is queued once, marked enqueued
    assert first == again
    assert [(j.name, j.args) for j in queue(app).jobs] == [("timers.fire", (first,))]
    assert timer(app, first)["status"] == timers.ENQUEUED
    # And scheduling it again in a later unit hands nothing out again
    assert schedule(app, "test.flaky", "a", key="k") == first
    assert len(queue(app).jobs) == 1
    # And the scheduler leaves it alone while its lease runs
    assert scheduler.tick(app) == 0
    run(app)
    assert RAN == ["a"] and timer(app, first)["status"] == timers.DONE


def test_a_failed_unit_hands_nothing_out(app: App) -> None:
    with pytest.raises(ZeroDivisionError), app.unit() as tx:
        now = app.clock.now()
        timers.schedule(tx, "test.flaky", ["a"], now, now)
        _ = 1 / 0
    assert queue(app).jobs == []
    with app.store.snapshot() as tx:
        assert timers.pending(tx) == []


def test_steps_after_a_commit_run_once_it_committed_and_never_after_a_rollback(app: App) -> None:
    seen: list[str] = []
    # Given a unit of work with a step after its commit, and one that fails
    with app.unit() as tx:
        tx.put("notes", "n1", {"text": "kept"})
        assert after_commit(tx, lambda: seen.append("ran"))
        after_commit(tx, lambda: 1 / 0)  # a failing step is logged; the commit stands
        assert seen == []  # not before the commit
    # Then it ran after the commit, with the change in place
    assert seen == ["ran"]
    assert app.store.read("notes", "n1") == {"id": "n1", "text": "kept"}
    # And a unit of work that rolls back runs none, and a bare transaction takes none
    with pytest.raises(ZeroDivisionError), app.unit() as tx:
        after_commit(tx, lambda: seen.append("rolled back"))
        _ = 1 / 0
    with app.store.transaction() as tx:
        assert not after_commit(tx, lambda: seen.append("bare"))
    assert seen == ["ran"]


def test_a_process_without_workers_leaves_due_timers_to_the_scheduler() -> None:
    # Given a command-line app (no workers), sharing the store with a running scheduler
    store = MemoryStore()
    command = build_for_tests(store=store, queue=SchedulerQueue(), jobs=JOBS)
    running = build_for_tests(store=store, clock=command.clock, jobs=JOBS)
    # When the command schedules a timer due now
    timer_id = schedule(command, "test.flaky", "cli")
    # Then it waits, pending, and the scheduler's next round hands it out, no attempt counted
    assert timer(command, timer_id)["status"] == timers.PENDING
    assert scheduler.tick(running) == 1
    run(running)
    assert RAN == ["cli"] and timer(running, timer_id)["attempts"] == 0


def test_a_bare_transaction_leaves_its_due_timer_to_the_scheduler(app: App) -> None:
    with app.store.transaction() as tx:
        now = app.clock.now()
        timer_id = timers.schedule(tx, "test.flaky", ["bare"], now, now)
    assert queue(app).jobs == [] and timer(app, timer_id)["status"] == timers.PENDING
    assert scheduler.tick(app) == 1
    run(app)
    assert RAN == ["bare"] and timer(app, timer_id)["attempts"] == 0


def test_a_job_in_the_unit_commits_with_its_done_mark_or_not_at_all(app: App) -> None:
    good, bad = schedule(app, "test.writes", "good"), schedule(app, "test.writes", "bad")
    run(app)
    with app.store.snapshot() as tx:
        assert tx.get("notes", "good") is not None and tx.get("notes", "bad") is None
        assert tx.require(timers.TIMERS, good)["status"] == timers.DONE
        assert tx.require(timers.TIMERS, bad)["status"] == timers.PENDING


# -- attempts, back-off, failed and dead ---------------------------------------------------------


def test_a_failing_timer_backs_off_then_dies_and_the_admins_hear_once(app: App) -> None:
    # Given a job that always fails, allowed two retries with a 1 s back-off capped at 3 s
    timer_id = schedule(app, "test.flaky", "bad")
    waits = []
    for _ in range(3):
        run(app)
        found = timer(app, timer_id)
        if found["status"] == timers.DEAD:
            break
        waits.append(from_iso(found["due"]) - app.clock.now())
        # Not handed out before its back-off is over
        clock(app).advance(waits[-1] - timedelta(milliseconds=1))
        assert scheduler.tick(app) == 0
        clock(app).advance(milliseconds=1)
        assert scheduler.tick(app) == 1
    # Then it waited 1 s, then 2 s, and after three attempts it is dead and kept
    assert waits == [timedelta(seconds=1), timedelta(seconds=2)]
    dead = timer(app, timer_id)
    assert (dead["status"], dead["attempts"], dead["error"]) == ("dead", 3, "RuntimeError")
    with app.store.snapshot() as tx:
        assert [t["id"] for t in timers.dead(tx)] == [timer_id]
    # And the admins get one notice: the job, the timer and the error's class, nothing personal
    run(app)
    clock(app).advance(hours=1)
    assert scheduler.tick(app) == 0 and run(app) == 0
    [notice] = admin_notices(app)
    assert "test.flaky" in notice and timer_id in notice and "RuntimeError" in notice
    assert "林奶奶" not in notice and "13911112222" not in notice
    assert JobSpec(flaky, min_backoff_ms=1000, max_backoff_ms=3000).backoff_ms(5) == 3000


def test_a_job_that_says_when_to_try_again_waits_that_long(app: App) -> None:
    # Given a job that says "try again in 37 s" the first time
    timer_id = schedule(app, "test.later", "once")
    run(app)
    # Then it waits 37 s, not its back-off of 1 s, and the attempt counts
    found = timer(app, timer_id)
    assert (found["status"], found["attempts"], found["error"]) == ("pending", 1, "TryLater")
    assert from_iso(found["due"]) - app.clock.now() == timedelta(seconds=37)
    clock(app).advance(seconds=36)
    assert scheduler.tick(app) == 0
    clock(app).advance(seconds=1)
    assert scheduler.tick(app) == 1 and run(app) == 1
    assert RAN == ["once", "once"] and timer(app, timer_id)["status"] == timers.DONE


def test_a_timer_with_private_arguments_gives_up_without_keeping_them(app: App) -> None:
    # Given a job whose arguments are someone's forgotten data, and that always fails
    timer_id = schedule(app, "test.private", "bad 林奶奶")
    run(app)
    clock(app).advance(seconds=2)
    scheduler.tick(app)
    run(app)
    # Then after its attempts it is not dead with them: it failed, keeping only their count
    gone = timer(app, timer_id)
    assert gone["status"] == "failed" and gone["args"] == [1]
    with app.store.snapshot() as tx:
        assert timers.dead(tx) == []
        assert "林奶奶" not in json.dumps([*tx.all(timers.TIMERS), *tx.archived(timers.TIMERS)])


def test_a_dead_timer_runs_again_when_an_admin_retries_it(app: App) -> None:
    timer_id = schedule(app, "test.flaky", "bad")
    for _ in range(3):
        run(app)
        clock(app).advance(seconds=5)
        scheduler.tick(app)
    assert timer(app, timer_id)["status"] == timers.DEAD
    with app.unit() as tx:
        firing.retry(tx, app, timer_id)
    assert timer(app, timer_id)["attempts"] == 0
    run(app)
    assert timer(app, timer_id)["attempts"] == 1
    with pytest.raises(firing.NotDead), app.unit() as tx:
        firing.retry(tx, app, "tm-nothing")


def test_an_error_the_job_throws_is_not_retried(app: App) -> None:
    timer_id = schedule(app, "test.refusing", "gone")
    run(app)
    found = timer(app, timer_id)
    assert (found["status"], found["attempts"], found["error"]) == ("failed", 1, "Refused")
    clock(app).advance(hours=1)
    assert scheduler.tick(app) == 0 and admin_notices(app) == []
    with app.store.snapshot() as tx:
        assert timers.pending(tx) == [] and timers.dead(tx) == []


def test_a_timer_whose_worker_dies_every_time_ends_dead(app: App) -> None:
    # Given a timer handed out whose worker never finishes (killed mid-job, every time)
    timer_id = schedule(app, "test.flaky", "kills")
    queue(app).take()
    handed = []
    # When the lease lapses again and again
    for _ in range(4):
        clock(app).advance(timers.LEASE + timedelta(seconds=1))
        scheduler.tick(app)
        handed.append([job.args for job in queue(app).take()].count((timer_id,)))
    # Then each lapse counts as an attempt, and after the limit it is dead, not handed out for ever
    assert handed == [1, 1, 0, 0]
    found = timer(app, timer_id)
    assert (found["status"], found["attempts"], found["error"]) == ("dead", 3, "LeaseLapsed")


def test_a_job_registered_twice_is_an_error() -> None:
    with pytest.raises(DuplicateJob):
        job_table({"outbox.deliver": JobSpec(flaky)})


# -- the index by due time ---------------------------------------------------------------------


class CountingStore:
    """A store that counts what the scheduler reads, and the commits."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.reads: list[tuple[str, str]] = []
        self.commits = 0

    @contextmanager
    def _counted(self, tx: Tx) -> Iterator[Tx]:
        spy = self

        class Spy:
            def __getattr__(self, name: str) -> Any:
                return getattr(tx, name)

            def get(self, collection: str, doc_id: str) -> Any:
                spy.reads.append((collection, doc_id))
                return tx.get(collection, doc_id)

            def all(self, collection: str) -> Any:
                spy.reads.append((collection, "*"))
                return tx.all(collection)

            def find(self, collection: str, **equals: Any) -> Any:
                spy.reads.append((collection, "?"))
                return tx.find(collection, **equals)

        yield Spy()  # type: ignore[misc]

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.inner.transaction() as tx, self._counted(tx) as spy:
            yield spy
        self.commits += 1

    @contextmanager
    def snapshot(self) -> Iterator[Tx]:
        with self.inner.snapshot() as tx, self._counted(tx) as spy:
            yield spy

    def read(self, collection: str, doc_id: str) -> Any:
        self.reads.append((collection, doc_id))
        return self.inner.read(collection, doc_id)

    def close(self) -> None:
        self.inner.close()


def _next_week_and_one_soon(tx: Tx, now: datetime) -> str:
    """A hundred timers due in a week and one due in a minute; the soon one's id."""
    for number in range(100):
        timers.schedule(tx, "test.flaky", [str(number)], now + timedelta(days=7), now)
    return timers.schedule(tx, "test.flaky", ["soon"], now + timedelta(minutes=1), now)


def test_the_scheduler_reads_only_what_is_due(tmp_path: Path) -> None:
    from assistant.store.tinydb_store import TinyDbStore

    store = CountingStore(TinyDbStore(tmp_path / "store"))
    app = build_for_tests(store=store, jobs=JOBS)
    # Given a hundred timers due next week and one due in a minute
    with app.unit() as tx:
        now = app.clock.now()
        soon = _next_week_and_one_soon(tx, now)
    # When a round runs with nothing due, it reads the index head and this ten minutes' bucket,
    # no timer, and commits nothing
    store.reads.clear()
    store.commits = 0
    assert scheduler.tick(app) == 0
    assert store.reads == [(timers.INDEX, timers.HEADS), (timers.INDEX, timers.bucket_of(now))]
    assert store.commits == 0
    # And when the minute has passed, one round hands out the one timer, never reading them all
    clock(app).advance(minutes=1)
    assert scheduler.tick(app) == 1 and store.commits == 1
    assert (timers.TIMERS, "*") not in store.reads
    assert [r for r in store.reads if r[0] == timers.TIMERS] == [(timers.TIMERS, soon)]
    assert [(j.name, j.args) for j in queue(app).jobs] == [("timers.fire", (soon,))]


def test_on_postgresql_the_scheduler_asks_the_store_s_own_index(postgres_url: str) -> None:
    from assistant.store.postgres import PostgresStore

    store = CountingStore(PostgresStore(postgres_url))
    app = build_for_tests(store=store, jobs=JOBS)
    # Given a hundred timers due next week, one due in a minute, and one written before the
    # store kept its own index (pending, no note)
    with app.unit() as tx:
        now = app.clock.now()
        soon = _next_week_and_one_soon(tx, now)
        old = timers.Timer("tm-old", "test.flaky", ("old",), now).to_doc()
        tx.put(timers.TIMERS, "tm-old", old)
        assert timers.rebuild_index(tx) == 1
    # Then no index document is written: each timer carries its own note
    with app.store.snapshot() as tx:
        assert tx.all(timers.INDEX) == []
        assert tx.require(timers.TIMERS, soon)["next_at"] == to_iso(now + timedelta(minutes=1))
    # And a round hands out the old one, reading no timer of next week
    store.reads.clear()
    assert scheduler.tick(app) == 1
    assert [r for r in store.reads if r[0] == timers.TIMERS] == [(timers.TIMERS, "tm-old")]
    # And when the minute has passed, the one due
    clock(app).advance(minutes=1)
    assert scheduler.tick(app) == 1
    assert [j.args for j in queue(app).jobs] == [("tm-old",), (soon,)]
    store.close()


def test_cancelled_and_done_timers_leave_the_index(app: App) -> None:
    later = schedule(app, "test.flaky", "later", later=timedelta(hours=2), key="later")
    schedule(app, "test.flaky", "now")
    with app.unit() as tx:
        assert timers.cancel(tx, "later") == 1
    run(app)
    with app.store.snapshot() as tx:
        if tx.keeps_due_index:  # the store's own index: no buckets, and no note left
            assert tx.all(timers.INDEX) == []
            assert tx.due(timers.TIMERS, "9999", 10) == []
        else:
            assert tx.all(timers.INDEX) == [{"id": timers.HEADS, "buckets": []}]
        assert tx.get(timers.TIMERS, later) is not None


# -- task kinds and the dispatch port ------------------------------------------------------------


def test_a_task_of_a_kind_nobody_registered_is_refused(app: App) -> None:
    with pytest.raises(dispatch.UnknownKind), app.unit() as tx:
        dispatch.open_task(
            tx,
            app,
            kind="produce",
            ref="o-1",
            skill="delivery",
            grid_id=None,
            starts_at=app.clock.now() + timedelta(hours=2),
            duration_minutes=30,
            summary={},
            private={},
            requester_id="p-1",
        )
    assert "produce" not in app.task_kinds and "care" in app.task_kinds
    assert app.task_kinds["care"].listener is not None


def test_the_dispatch_port_is_the_engine_unless_a_twin_is_given() -> None:
    assert build_for_tests().dispatch is dispatch
    twin = object()
    assert build_for_tests(dispatch=twin).dispatch is twin


def test_the_command_line_lists_dead_jobs_and_retries_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant import cli, config
    from assistant.bootstrap import build

    # Given a dead timer in a store on disk
    settings_file = tmp_path / "settings.toml"
    settings_file.write_text(f'[storage]\ndir = "{tmp_path / "data"}"\n', encoding="utf-8")
    app = build(config.load(settings_file, environ={}), clock=FakeClock())
    with app.unit() as tx:
        now = app.clock.now()
        timer_id = timers.schedule(tx, "dispatch.digest", ["2026-06-01"], now, now)
        found = tx.require(timers.TIMERS, timer_id)
        found.update(status=timers.DEAD, attempts=6, error="KeyError", dead_at="2026-06-01")
        timers.unindex(tx, found)
        tx.put(timers.TIMERS, timer_id, found)
    # When the admin lists the dead jobs, then retries that one
    assert cli.main(["--settings", str(settings_file), "jobs", "dead"]) == 0
    listed = capsys.readouterr().out
    assert cli.main(["--settings", str(settings_file), "jobs", "retry", timer_id]) == 0
    # Then the list names it, and it waits for the running scheduler with a fresh count
    assert timer_id in listed and "dispatch.digest" in listed and "KeyError" in listed
    assert "1 dead job(s)" in listed
    with app.store.snapshot() as tx:
        again = tx.require(timers.TIMERS, timer_id)
    assert (again["status"], again["attempts"]) == (timers.PENDING, 0)
    # And a timer that is not dead cannot be retried
    assert cli.main(["--settings", str(settings_file), "jobs", "retry", timer_id]) == 2
