"""The storage contract, run against the in-memory twin, the TinyDB store and PostgreSQL.

The TinyDB store runs it twice: with one file per collection, and with the
collections split into shard files by a hash of the id. PostgreSQL runs it on a
real server that the tests start (``conftest.py``; it skips here without the
server binaries, and fails in CI). The second half covers what only the TinyDB
store has: files, crashes and corruption; sharded collections have their own
tests in ``test_store_shards.py``, PostgreSQL's own behaviour is in
``test_postgres.py``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.store.base import NotFound, ReadOnly, Store, StoreError, Tx, run_atomically
from assistant.store.memory import MemoryStore
from assistant.store.tinydb_store import TinyDbStore

SHARDED = {"people": 4, "bookings": 3, "counters": 2, "units": 5}
"""Small shard counts, so that every test puts several documents in one shard and spreads others."""


@pytest.fixture(params=["memory", "tinydb", "tinydb-sharded", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each contract test runs once per store."""
    made: Store
    if request.param == "memory":
        made = MemoryStore()
    elif request.param == "tinydb":
        made = TinyDbStore(tmp_path / "store")
    elif request.param == "postgres":
        from assistant.store.postgres import PostgresStore

        made = PostgresStore(request.getfixturevalue("postgres_url"))
    else:
        made = TinyDbStore(tmp_path / "store", shards=SHARDED)
    yield made
    made.close()


def put(store: Store, collection: str, *docs: dict[str, Any]) -> None:
    with store.transaction() as tx:
        for doc in docs:
            tx.put(collection, doc["id"], doc)


def ids(docs: list[dict[str, Any]]) -> list[str]:
    return [doc["id"] for doc in docs]


# --- the contract -------------------------------------------------------------------------------


def test_a_put_document_comes_back_with_its_id(store: Store) -> None:
    # Given a document put without an id field
    with store.transaction() as tx:
        tx.put("people", "p-1", {"name": "林奶奶", "tags": ["cards"]})
    # When it is read in a later unit of work
    with store.snapshot() as tx:
        found = tx.get("people", "p-1")
        required = tx.require("people", "p-1")
    # Then it carries its id
    assert found == required == {"id": "p-1", "name": "林奶奶", "tags": ["cards"]}


def test_missing_documents_are_none_or_not_found(store: Store) -> None:
    with store.snapshot() as tx:
        assert tx.get("people", "nobody") is None
        with pytest.raises(NotFound):
            tx.require("people", "nobody")
        assert tx.all("people") == []


def test_put_replaces_the_whole_document(store: Store) -> None:
    put(store, "people", {"id": "p-1", "name": "Lin", "phone": "123"})
    put(store, "people", {"id": "p-1", "name": "Lin Mei"})
    with store.snapshot() as tx:
        assert tx.get("people", "p-1") == {"id": "p-1", "name": "Lin Mei"}


def test_a_transaction_reads_its_own_writes(store: Store) -> None:
    with store.transaction() as tx:
        tx.put("people", "p-1", {"name": "Lin"})
        assert tx.require("people", "p-1")["name"] == "Lin"
        tx.delete("people", "p-1")
        assert tx.get("people", "p-1") is None


def test_delete_removes_and_tolerates_missing(store: Store) -> None:
    put(store, "people", {"id": "p-1"}, {"id": "p-2"})
    with store.transaction() as tx:
        tx.delete("people", "p-1")
        tx.delete("people", "never-there")
    with store.snapshot() as tx:
        assert ids(tx.all("people")) == ["p-2"]


def test_all_and_find_return_documents_in_id_order(store: Store) -> None:
    # Given documents put out of order
    put(
        store,
        "units",
        {"id": "u-3", "complex": "山水湾", "building": "1栋"},
        {"id": "u-1", "complex": "锦绣家园", "building": "1栋"},
        {"id": "u-2", "complex": "山水湾", "building": "2栋"},
        {"id": "u-0", "complex": "水晶城"},
    )
    with store.snapshot() as tx:
        # Then all() sorts by id and find() matches every given field
        assert ids(tx.all("units")) == ["u-0", "u-1", "u-2", "u-3"]
        assert ids(tx.find("units", complex="山水湾")) == ["u-2", "u-3"]
        assert ids(tx.find("units", complex="山水湾", building="2栋")) == ["u-2"]
        assert ids(tx.find("units", building=None)) == ["u-0"]
        assert tx.find("units", complex="nowhere") == []


