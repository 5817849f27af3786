"""Fixtures of the Matrix tests: one real Synapse for the run, the bot's channel, residents.

Synapse runs once per test session (:mod:`synapse_server`). Where it cannot be had the
tests that need it skip, except under CI (``CI=true``), where they fail: CI must
never pass by skipping them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from matrix_resident import Resident
from matrix_world import Bot, Running, demo_app, matrix_settings
from synapse_server import Synapse, SynapseMissing, synapse_python

from assistant.channels.matrix import MatrixChannel
from handlers import build_engine


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"the Matrix tests need Synapse under CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    """A real Synapse on loopback, started once for the whole run and stopped at its end."""
    try:
        python = synapse_python()
    except SynapseMissing as missing:
        _unavailable(str(missing))
    server = Synapse(tmp_path_factory.mktemp("synapse"), python)
    try:
        server.start()
    except RuntimeError as failed:
        _unavailable(str(failed))
    yield server
    server.stop()


@pytest.fixture
def bot(synapse: Synapse, tmp_path: Path) -> Bot:
    """A fresh bot account (its store folder empty: the first start makes the device)."""
    account = synapse.register("centre-" + secrets.token_hex(4))
    store_dir = tmp_path / "matrix-store"
    return Bot(account, matrix_settings(synapse, account, store_dir), store_dir)


@pytest.fixture
async def running(bot: Bot, redis_url: str) -> AsyncIterator[Running]:
    """The real channel, syncing with the test homeserver."""
    app = demo_app(bot.settings)
    channel = MatrixChannel(app, build_engine(app), redis_url)
    await channel.start()
    state = Running(app, channel, bot, redis_url)
    yield state
    await state.channel.stop()
    for resident in state.residents:
        await resident.close()


@pytest.fixture
async def resident_factory(
    synapse: Synapse, running: Running, tmp_path: Path
) -> AsyncIterator[Any]:
    """Makes residents: a registered user with an encrypting client, already syncing."""

    async def make(name: str = "") -> Resident:
        account = synapse.register(name or "lin-" + secrets.token_hex(4))
        resident = Resident(synapse.url, account, tmp_path / f"store-{account.user_id[1:8]}")
        await resident.start()
        running.residents.append(resident)
        return resident

    yield make


@pytest.fixture
async def resident_factory_alone(synapse: Synapse, tmp_path: Path) -> AsyncIterator[Any]:
    """Makes residents without a channel in this process (the bot runs elsewhere)."""
    made: list[Resident] = []

    async def make(name: str = "") -> Resident:
        account = synapse.register(name or "mei-" + secrets.token_hex(4))
        resident = Resident(synapse.url, account, tmp_path / f"store-{account.user_id[1:8]}")
        await resident.start()
        made.append(resident)
        return resident

    yield make
    for resident in made:
        await resident.close()
