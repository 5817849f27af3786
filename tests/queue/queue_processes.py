"""Worker processes on the RabbitMQ broker, a shared TinyDB folder and a file delivery.

A worker is a spawned process running a real ``dramatiq.Worker`` on the broker
that ``[queue] url`` chooses (:func:`workers.broker.broker_for`); Redis is
still there for what it keeps besides the queue. Messages delivered are
appended to a file, one JSON line each (:class:`dispatch_processes.FileDelivery`).
A victim worker can be frozen just before it commits a wave's offers
(:class:`dispatch_processes.StopBeforeOffersCommit`), holding its messages
unacknowledged, so a test can SIGKILL it in the middle of its work.
"""

from __future__ import annotations

import logging
import multiprocessing
from datetime import datetime
from pathlib import Path
from typing import Any

from dispatch_processes import FileDelivery, StopBeforeOffersCommit, poll, serve_jobs

from assistant import config
from assistant.bootstrap import App, build
from assistant.clock import to_iso
from assistant.services import care, people
from assistant.store.tinydb_store import TinyDbStore

SPAWN = multiprocessing.get_context("spawn")
SETTINGS = """
[dispatch]
wave_size = 3
waves = 2
wave_minutes = 10.0

[services.home_care]
name_zh = "上门照料"
name_en = "Home care visit"
skill = "care"
price = 0
duration_minutes = 60
opens = 0
closes = 24
notice_minutes = 60
daily_capacity = 50
needs_approval = false
"""


def settings_file(folder: Path) -> Path:
    """The settings every process of a test reads."""
    path = folder / "settings.toml"
    path.write_text(SETTINGS, encoding="utf-8")
    return path


def make_app(settings: str, data: str, redis_url: str, queue_url: str, out: str) -> App:
    """An app on the shared TinyDB folder whose queue is RabbitMQ at ``queue_url``."""
    from workers.broker import DramatiqQueue, broker_for

    loaded = config.load(Path(settings), environ={}).with_values(
        storage={"dir": data}, queue={"url": queue_url}, redis={"url": redis_url}
    )
    return build(
        loaded,
        store=TinyDbStore(Path(data) / "store"),
        queue=DramatiqQueue(broker_for(loaded, redis_url)),
        delivery=FileDelivery(out),
    )


def add_residents(app: App, grids: list[str]) -> list[str]:
    """One resident per grid named, each with a household; their ids."""
    now, made = to_iso(datetime.now().astimezone()), []
    with app.store.transaction() as tx:
        for number, grid_id in enumerate(grids):
            person = people.create_person(
                tx,
                name=f"居民{number}",
                address=f"console:resident-{number}",
                language="zh_CN",
                now=now,
                grid_id=grid_id,
                household={"complex": "锦绣家园", "building": "1", "unit": "1", "room": "101"},
            )
            made.append(str(person["id"]))
    return made


def book(app: App, person_ids: list[str], start: datetime) -> None:
    """Book a home care visit at ``start`` for each person, one unit of work each."""
    for person_id in person_ids:
        draft = care.Draft("home_care", person_id, person_id, care.CHAT, to_iso(start), None)
        with app.unit() as tx:
            care.book(tx, app, draft, app.clock.now())


def worker_main(
    settings: str,
    data: str,
    redis_url: str,
    queue_url: str,
    out: str,
    marker: str = "",
    threads: int = 2,
) -> None:
    """One worker process: run jobs until SIGTERM, or freeze before offers (``marker``)."""
    logging.basicConfig(level=logging.WARNING)
    app = make_app(settings, data, redis_url, queue_url, out)
    if marker:
        app.store = StopBeforeOffersCommit(app.store, Path(marker))
    serve_jobs(app, out, threads)
    app.queue.broker.close()  # type: ignore[attr-defined]


def start_worker(*args: str, **options: Any) -> multiprocessing.process.BaseProcess:
    """Start a worker process (the arguments of :func:`worker_main`) and wait until it consumes."""
    process = SPAWN.Process(target=worker_main, args=args, kwargs=options, daemon=True)
    process.start()
    ready = Path(args[4] + f".ready-{process.pid}")
    poll(lambda: ready.exists() or not process.is_alive(), "worker start", limit=60)
    assert process.is_alive(), "worker died on start"
    return process
