"""The bot's profile: its command list in Chinese and English (``setMyCommands``).

Telegram shows the list for the user's app language (``zh``, ``en``); people
whose app uses another language see the community's default language.
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand

from assistant.i18n import translator

log = logging.getLogger(__name__)

COMMANDS = (
    "start",
    "menu",
    "help",
    "cancel",
    "me",
    "family",
    "language",
    "care",
    "mine",
    "shop",
    "orders",
    "report",
    "activities",
    "link",
    "volunteer",
    "duty",
    "tasks",
    "book",
)
LANGUAGE_CODES = (("zh", "zh_CN"), ("en", "en"))


def commands(language: str) -> list[BotCommand]:
    """The command list, described in one language."""
    tr = translator(language)
    return [BotCommand(name, tr.t(f"tg.cmd_{name}")) for name in COMMANDS]


async def set_commands(bot: Bot, default_language: str) -> None:
    """Publish the command list for each language and the default one."""
    for code, language in LANGUAGE_CODES:
        await bot.set_my_commands(commands(language), language_code=code)
    await bot.set_my_commands(commands(default_language))
    log.debug("bot commands published")
