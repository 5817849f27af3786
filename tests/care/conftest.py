"""Fixtures of the care tests: the care jobs in the job table, and a fake dispatch."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from care_transcript import FakeDispatch

from assistant.services import care_followups
from workers import registry


@pytest.fixture(autouse=True)
def care_jobs_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Until workers/registry.py lists care_followups, add it for these tests."""
    if "care.follow_up" in registry.jobs():
        return
    listed = registry._optional_modules
    monkeypatch.setattr(registry, "_optional_modules", lambda: [*listed(), care_followups])


@pytest.fixture
def dispatch(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDispatch]:
    """A fake dispatch service in place of ``assistant.services.dispatch``."""
    fake = FakeDispatch()
    monkeypatch.setitem(sys.modules, "assistant.services.dispatch", fake)  # type: ignore[arg-type]
    yield fake