def test_find_follows_dotted_paths_into_nested_objects(store: Store) -> None:
    # Given people with and without a nested volunteer part, one a list where a word is asked
    put(
        store,
        "people",
        {"id": "p-1", "volunteer": {"status": "approved", "grid_id": "g1"}, "grid_id": "g2"},
        {"id": "p-2", "volunteer": {"status": "pending", "grid_id": "g1"}},
        {"id": "p-3", "volunteer": {"status": "approved", "grid_id": None, "skills": ["care"]}},
        {"id": "p-4", "volunteer": "approved", "grid_id": "g1"},
        {"id": "p-5", "volunteer": {"status": ["approved"]}},
        {"id": "p-6"},
    )
    with store.snapshot() as tx:
        # Then a dotted field matches the value at that path, and nothing else
        assert ids(tx.find("people", **{"volunteer.status": "approved"})) == ["p-1", "p-3"]
        approved_in_g1 = {"volunteer.status": "approved", "volunteer.grid_id": "g1"}
        assert ids(tx.find("people", **approved_in_g1)) == ["p-1"]
        assert ids(tx.find("people", **{"volunteer.status": "approved", "grid_id": "g2"})) == [
            "p-1"
        ]
        # And a missing step, a missing field and a null all equal None
        assert ids(tx.find("people", **{"volunteer.grid_id": None})) == ["p-3", "p-4", "p-5", "p-6"]
        # And lists and objects at a path are compared whole
        assert ids(tx.find("people", **{"volunteer.skills": ["care"]})) == ["p-3"]
        assert ids(tx.find("people", **{"volunteer.status": ["approved"]})) == ["p-5"]
    with store.transaction() as tx:  # a writing unit of work asks the same way
        assert ids(tx.find("people", **{"volunteer.status": "approved"})) == ["p-1", "p-3"]


def test_due_gives_what_is_due_soonest_first(store: Store) -> None:
    # Given timers due at various times, one without a time and one in another collection
    put(
        store,
        "timers",
        {"id": "tm-3", "next_at": "2026-06-01T03:00:00+00:00"},
        {"id": "tm-1", "next_at": "2026-06-01T01:00:00+00:00"},
        {"id": "tm-2b", "next_at": "2026-06-01T02:00:00+00:00"},
        {"id": "tm-2a", "next_at": "2026-06-01T02:00:00+00:00"},
        {"id": "tm-9", "next_at": "2026-06-09T00:00:00+00:00"},
        {"id": "tm-x", "status": "done"},
    )
    put(store, "other", {"id": "o-1", "next_at": "2026-06-01T00:00:00+00:00"})
    upto = "2026-06-01T03:00:00+00:00"
    with store.snapshot() as tx:
        # Then every one due by then comes, soonest first (ties by id), up to the limit
        assert ids(tx.due("timers", upto, 10)) == ["tm-1", "tm-2a", "tm-2b", "tm-3"]
        assert ids(tx.due("timers", upto, 2)) == ["tm-1", "tm-2a"]
        assert tx.due("timers", "2026-05-31T00:00:00+00:00", 10) == []
    with store.transaction() as tx:
        assert ids(tx.due("timers", upto, 10)) == ["tm-1", "tm-2a", "tm-2b", "tm-3"]
        assert isinstance(tx.keeps_due_index, bool)


