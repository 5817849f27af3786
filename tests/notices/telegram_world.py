"""The real Telegram stack for the notice tests: the fake Bot API, a worker's delivery, the channel.

The fake server, the simulated people and the whole-product stack live in ``tests/telegram``;
this module puts that folder on the import path, as the benchmarks do, so the notice tests use
the same fake.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "telegram"))

from fake_bot_api import FakeBotApi, FloodLimits  # noqa: E402
from people_sim import Person  # noqa: E402
from story_stack import QUICK, Stack, story_settings, story_stack, texts  # noqa: E402

__all__ = [
    "QUICK",
    "FakeBotApi",
    "FloodLimits",
    "Person",
    "Stack",
    "story_stack",
    "telegram_settings",
    "texts",
]

telegram_settings = story_settings
