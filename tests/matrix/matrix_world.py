"""The world of the Matrix tests: the bot's account and settings, the running channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matrix_resident import Resident
from synapse_server import Account, Synapse

from assistant import demo
from assistant.bootstrap import App, build_for_tests
from assistant.channels.matrix import MatrixChannel
from assistant.clock import to_iso
from assistant.config import Settings, defaults
from assistant.store.memory import MemoryStore
from handlers import build_engine


@dataclass
class Bot:
    """The bot's account and the settings that point the assistant at it."""

    account: Account
    settings: Settings
    store_dir: Path


def matrix_settings(synapse: Synapse, account: Account, store_dir: Path, **extra: Any) -> Settings:
    """Default settings pointed at the test homeserver and a bot account."""
    section = {
        "homeserver": synapse.url,
        "user_id": account.user_id,
        "password": account.password,
        "store_dir": str(store_dir),
        "max_messages_per_second": 500.0,
        "max_chat_messages_per_second": 200.0,
        "max_group_messages_per_minute": 3000.0,
        **extra,
    }
    return defaults().with_values(matrix=section)


def demo_app(settings: Settings) -> App:
    """An in-memory app holding the demo community."""
    app = build_for_tests(settings, store=MemoryStore())
    demo.load(app.store, to_iso(app.clock.now()))
    return app


@dataclass
class Running:
    """A started Matrix channel, its app, and what the test needs to start it again."""

    app: App
    channel: MatrixChannel
    bot: Bot
    redis_url: str
    residents: list[Resident] = field(default_factory=list)

    async def restart(self) -> MatrixChannel:
        """Stop the channel and start a new one on the same store folder (a new process)."""
        await self.channel.stop()
        self.channel = MatrixChannel(self.app, build_engine(self.app), self.redis_url)
        await self.channel.start()
        return self.channel
