"""Fixtures of the care tests: a fake dispatch."""

from __future__ import annotations

import pytest
from care_transcript import FakeDispatch


@pytest.fixture
def dispatch() -> FakeDispatch:
    """A fake dispatch service, injected into the app as its dispatch port."""
    return FakeDispatch()
