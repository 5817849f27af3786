"""The Telegram channel (python-telegram-bot 22).

:class:`TelegramChannel` serves the bot in the bot process (polling or
webhook); :class:`TelegramDelivery` sends from any process (workers). Both
translate only: updates become neutral ``Incoming`` events, ``Reply`` objects
become Telegram messages, and the flood limits are shared through Redis.
"""

from __future__ import annotations

from assistant.channels.telegram.channel import TelegramChannel
from assistant.channels.telegram.delivery import TelegramDelivery
from assistant.channels.telegram.invite import invite_link, write_qr_png
from assistant.channels.telegram.sender import TryLater

__all__ = ["TelegramChannel", "TelegramDelivery", "TryLater", "invite_link", "write_qr_png"]
