"""Collections split into shard files: one small file per write by id, everything still seen.

The contract itself runs on sharded collections in ``test_store_contract.py``;
these tests cover the files, the recorded layout and the split of a
collection that was kept in one file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.store.base import StoreError
from assistant.store.tinydb_store import TinyDbStore

SHARDS = {"people": 8}


def names(folder: Path, pattern: str) -> list[str]:
    return sorted(path.name for path in folder.glob(pattern))


def test_a_write_by_id_rewrites_only_the_shard_of_that_id(tmp_path: Path) -> None:
    # Given a sharded collection of 400 people
    store = TinyDbStore(tmp_path, shards=SHARDS)
    with store.transaction() as tx:
        for number in range(400):
            tx.put("people", f"p-{number}", {"n": number})
    before = {path.name: path.stat().st_mtime_ns for path in tmp_path.glob("people.*.json")}
    # When one person is changed
    with store.transaction() as tx:
        tx.put("people", "p-7", {"n": -7})
    # Then exactly one shard file was replaced, and it is a small part of the whole
    after = {path.name: path.stat().st_mtime_ns for path in tmp_path.glob("people.*.json")}
    changed = [name for name in after if after[name] != before[name]]
    assert len(before) == 8 and len(changed) == 1
    shard = json.loads((tmp_path / changed[0]).read_bytes())["people"]
    assert "p-7" in shard and len(shard) < 100
    # And reads by id, all() and find() see every document wherever it lives
    with store.snapshot() as tx:
        assert tx.require("people", "p-7")["n"] == -7
        assert len(tx.all("people")) == 400
        assert [doc["id"] for doc in tx.find("people", n=399)] == ["p-399"]
    assert not (tmp_path / "people.json").exists()
    store.close()


def test_a_collection_kept_in_one_file_is_split_when_opened_with_shards(tmp_path: Path) -> None:
    # Given a folder written without shards, one archived record among them
    plain = TinyDbStore(tmp_path)
    with plain.transaction() as tx:
        for number in range(50):
            tx.put("people", f"p-{number}", {"n": number})
        tx.put("bookings", "b-1", {"status": "open"})
    with plain.transaction() as tx:
        tx.archive("people", "p-0")
    plain.close()
    # When it is opened with the people sharded
    store = TinyDbStore(tmp_path, shards=SHARDS)
    # Then the one file is gone, the shards hold everyone, the rest is untouched
    assert not (tmp_path / "people.json").exists()
    assert len(names(tmp_path, "people.*.json")) == 8
    with store.snapshot() as tx:
        assert [doc["n"] for doc in tx.all("people")] == sorted(
            range(1, 50), key=lambda n: f"p-{n}"
        )
        assert tx.require("people", "p-0")["n"] == 0  # from the archive
        assert tx.require("bookings", "b-1")["status"] == "open"
    assert not (tmp_path / ".commit.journal").exists() and not list(tmp_path.glob(".*.tmp"))
    store.close()


def test_the_layout_is_recorded_so_a_store_built_without_it_finds_the_shards(
    tmp_path: Path,
) -> None:
    # Given a folder whose people were split by one store
    first = TinyDbStore(tmp_path, shards=SHARDS)
    with first.transaction() as tx:
        tx.put("people", "p-1", {"name": "林奶奶"})
    # When another process opens the folder without naming any shards (a worker, a CLI)
    second = TinyDbStore(tmp_path)
    with second.transaction() as tx:
        tx.put("people", "p-2", {"name": "王先生"})
    # Then it reads and writes the same shards, never a separate people.json
    with first.snapshot() as tx:
        assert [doc["name"] for doc in tx.all("people")] == ["林奶奶", "王先生"]
    assert not (tmp_path / "people.json").exists()
    first.close()
    second.close()


def test_a_recorded_shard_count_cannot_change(tmp_path: Path) -> None:
    TinyDbStore(tmp_path, shards=SHARDS).close()
    with pytest.raises(StoreError, match="people is split into 8 shards"):
        TinyDbStore(tmp_path, shards={"people": 16})


@pytest.mark.parametrize("count", [0, 1, 1001])
def test_a_shard_count_must_be_sensible(tmp_path: Path, count: int) -> None:
    with pytest.raises(StoreError, match="shard count"):
        TinyDbStore(tmp_path, shards={"people": count})


def test_a_split_killed_after_its_journal_is_completed_by_the_next_opener(tmp_path: Path) -> None:
    # Given the files a store leaves when killed while splitting people into shards:
    # the layout and the journal are written, one shard renamed, the one file still there
    plain = TinyDbStore(tmp_path)
    with plain.transaction() as tx:
        for number in range(20):
            tx.put("people", f"p-{number}", {"n": number})
    plain.close()
    probe = TinyDbStore(tmp_path / "probe", shards=SHARDS)
    with probe.transaction() as tx:
        for number in range(20):
            tx.put("people", f"p-{number}", {"n": number})
    probe.close()
    shards = names(tmp_path / "probe", "people.*.json")
    (tmp_path / ".layout.json").write_bytes((tmp_path / "probe" / ".layout.json").read_bytes())
    (tmp_path / shards[0]).write_bytes((tmp_path / "probe" / shards[0]).read_bytes())
    for name in shards[1:]:
        (tmp_path / f".{name}.k1ll3d.tmp").write_bytes((tmp_path / "probe" / name).read_bytes())
    plan = {
        "replace": [[f".{name}.k1ll3d.tmp", name] for name in shards[1:]],
        "tombstones": {},
        "compact": [],
        "remove": ["people.json"],
    }
    (tmp_path / ".commit.journal").write_text(json.dumps(plan))
    # When the folder is opened again, without naming the shards
    store = TinyDbStore(tmp_path)
    # Then the split is whole: every person once, in the shards, and nothing left over
    with store.snapshot() as tx:
        assert sorted(doc["n"] for doc in tx.all("people")) == list(range(20))
    assert not (tmp_path / "people.json").exists()
    assert not (tmp_path / ".commit.journal").exists() and not list(tmp_path.glob(".*.tmp"))
    store.close()


def test_a_corrupt_shard_is_reported_by_name(tmp_path: Path) -> None:
    store = TinyDbStore(tmp_path, shards=SHARDS)
    with store.transaction() as tx:
        tx.put("people", "p-1", {"n": 1})
    store.close()
    [shard] = list(tmp_path.glob("people.*.json"))
    shard.write_text('{"people": {"p-1"')
    with pytest.raises(StoreError, match=shard.name.replace(".", r"\.")):
        TinyDbStore(tmp_path)