def test_read_gives_one_document_as_committed_now(store: Store) -> None:
    # Given one hot and one archived document
    put(store, "people", {"id": "p-1", "name": "Lin"}, {"id": "p-2", "name": "Wang"})
    with store.transaction() as tx:
        tx.archive("people", "p-2")
        # Then a read outside the unit of work does not see what it has not committed
        assert store.read("people", "p-1") == {"id": "p-1", "name": "Lin"}
        tx.put("people", "p-1", {"name": "changed"})
    # And after the commit it does; archived documents are read too, missing ones are None
    assert store.read("people", "p-1") == {"id": "p-1", "name": "changed"}
    assert store.read("people", "p-2") == {"id": "p-2", "name": "Wang"}
    assert store.read("people", "p-9") is None


def test_archive_with_a_final_version_puts_and_moves_at_once(store: Store) -> None:
    put(store, "timers", {"id": "tm-1", "status": "enqueued"})
    with store.transaction() as tx:
        tx.archive("timers", "tm-1", final={"status": "done"})
        tx.archive("timers", "tm-2", final={"status": "cancelled"})  # never hot before
        assert tx.get("timers", "tm-1") == {"id": "tm-1", "status": "done"}
    with store.snapshot() as tx:
        assert tx.all("timers") == []
        assert sorted(ids(list(tx.archived("timers")))) == ["tm-1", "tm-2"]
        assert tx.get("timers", "tm-1") == {"id": "tm-1", "status": "done"}


def test_an_exception_rolls_the_whole_transaction_back(store: Store) -> None:
    # Given a stored document
    put(store, "people", {"id": "p-1", "name": "Lin"})
    # When a unit of work changes several collections and then fails
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.put("people", "p-1", {"name": "changed"})
        tx.put("people", "p-2", {"name": "new"})
        tx.put("bookings", "b-1", {"status": "open"})
        tx.archive("people", "p-1")
        raise RuntimeError("boom")
    # Then nothing of it is stored
    with store.snapshot() as tx:
        assert tx.all("people") == [{"id": "p-1", "name": "Lin"}]
        assert tx.all("bookings") == []
        assert list(tx.archived("people")) == []


def test_a_snapshot_reads_but_refuses_writes(store: Store) -> None:
    put(store, "people", {"id": "p-1"})
    with store.snapshot() as tx:
        assert tx.get("people", "p-1") == {"id": "p-1"}
        with pytest.raises(ReadOnly):
            tx.put("people", "p-2", {})
        with pytest.raises(ReadOnly):
            tx.delete("people", "p-1")
        with pytest.raises(ReadOnly):
            tx.archive("people", "p-1")
    with store.snapshot() as tx:
        assert ids(tx.all("people")) == ["p-1"]


def test_an_archived_document_leaves_the_hot_set_but_can_still_be_read(store: Store) -> None:
    # Given two bookings, one of them closed and archived
    put(store, "bookings", {"id": "b-1", "status": "done"}, {"id": "b-2", "status": "open"})
    with store.transaction() as tx:
        tx.archive("bookings", "b-1")
        tx.archive("bookings", "no-such-booking")
        # Then inside the same unit of work it is already archived
        assert tx.get("bookings", "b-1") == {"id": "b-1", "status": "done"}
        assert ids(tx.all("bookings")) == ["b-2"]
    # And afterwards all() and find() see only the hot one, get() falls back to the archive
    with store.snapshot() as tx:
        assert ids(tx.all("bookings")) == ["b-2"]
        assert tx.find("bookings", status="done") == []
        assert tx.require("bookings", "b-1") == {"id": "b-1", "status": "done"}


def test_archived_iterates_the_latest_version_of_every_archived_document(store: Store) -> None:
    # Given bookings archived over several units of work, one of them archived twice
    for number in range(5):
        put(store, "bookings", {"id": f"b-{number}", "status": "done", "version": 1})
        with store.transaction() as tx:
            tx.archive("bookings", f"b-{number}")
    with store.transaction() as tx:
        tx.put("bookings", "b-2", {"status": "done", "version": 2})
        tx.archive("bookings", "b-2")
    put(store, "bookings", {"id": "b-9", "status": "open"})
    # When they are listed
    with store.snapshot() as tx:
        archived = sorted(tx.archived("bookings"), key=lambda doc: doc["id"])
    # Then each appears once, at its latest version, and the hot one is not among them
    assert ids(archived) == ["b-0", "b-1", "b-2", "b-3", "b-4"]
    assert archived[2]["version"] == 2


