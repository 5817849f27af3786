"""One unit of work per decision: a crash between a step's change and the conversation's save.

A real process runs the engine on the real TinyDB store and is killed with
SIGKILL at the exact moment that matters: right after the step's ``ctx.atomic``
has committed its change, before the engine stores the next state. A second
process then presses the same button again. It must book nothing twice, and
the conversation must not offer the pressed button any more. The control case
kills the process inside the change, before its commit: then the press was
never decided, and pressing again books exactly once.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from assistant.bootstrap import build
from assistant.clock import FakeClock
from assistant.config import defaults
from assistant.conversation.engine import Engine
from assistant.conversation.flow import Ctx, Flow, State, Turn, end, go
from assistant.conversation.vocabulary import Choice, Incoming, Kind, Reply, make_address
from assistant.i18n import translator
from assistant.store.base import Tx
from assistant.store.tinydb_store import TinyDbStore

pytestmark = pytest.mark.slow

SPAWN = multiprocessing.get_context("spawn")
LIN = make_address("console", "lin")
SHARDS = {"conversations": 8, "people": 8, "addresses": 8}
AFTER_COMMIT = "after-commit"
BEFORE_COMMIT = "before-commit"
NO_CRASH = "none"


# --- a flow of two steps, run by the child processes ---------------------------------------------


def _book(tx: Tx, crash: str) -> str:
    """Book one visit; with ``crash`` = before-commit, die before the unit of work commits."""
    booking_id = f"b-{len(tx.all('bookings')) + 1}"
    tx.put("bookings", booking_id, {"by": "lin"})
    if crash == BEFORE_COMMIT:
        os.kill(os.getpid(), signal.SIGKILL)
    return booking_id


def _flow(crash: str) -> Flow:
    async def start(ctx: Ctx) -> Turn:
        """Ask to confirm."""
        return go("book.confirm")

    async def ask_confirm(ctx: Ctx) -> list[Reply]:
        """One button: book."""
        return [Reply("Book a visit?", choices=((Choice("Book", "yes"),),))]

    async def got_confirm(ctx: Ctx) -> Turn:
        """Book; with ``crash`` = after-commit, die between the commit and the engine's save."""
        if ctx.press != "yes":
            return go("book.confirm")
        booking_id = await ctx.atomic(_book, crash)
        if crash == AFTER_COMMIT:
            os.kill(os.getpid(), signal.SIGKILL)
        return end(Reply(f"booked {booking_id}"))

    return Flow(
        name="book",
        start=start,
        states={"book.confirm": State(ask_confirm, got_confirm)},
        commands=("book",),
        needs_profile=False,
    )


def _engine(directory: str, crash: str) -> Engine:
    store = TinyDbStore(directory, shards=SHARDS)
    app = build(defaults(), store=store, clock=FakeClock())
    return Engine(app, [_flow(crash)], onboarding="book")


def turn(directory: str, crash: str, event: str, answers: Any) -> None:
    """In a fresh process: handle one event (``/book`` or the press), report the texts."""
    engine = _engine(directory, crash)
    if event == "/book":
        incoming = Incoming.from_text(LIN, "/book")
    else:
        incoming = Incoming(sender=LIN, kind=Kind.PRESS, press=event)
    outs = asyncio.run(engine.handle(incoming))
    answers.put([out.reply.text for out in outs])


def run_turn(directory: Path, crash: str, event: str) -> tuple[int | None, list[str] | None]:
    """Run one event in its own process; its exit code and, if it lived, what it said."""
    answers = SPAWN.Queue()
    child = SPAWN.Process(target=turn, args=(str(directory), crash, event, answers))
    child.start()
    child.join(60)
    said = answers.get(timeout=5) if child.exitcode == 0 else None
    return child.exitcode, said


def bookings(directory: Path) -> list[str]:
    store = TinyDbStore(directory)
    with store.snapshot() as tx:
        found = [doc["id"] for doc in tx.all("bookings")]
    store.close()
    return found


def conversation(directory: Path) -> dict[str, Any]:
    store = TinyDbStore(directory)
    with store.snapshot() as tx:
        found = tx.get("conversations", LIN) or {}
    store.close()
    return found


# --- the tests ------------------------------------------------------------------------------------


def test_a_press_repeated_after_a_crash_between_commit_and_save_books_nothing_twice(
    tmp_path: Path,
) -> None:
    # Given a person asked to confirm a booking
    assert run_turn(tmp_path, NO_CRASH, "/book") == (0, ["Book a visit?"])
    assert conversation(tmp_path)["offered"] == ["yes"]
    # When they press "book" and the process dies right after the booking committed,
    # before the engine stored the conversation's next state
    exitcode, _ = run_turn(tmp_path, AFTER_COMMIT, "yes")
    assert exitcode == -signal.SIGKILL
    # Then the booking and the conversation agree: booked once, the button no longer offered
    assert bookings(tmp_path) == ["b-1"]
    record = conversation(tmp_path)
    assert record["state"] is None and not record.get("offered")
    # And pressing the same button again after the restart books nothing twice
    exitcode, said = run_turn(tmp_path, NO_CRASH, "yes")
    assert exitcode == 0 and said == [translator("zh_CN").t("core.button_expired")]
    assert bookings(tmp_path) == ["b-1"]


def test_a_press_whose_change_never_committed_can_be_pressed_again(tmp_path: Path) -> None:
    # Given a person asked to confirm a booking
    run_turn(tmp_path, NO_CRASH, "/book")
    # When the process dies inside the booking, before its unit of work committed
    exitcode, _ = run_turn(tmp_path, BEFORE_COMMIT, "yes")
    assert exitcode == -signal.SIGKILL
    # Then nothing was booked and the question still stands
    assert bookings(tmp_path) == []
    assert conversation(tmp_path)["state"] == "book.confirm"
    # And pressing again books exactly once
    exitcode, said = run_turn(tmp_path, NO_CRASH, "yes")
    assert exitcode == 0 and said == ["booked b-1"]
    assert bookings(tmp_path) == ["b-1"]
    assert conversation(tmp_path)["state"] is None
