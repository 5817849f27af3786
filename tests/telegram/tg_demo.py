"""The world of the Telegram tests: a demo community, its settings, the running channel.

Test modules import these from here (``from tg_demo import …``), not from ``conftest``:
several test folders have a ``conftest.py``, so a module of that name is not one thing in a
run of the whole suite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fake_bot_api import FakeBotApi, FloodLimits

from assistant import demo
from assistant.bootstrap import App, build_for_tests
from assistant.channels.telegram import TelegramChannel
from assistant.clock import to_iso
from assistant.config import Settings, defaults
from assistant.conversation.engine import Engine
from assistant.services import people
from assistant.store.memory import MemoryStore
from handlers import groups, onboarding, profile, voice

COORDINATOR_ID = 900
# Tests not about the per-chat and per-group limits get quick answers in one chat.
QUICK_CHATS = FloodLimits(
    chat_per_second=500.0, chat_burst=50, group_per_minute=6000.0, group_burst=50
)


def telegram_settings(fake: FakeBotApi, **overrides: Any) -> Settings:
    """Default settings pointed at the fake server."""
    section = {
        "max_chat_messages_per_second": 200.0,
        "max_group_messages_per_minute": 3000.0,
        "token": fake.token,
        "base_url": fake.base_url,
        "base_file_url": fake.base_file_url,
        "bot_username": fake.username,
        **overrides,
    }
    return defaults().with_values(telegram=section)


def demo_app(settings: Settings) -> App:
    """An in-memory app holding the demo community and a Telegram coordinator."""
    app = build_for_tests(settings, store=MemoryStore())
    now = to_iso(app.clock.now())
    demo.load(app.store, now)
    with app.store.transaction() as tx:
        person = people.create_person(
            tx,
            name="网格员小周二号",
            address=f"telegram:{COORDINATOR_ID}",
            language="zh_CN",
            now=now,
            roles=(people.RESIDENT, people.COORDINATOR),
        )
        person["coordinator_grids"] = ["jx-1", "jx-2"]
        tx.put(people.PEOPLE, person["id"], person)
    return app


def engine_for(app: App) -> Engine:
    """The engine with onboarding, profile and the Telegram-related actions."""
    flows = (onboarding.FLOW, profile.PROFILE, profile.FORGET, profile.FAMILY)
    actions = {**profile.ACTIONS, **voice.ACTIONS, **groups.ACTIONS}
    return Engine(app, flows, actions, onboarding=onboarding.FLOW.name)


@dataclass
class Running:
    """A started channel, its app and the fake Telegram it talks to."""

    fake: FakeBotApi
    app: App
    channel: TelegramChannel