def test_deleting_an_archived_document_removes_it_for_good(store: Store) -> None:
    put(store, "bookings", {"id": "b-1"}, {"id": "b-2"})
    with store.transaction() as tx:
        tx.archive("bookings", "b-1")
        tx.archive("bookings", "b-2")
    with store.transaction() as tx:
        tx.delete("bookings", "b-1")
        assert tx.get("bookings", "b-1") is None
    with store.snapshot() as tx:
        assert tx.get("bookings", "b-1") is None
        assert ids(list(tx.archived("bookings"))) == ["b-2"]


def test_purge_replaces_hot_and_archived_documents_where_they_are(store: Store) -> None:
    # Given a hot booking and two archived ones, one archived in two versions
    put(store, "bookings", {"id": "b-1", "notes": "hot"}, {"id": "b-2", "notes": "v1"})
    put(store, "bookings", {"id": "b-3", "notes": "gone"})
    with store.transaction() as tx:
        tx.archive("bookings", "b-2")
        tx.archive("bookings", "b-3")
    with store.transaction() as tx:
        tx.put("bookings", "b-2", {"notes": "v2"})
        tx.archive("bookings", "b-2")
    # When all three are purged, two with an anonymous placeholder
    with store.transaction() as tx:
        tx.purge("bookings", "b-1", {"notes": ""})
        tx.purge("bookings", "b-2", {"notes": ""})
        tx.purge("bookings", "b-3")
        tx.purge("bookings", "no-such-booking")
        assert tx.get("bookings", "b-2") == {"id": "b-2", "notes": ""}
    # Then the hot one stayed hot, the archived one stayed archived, the removed one is gone
    with store.snapshot() as tx:
        assert tx.all("bookings") == [{"id": "b-1", "notes": ""}]
        assert list(tx.archived("bookings")) == [{"id": "b-2", "notes": ""}]
        assert tx.get("bookings", "b-3") is None
        assert tx.get("no-such-booking", "x") is None


def test_a_purged_document_leaves_no_old_version_in_any_file(tmp_path: Path) -> None:
    # Given a person's booking archived twice, a hot copy left by a crash, and other records
    store = TinyDbStore(tmp_path)
    put(store, "bookings", {"id": "b-1", "notes": "secret-v1"}, {"id": "b-2", "notes": "keep"})
    with store.transaction() as tx:
        tx.archive("bookings", "b-1")
        tx.archive("bookings", "b-2")
    with store.transaction() as tx:
        tx.put("bookings", "b-1", {"notes": "secret-v2"})
        tx.archive("bookings", "b-1")
    put(store, "bookings", {"id": "b-1", "notes": "secret-hot"})
    # When it is purged
    with store.transaction() as tx:
        tx.purge("bookings", "b-1", {"notes": ""})
    # Then no file of the store holds any of its versions, and the rest is intact
    for path in tmp_path.iterdir():
        assert b"secret" not in path.read_bytes(), path.name
    with store.snapshot() as tx:
        assert tx.get("bookings", "b-1") == {"id": "b-1", "notes": ""}
        assert [doc["notes"] for doc in tx.archived("bookings")] == ["keep"]
    # And another process's view of the archive follows the rewritten file
    other = TinyDbStore(tmp_path)
    with other.snapshot() as tx:
        assert tx.get("bookings", "b-2") == {"id": "b-2", "notes": "keep"}
    other.close()
    store.close()


