"""``assistant db``: upgrade a database, move a community between stores, back one up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pg_server import PostgresServer

from assistant import cli, demo
from assistant.bootstrap import SHARDED
from assistant.clock import to_iso
from assistant.jobs import timers
from assistant.store import transfer
from assistant.store.postgres import PostgresStore
from assistant.store.tinydb_store import TinyDbStore

NOW = "2026-06-01T00:00:00+00:00"


def community(data: Path) -> transfer.Tally:
    """A TinyDB data folder with the demo community, archived bookings and a timer; its tally."""
    store = TinyDbStore(data / "store", shards=SHARDED)
    demo.load(store, NOW)
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 6, 1, tzinfo=UTC)
    with store.transaction() as tx:
        for number in range(30):
            tx.put(
                "bookings", f"b-{number:02d}", {"status": "done", "notes": "腿脚不便", "n": number}
            )
            if number % 3:
                tx.archive("bookings", f"b-{number:02d}")
        timers.schedule(tx, "care.follow_up", ["b-01"], now + timedelta(days=1), now, key="f:b-01")
        tx.put("people", "p-odd", {"name": "林奶奶", "money": "12.50", "when": to_iso(now)})
    found = transfer.tally(transfer.records(store))
    store.close()
    return found


def run(*argv: str) -> int:
    return cli.main(list(argv))


def test_a_community_moves_to_postgresql_and_back_verified(
    tmp_path: Path, postgres_server: PostgresServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a community kept in TinyDB
    original = community(tmp_path / "data")
    url = postgres_server.create_database("moved")
    # When it is copied into an empty PostgreSQL database (the schema is made on the way)
    assert run("db", "copy", "--from", str(tmp_path / "data"), "--to", url) == 0
    assert "Verified" in capsys.readouterr().out
    # Then the database holds the same records, hot and archived, timers included
    store = PostgresStore(url)
    assert transfer.tally(transfer.records(store)) == original
    with store.snapshot() as tx:
        assert tx.require("bookings", "b-01")["notes"] == "腿脚不便"
        assert len(list(tx.archived("bookings"))) == 20
        assert len(tx.find("timers", key="f:b-01")) == 1
    store.close()
    # And copying it back into a new folder gives the same community again
    assert run("db", "copy", "--from", url, "--to", str(tmp_path / "back")) == 0
    back = TinyDbStore(tmp_path / "back" / "store", shards=SHARDED)
    assert transfer.tally(transfer.records(back)) == original
    back.close()
    # And a copy into a store that is not empty is refused, leaving it as it was
    assert run("db", "copy", "--from", str(tmp_path / "data"), "--to", url) == 2
    assert "not empty" in capsys.readouterr().err


def test_backups_of_either_store_hold_the_same_records_and_restore(
    tmp_path: Path, postgres_server: PostgresServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the same community in TinyDB and in PostgreSQL
    original = community(tmp_path / "data")
    url = postgres_server.create_database("backups")
    assert run("db", "copy", "--from", str(tmp_path / "data"), "--to", url) == 0
    # When each is backed up
    assert run("db", "backup", str(tmp_path / "tiny.jsonl"), "--from", str(tmp_path / "data")) == 0
    assert run("db", "backup", str(tmp_path / "pg.jsonl"), "--from", url) == 0
    # Then both files hold the same records and close with the same tally
    tiny, pg = (transfer.read_backup(tmp_path / name) for name in ("tiny.jsonl", "pg.jsonl"))
    assert transfer.tally(tiny) == transfer.tally(pg) == original
    assert (tmp_path / "pg.jsonl").stat().st_mode & 0o777 == 0o600
    last = json.loads((tmp_path / "pg.jsonl").read_text().splitlines()[-1])
    assert last["end"]["bookings/archived"]["count"] == 20
    # And a backup restores into an empty database, verified
    restored = postgres_server.create_database("restored")
    assert run("db", "copy", "--from", str(tmp_path / "pg.jsonl"), "--to", restored) == 0
    store = PostgresStore(restored)
    assert transfer.tally(transfer.records(store)) == original
    store.close()


def test_a_backup_cut_short_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    community(tmp_path / "data")
    assert run("db", "backup", str(tmp_path / "b.jsonl"), "--from", str(tmp_path / "data")) == 0
    lines = (tmp_path / "b.jsonl").read_text().splitlines()
    (tmp_path / "cut.jsonl").write_text("\n".join(lines[:-3]) + "\n")
    assert (
        run("db", "copy", "--from", str(tmp_path / "cut.jsonl"), "--to", str(tmp_path / "x")) == 2
    )
    assert "cut short" in capsys.readouterr().err
    assert not list((tmp_path / "x" / "store").glob("*.json"))


def test_db_upgrade_is_idempotent(
    postgres_server: PostgresServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = postgres_server.create_database("cli_upgrade")
    assert run("db", "upgrade", "--url", url) == 0
    assert "1 documents and archive" in capsys.readouterr().out
    assert run("db", "upgrade", "--url", url) == 0
    assert "already current" in capsys.readouterr().out
    assert run("db", "upgrade") == 0  # no [storage] url: nothing to do
    assert "TinyDB needs no schema" in capsys.readouterr().out
