"""The commit journal: the renames and tombstones a commit still has to finish.

A commit that renames more than one hot file, or appends tombstones, first
writes this journal. If its writer dies during the renames or before the
tombstones, the next lock holder reads the journal and finishes the commit,
so no transaction ever reads half of one. A commit that purged archived
records also names the archives to compact, so no earlier version of a purged
record outlives a crash. Splitting a collection into shards also names the old
file to remove once its shards are in place. The journal holds file names only,
never paths, and is written atomically (temporary file, fsync, rename,
directory fsync).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from assistant.store.base import StoreError
from assistant.store.files import dumps, fsync_dir, write_temp

JOURNAL_FILE = ".commit.journal"

Renames = list[tuple[Path, Path]]
"""Pairs of (temporary file, hot file it replaces)."""

Tombstones = dict[str, list[str]]
"""The ids of deleted archived records, by collection."""

Plan = tuple[Renames, Tombstones, list[str], list[Path]]
"""What an unfinished commit still has to do: renames, tombstones, archives to compact,
files to remove."""


class CommitJournal:
    """The journal file of one store folder.

    Args:
        directory: The store folder; the journal lives in it.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / JOURNAL_FILE

    def write(
        self,
        renames: Renames,
        tombstones: Tombstones,
        compact: list[str],
        remove: list[Path] | None = None,
    ) -> None:
        """Record durably what is left to do; the caller holds the store lock."""
        plan = {
            "replace": [[temp.name, target.name] for temp, target in renames],
            "tombstones": tombstones,
            "compact": sorted(compact),
            "remove": [path.name for path in remove or []],
        }
        os.replace(write_temp(self.path, dumps(plan)), self.path)
        fsync_dir(self.directory)

    def read(self) -> Plan | None:
        """What an unfinished commit left to do, or ``None`` if there is none.

        Raises:
            StoreError: The journal exists but cannot be read as a plan.
        """
        try:
            plan = json.loads(self.path.read_bytes())
            renames = [
                (self.directory / Path(temp).name, self.directory / Path(target).name)
                for temp, target in plan["replace"]
            ]
            deleted = {str(c): [str(i) for i in ids] for c, ids in plan["tombstones"].items()}
            compact = [str(collection) for collection in plan.get("compact", [])]
            remove = [self.directory / Path(name).name for name in plan.get("remove", [])]
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise StoreError(f"commit journal {self.path} is unreadable") from error
        return renames, deleted, compact, remove

    def remove(self) -> None:
        """Drop the journal once its commit is finished, durably."""
        self.path.unlink()
        fsync_dir(self.directory)
