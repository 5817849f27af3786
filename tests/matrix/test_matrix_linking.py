"""One person on two networks, through the real Matrix stack.

林奶奶 of the demo community is registered on the console; she asks for a code there,
types ``!link <code>`` in an encrypted direct room on Synapse, and from then on a
worker's message goes to whichever chat she wrote from last.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from matrix_world import Running

from assistant.channels.matrix import MatrixDelivery
from assistant.conversation.vocabulary import Address, Incoming, Outbound, Reply
from assistant.delivery import MemoryDelivery, RoutedDelivery
from assistant.jobs import outbox
from assistant.jobs.firing import bound
from assistant.services import people
from handlers import build_engine

LIN = "console:lin"


async def test_a_console_person_links_matrix_and_hears_a_worker_there_after_writing_there(
    running: Running, resident_factory: Any
) -> None:
    # Given 林奶奶 on the console, and her Matrix account in an encrypted direct room
    app = running.app
    console_engine = build_engine(app)  # the console's side of the same app

    async def on_console(text: str) -> str:
        outs = await console_engine.handle(Incoming.from_text(Address(LIN), text))
        return "\n".join(out.reply.text for out in outs)

    lin = await resident_factory()
    await lin.open_direct_room(running.bot.account.user_id)
    worker = MatrixDelivery(app.settings, running.redis_url, app.store)
    console = MemoryDelivery()
    app.delivery = RoutedDelivery({"matrix": worker, "console": console})

    async def worker_says(words: str) -> None:  # addressed as services address her
        with app.unit() as tx:
            outbox.post(tx, Outbound(Address(LIN), Reply(words)), app.clock.now())
        await asyncio.to_thread(app.queue.run_all, bound(app))  # type: ignore[attr-defined]

    try:
        # When she asks for a code on the console and types it on Matrix with !link
        found = re.search(r"\b(\d{6})\b", await on_console("/link"))
        assert found
        linked = await lin.says(f"!link {found.group(1)}", expect=2)
        # Then her Matrix address is her, encrypted answers and all
        assert "关联好了" in linked[0].body and linked[0].encrypted
        with app.store.snapshot() as tx:
            assert (people.person_at(tx, lin.address) or {}).get("name") == "林奶奶"
        await asyncio.to_thread(app.queue.run_all, bound(app))  # type: ignore[attr-defined]
        assert [m.to for m in console.take()] == [LIN]  # the console is told, pinned there
        # When she writes on the console, a worker's message goes to the console
        await on_console("/help")
        await worker_says("提醒一：明天上午九点有人上门")
        assert [m.to for m in console.take()] == [LIN]
        # When she writes on Matrix again, the next worker's message reaches her on Matrix
        await lin.says("/help")
        await worker_says("提醒二：明天上午九点有人上门")
        await lin.until(lambda: "提醒二" in lin.last().body, "the worker's message on Matrix")
        assert lin.last().encrypted and console.take() == []
    finally:
        worker.close()