def test_a_purge_killed_before_its_compaction_is_completed(tmp_path: Path) -> None:
    # Given an archive still holding an old version, and the journal of a purge whose
    # writer was killed after appending the new version but before compacting
    store = TinyDbStore(tmp_path)
    put(store, "bookings", {"id": "b-1", "notes": "secret"})
    with store.transaction() as tx:
        tx.archive("bookings", "b-1")
    with (tmp_path / "bookings.archive.jsonl").open("ab") as handle:
        handle.write(b'{"id":"b-1","doc":{"id":"b-1","notes":""}}\n')
    plan = {"replace": [], "tombstones": {}, "compact": ["bookings"]}
    (tmp_path / ".commit.journal").write_text(json.dumps(plan))
    # When the next unit of work takes the lock
    with store.transaction() as tx:
        doc = tx.get("bookings", "b-1")
    # Then the compaction was finished: only the new version is on disk
    assert doc == {"id": "b-1", "notes": ""}
    assert b"secret" not in (tmp_path / "bookings.archive.jsonl").read_bytes()
    assert not (tmp_path / ".commit.journal").exists()
    store.close()


def test_every_store_file_and_folder_is_private_to_the_service(tmp_path: Path) -> None:
    # Given a store that wrote hot files, an archive, a journal-backed commit and its lock
    store = TinyDbStore(tmp_path / "store")
    put(store, "people", {"id": "p-1"}, {"id": "p-2"})
    put(store, "bookings", {"id": "b-1"})
    with store.transaction() as tx:
        tx.archive("bookings", "b-1")
        tx.put("people", "p-3", {})
        tx.purge("bookings", "b-1", {"notes": ""})
    store.close()
    # Then every file is 0600 and the folder 0700, whatever the process umask was
    folder = tmp_path / "store"
    assert folder.stat().st_mode & 0o777 == 0o700
    for path in folder.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path.name


def test_returned_and_given_documents_are_never_shared_with_the_store(store: Store) -> None:
    # Given a document whose caller keeps a reference to it
    given: dict[str, Any] = {"id": "p-1", "tags": ["a"], "home": {"unit": "1"}}
    put(store, "people", given)
    given["tags"].append("changed")
    put(store, "bookings", {"id": "b-1", "notes": ["x"]})
    with store.transaction() as tx:
        tx.archive("bookings", "b-1")
    # When every kind of read result is mutated
    with store.snapshot() as tx:
        tx.require("people", "p-1")["home"]["unit"] = "changed"
        tx.all("people")[0]["tags"].append("changed")
        tx.find("people", id="p-1")[0]["tags"].clear()
        tx.require("bookings", "b-1")["notes"].append("changed")
        for doc in tx.archived("bookings"):
            doc["notes"].append("changed")
    # Then the store still holds the original documents
    with store.snapshot() as tx:
        assert tx.get("people", "p-1") == {"id": "p-1", "tags": ["a"], "home": {"unit": "1"}}
        assert tx.get("bookings", "b-1") == {"id": "b-1", "notes": ["x"]}


async def test_run_atomically_works_from_async_code(store: Store) -> None:
    def book(tx: Tx) -> str:
        tx.put("bookings", "b-1", {"status": "open"})
        return "booked"

    assert await run_atomically(store, book) == "booked"
    assert await run_atomically(store, lambda tx: tx.require("bookings", "b-1")["status"]) == "open"


def test_threads_of_one_process_never_lose_an_update(store: Store) -> None:
    # Given a counter and eight threads that each increment it 25 times
    put(store, "counters", {"id": "c", "value": 0})

    def increment() -> None:
        for _ in range(25):
            with store.transaction() as tx:
                counter = tx.require("counters", "c")
                counter["value"] += 1
                tx.put("counters", "c", counter)

    threads = [threading.Thread(target=increment) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # Then every increment counted
    with store.snapshot() as tx:
        assert tx.require("counters", "c")["value"] == 200


# --- the real store only ------------------------------------------------------------------------


def test_the_files_survive_the_process_and_plain_tinydb_can_read_them(tmp_path: Path) -> None:
    from tinydb import TinyDB
    from tinydb.table import Table

    # Given a store that wrote and archived, then closed
    first = TinyDbStore(tmp_path)
    put(first, "people", {"id": "p-1", "name": "林奶奶"})
    put(first, "bookings", {"id": "b-1"})
    with first.transaction() as tx:
        tx.archive("bookings", "b-1")
    first.close()
    # When the folder is opened again
    second = TinyDbStore(tmp_path)
    with second.snapshot() as tx:
        assert tx.get("people", "p-1") == {"id": "p-1", "name": "林奶奶"}
        assert tx.get("bookings", "b-1") == {"id": "b-1"}
    second.close()
    # And plain TinyDB, told that ids are strings, reads a collection file too

    class StrTable(Table):
        document_id_class = str  # type: ignore[assignment]

    class PlainTinyDB(TinyDB):
        table_class = StrTable

    with PlainTinyDB(tmp_path / "people.json", access_mode="r") as plain:
        assert [dict(doc) for doc in plain.table("people").all()] == [
            {"id": "p-1", "name": "林奶奶"}
        ]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        ".store.lock",
        "bookings.archive.jsonl",
        "bookings.json",
        "people.json",
    ]


