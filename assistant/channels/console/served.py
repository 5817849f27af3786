"""The console as a served :class:`~assistant.channels.base.Channel` of ``assistant up``.

Reads the terminal (:class:`~.channel.ConsoleChannel`) and shows what worker
processes send to console users (:class:`~.inbox.ConsoleInbox`). At the end of
input it lingers a moment, so workers can finish what the last lines started,
then says it has ended.
"""

from __future__ import annotations

import asyncio
from typing import Any

from assistant.channels.base import Capabilities
from assistant.channels.console.channel import NETWORK, ConsoleChannel
from assistant.channels.console.inbox import ConsoleInbox

POP_SECONDS = 0.5


class ServedConsole:
    """The terminal and the console inbox, started and stopped together."""

    name = NETWORK
    capabilities = Capabilities(buttons=False, edits=False, media=False)

    def __init__(self, channel: ConsoleChannel, inbox: ConsoleInbox, linger: float) -> None:
        self.channel = channel
        self.inbox = inbox
        self.linger = linger
        self._ended = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []

    async def start(self) -> None:
        """Start reading input and showing inbox messages."""
        self._ended = asyncio.Event()
        self._tasks = [asyncio.create_task(self._pump()), asyncio.create_task(self._read())]

    async def stop(self) -> None:
        """Stop reading and showing."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []  # a pop in flight ends by its own time-out

    async def ended(self) -> None:
        """Return once input has ended (and the linger is over)."""
        await self._ended.wait()

    async def _pump(self) -> None:
        while True:
            message = await asyncio.to_thread(self.inbox.pop, POP_SECONDS)
            if message is not None:
                self.channel.deliver(message)

    async def _read(self) -> None:
        await self.channel.run()
        await asyncio.sleep(self.linger)  # let workers finish what the last lines started
        self._ended.set()
