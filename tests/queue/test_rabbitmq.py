"""RabbitMQ as the broker: ``[queue] url`` chooses it, workers run on it, a killed one loses nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from dispatch_processes import poll, read_lines, stop
from dispatch_world import add_grids, add_volunteer
from queue_processes import add_residents, book, make_app, settings_file, start_worker

from assistant.config import defaults
from assistant.jobs import timers
from assistant.services import dispatch
from workers.broker import broker_for, time_limit_ms

VOLUNTEERS = 12  # four per grid


def test_the_queue_url_is_a_secret_and_must_be_amqp() -> None:
    # Given settings with a RabbitMQ URL that carries its password
    settings = defaults().with_values(queue={"url": "amqp://assistant:s3cret@10.0.0.5:5672/%2F"})
    # Then `assistant settings` prints it masked, like the other secrets
    assert settings.redacted()["queue"]["url"] == "***"
    assert "s3cret" not in repr(settings.redacted())
    # And the broker is RabbitMQ's (built without connecting), Redis's when the URL is empty
    assert type(broker_for(settings, "redis://127.0.0.1:1/0")).__name__ == "RabbitmqBroker"
    assert type(broker_for(defaults(), "redis://127.0.0.1:1/0")).__name__ == "RedisBroker"
    # And anything else is refused, naming the setting
    with pytest.raises(ValueError, match=r"\[queue\] url"):
        broker_for(defaults().with_values(queue={"url": "redis://x"}), "redis://127.0.0.1:1/0")


def test_jobs_stop_within_the_lease() -> None:
    from assistant.bootstrap import job_table

    table = job_table()
    # The default lease keeps the jobs' own time limit; a shorter one stops them sooner
    assert time_limit_ms(table, timers.LEASE) == min(table.longest_ms(), 60_000)
    assert time_limit_ms(table, timedelta(seconds=15)) == min(table.longest_ms(), 10_000)
    short = defaults().with_values(workers={"lease_seconds": 15.0})
    assert timers.lease_of(short) == timedelta(seconds=15)


@pytest.fixture
def world(tmp_path: Path, redis_url: str, rabbit_url: str) -> Iterator[dict[str, Any]]:
    """A TinyDB folder with grids, volunteers and residents; the servers; the delivery file."""
    data, out = tmp_path / "data", tmp_path / "delivered.jsonl"
    settings = settings_file(tmp_path)
    app = make_app(str(settings), str(data), redis_url, rabbit_url, str(out))
    add_grids(app)
    with app.store.transaction() as tx:
        for number in range(VOLUNTEERS):
            add_volunteer(tx, f"v{number:02}", ("g1", "g2", "g3")[number % 3])
    residents = add_residents(app, ["g1", "g2", "g3", "g1", "g2", "g3"])
    args = (str(settings), str(data), redis_url, rabbit_url, str(out))
    yield {"app": app, "args": args, "out": out, "residents": residents, "tmp": tmp_path}
    app.queue.broker.close()  # type: ignore[attr-defined]
    app.store.close()


def offers_delivered(out: Path) -> list[dict[str, Any]]:
    """Offer messages delivered (first sends, not edits)."""
    return [
        line
        for line in read_lines(out)
        if not line["edit"]
        and any(value.startswith("a:offer:accept:") for row in line["choices"] for _, value in row)
    ]


def enqueued(app: Any) -> list[str]:
    """The timers handed to the workers and not finished."""
    with app.store.snapshot() as tx:
        return [t["id"] for t in tx.all(timers.TIMERS) if t["status"] == timers.ENQUEUED]


def visit_day() -> datetime:
    return datetime.now().astimezone().replace(hour=10, minute=0, second=0, microsecond=0) + (
        timedelta(days=3)
    )


@pytest.mark.slow
def test_a_worker_on_rabbitmq_dispatches_a_care_booking(
    world: dict[str, Any], redis_url: str
) -> None:
    # Given one worker whose broker is RabbitMQ
    worker = start_worker(*world["args"])
    try:
        # When three residents book home care visits, in three micro-grids
        book(world["app"], world["residents"][:3], visit_day())
        # Then the worker offers each visit to three volunteers of its grid
        poll(lambda: len(offers_delivered(world["out"])) == 9, "nine offers", limit=90)
        with world["app"].store.snapshot() as tx:
            tasks = tx.all(dispatch.TASKS)
            offers = tx.all(dispatch.OFFERS)
        assert len(tasks) == 3
        assert Counter(offer["task_id"] for offer in offers) == {task["id"]: 3 for task in tasks}
        assert len({line["to"] for line in offers_delivered(world["out"])}) == 9
        # And no message went through Redis: it only keeps the limits and the rest
        client = redis.Redis.from_url(redis_url)
        assert not client.keys("assistant-tasks*")
        client.close()
    finally:
        stop(worker)


@pytest.mark.slow
def test_a_worker_killed_mid_work_loses_nothing_rabbitmq_hands_its_messages_on(
    world: dict[str, Any],
) -> None:
    # Given six residents' bookings, whose first waves wait in RabbitMQ
    book(world["app"], world["residents"], visit_day())
    # And a worker that takes them and freezes, holding its messages, before committing offers
    marker = world["tmp"] / "frozen"
    victim = start_worker(*world["args"], marker=str(marker), threads=1)
    healthy = None
    try:
        # When the victim is SIGKILLed in the middle of its first wave
        poll(marker.exists, "the victim freezing mid-wave", limit=90)
        victim.kill()
        victim.join(10)
        assert not offers_delivered(world["out"])
        # And another worker starts (there is no scheduler, so no lease hands anything out again)
        healthy = start_worker(*world["args"])
        # Then every booking is dispatched once: its unacknowledged messages came back
        poll(lambda: len(offers_delivered(world["out"])) == 18, "eighteen offers", limit=90)
        with world["app"].store.snapshot() as tx:
            tasks = tx.all(dispatch.TASKS)
            offers = tx.all(dispatch.OFFERS)
        assert len(tasks) == 6
        assert Counter(offer["task_id"] for offer in offers) == {task["id"]: 3 for task in tasks}
        pairs = Counter((offer["task_id"], offer["person_id"]) for offer in offers)
        assert max(pairs.values()) == 1, "a volunteer was offered one task twice"
        sent = Counter((line["to"], line["key"]) for line in offers_delivered(world["out"]))
        assert max(sent.values()) == 1, "an offer was sent twice"
        # And nothing handed out is left waiting for a lease: every message ran
        poll(lambda: not enqueued(world["app"]), "every handed-out timer done", limit=60)
    finally:
        stop(victim)
        if healthy is not None:
            stop(healthy)