def test_a_closed_store_refuses_work(tmp_path: Path) -> None:
    store = TinyDbStore(tmp_path)
    store.close()
    with pytest.raises(StoreError, match="closed"), store.transaction():
        pass


@pytest.mark.parametrize("content", [b"", b"  \n", b'{"people": {"p-1": {"na', b"[1, 2]"])
def test_a_corrupt_collection_file_is_reported_by_name(tmp_path: Path, content: bytes) -> None:
    # Given a collection file that is empty or damaged
    (tmp_path / "people.json").write_bytes(content)
    # Then opening the store names the file instead of starting afresh
    with pytest.raises(StoreError, match=r"people\.json"):
        TinyDbStore(tmp_path)
    assert (tmp_path / "people.json").read_bytes() == content


def test_a_file_damaged_while_open_is_reported_when_touched(tmp_path: Path) -> None:
    store = TinyDbStore(tmp_path)
    put(store, "people", {"id": "p-1"})
    (tmp_path / "people.json").write_text("")
    with pytest.raises(StoreError, match=r"people\.json"), store.snapshot() as tx:
        tx.all("people")


def test_leftover_temporary_files_are_ignored_and_removed(tmp_path: Path) -> None:
    # Given committed data and the temporary file of a writer killed before its rename
    store = TinyDbStore(tmp_path)
    put(store, "people", {"id": "p-1"})
    store.close()
    (tmp_path / ".people.json.k1ll3d.tmp").write_text('{"people": {"p-2"')
    # When the store is opened again
    store = TinyDbStore(tmp_path)
    # Then the committed state is what it reads, and the leftover is gone
    with store.snapshot() as tx:
        assert ids(tx.all("people")) == ["p-1"]
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_commit_killed_between_two_renames_is_completed(tmp_path: Path) -> None:
    # Given the files a writer leaves when killed after renaming one of two collection files:
    # its journal names both renames and a tombstone, the first rename is done
    store = TinyDbStore(tmp_path)
    put(store, "people", {"id": "p-1", "booked": False})
    put(store, "bookings", {"id": "b-0"})
    with store.transaction() as tx:
        tx.archive("bookings", "b-0")
    (tmp_path / "bookings.json").write_text(json.dumps({"bookings": {"b-1": {"id": "b-1"}}}))
    (tmp_path / ".people.json.half.tmp").write_text(
        json.dumps({"people": {"p-1": {"id": "p-1", "booked": True}}})
    )
    plan = {
        "replace": [
            [".bookings.json.done.tmp", "bookings.json"],
            [".people.json.half.tmp", "people.json"],
        ],
        "tombstones": {"bookings": ["b-0"]},
    }
    (tmp_path / ".commit.journal").write_text(json.dumps(plan))
    # When the next unit of work takes the lock
    with store.transaction() as tx:
        person = tx.require("people", "p-1")
        bookings = tx.all("bookings")
        archived = tx.get("bookings", "b-0")
    # Then it sees the whole commit, and the journal is gone
    assert person["booked"] is True and ids(bookings) == ["b-1"] and archived is None
    assert not (tmp_path / ".commit.journal").exists()


def test_a_torn_archive_line_is_ignored_then_sealed(tmp_path: Path) -> None:
    # Given an archive whose last line a killed writer left half written
    store = TinyDbStore(tmp_path)
    put(store, "bookings", {"id": "b-1"}, {"id": "b-2"})
    with store.transaction() as tx:
        tx.archive("bookings", "b-1")
    archive = tmp_path / "bookings.archive.jsonl"
    with archive.open("ab") as handle:
        handle.write(b'{"id":"b-2","doc":{"id":"b-')
    # Then readers see the committed lines only
    fresh = TinyDbStore(tmp_path)
    with fresh.snapshot() as tx:
        assert tx.get("bookings", "b-1") == {"id": "b-1"}
        assert ids(list(tx.archived("bookings"))) == ["b-1"]
    # And the next archiving writer seals the torn line instead of writing after it
    with fresh.transaction() as tx:
        tx.archive("bookings", "b-2")
    lines = archive.read_bytes().splitlines()
    assert lines[2] == b'{"torn":true}' and json.loads(lines[3])["id"] == "b-2"
    for reader in (store, fresh, TinyDbStore(tmp_path)):
        with reader.snapshot() as tx:
            assert sorted(ids(list(tx.archived("bookings")))) == ["b-1", "b-2"]
            assert tx.get("bookings", "b-2") == {"id": "b-2"}


@pytest.mark.parametrize(
    "damage",
    [b'{"id":"b-9","doc":{"id"\x00\x00}}\n', b'\x00\x00\x00"b-9","doc":{}}\n'],
    ids=["inside-a-document", "at-a-line-start"],
)
def test_a_corrupt_archive_line_is_reported_by_name(tmp_path: Path, damage: bytes) -> None:
    # Given an archive with a damaged line followed by a good one
    store = TinyDbStore(tmp_path)
    put(store, "bookings", {"id": "b-1"}, {"id": "b-2"})
    with store.transaction() as tx:
        tx.archive("bookings", "b-1")
    archive = tmp_path / "bookings.archive.jsonl"
    with archive.open("ab") as handle:
        handle.write(damage)
    with store.transaction() as tx:
        tx.archive("bookings", "b-2")
    # Then reading it names the file, rather than skipping what cannot be read
    with TinyDbStore(tmp_path).snapshot() as tx:
        with pytest.raises(StoreError, match=r"bookings\.archive\.jsonl"):
            tx.get("bookings", "b-9")
        with pytest.raises(StoreError, match=r"bookings\.archive\.jsonl"):
            list(tx.archived("bookings"))


def test_a_document_both_hot_and_archived_counts_as_hot(tmp_path: Path) -> None:
    # Given a closed booking reopened: archived once, then put back into the hot file
    store = TinyDbStore(tmp_path)
    put(store, "bookings", {"id": "b-1", "status": "done"})
    with store.transaction() as tx:
        tx.archive("bookings", "b-1")
    put(store, "bookings", {"id": "b-1", "status": "reopened"})
    # Then reads see the hot version, and the archive does not list it twice
    with store.snapshot() as tx:
        assert tx.require("bookings", "b-1")["status"] == "reopened"
        assert list(tx.archived("bookings")) == []


def test_a_nested_transaction_in_one_thread_is_refused(tmp_path: Path) -> None:
    store = TinyDbStore(tmp_path)
    with store.transaction(), pytest.raises(StoreError, match="already open"), store.transaction():
        pass
    with store.transaction() as tx:
        tx.put("people", "p-1", {})


def test_a_document_that_is_not_json_is_refused_at_put(tmp_path: Path) -> None:
    store = TinyDbStore(tmp_path)
    with store.transaction() as tx, pytest.raises(StoreError, match="people/p-1"):
        tx.put("people", "p-1", {"when": object()})


@pytest.mark.parametrize("name", ["", "../etc", "a/b", ".hidden", "x.archive"])
def test_collection_names_must_be_plain_file_names(tmp_path: Path, name: str) -> None:
    store = TinyDbStore(tmp_path)
    with store.snapshot() as tx, pytest.raises(StoreError, match="collection name"):
        tx.get(name, "x")
