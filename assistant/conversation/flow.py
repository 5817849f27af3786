"""Flows: tables of small async steps over the neutral vocabulary.

A flow is a table from state names (stable strings such as ``"care.when"``,
since they are stored) to a :class:`State`: ``ask`` renders the question of
that state, ``answer`` reads what the person did and returns a :class:`Turn`
naming the next state. Steps never talk to a network: they return replies.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from assistant.conversation.vocabulary import Address, Choice, Incoming, Kind, Outbound, Reply
from assistant.errors import Refusal
from assistant.i18n import Translator, translator
from assistant.store.base import Tx

if TYPE_CHECKING:
    from assistant.app import App

P = ParamSpec("P")
T = TypeVar("T")

_WRITER: tuple[int, int, ThreadPoolExecutor] | None = None


def _writer(threads: int) -> ThreadPoolExecutor:
    """The threads of this process that run the conversation's store transactions.

    On a store with one lock (TinyDB, the in-memory twin) transactions run one
    at a time anyway: one thread of their own keeps them from filling the
    default executor, where the lock-free reads (loading a conversation,
    ``ctx.view``) would otherwise queue behind writers waiting for the lock. A
    store whose transactions run side by side (PostgreSQL's row locks) says
    how many may (``concurrent_writers``), so one turn waiting for a row
    another holds does not hold up every other turn of the process. Made at
    first use, again after a fork.
    """
    global _WRITER
    if _WRITER is None or _WRITER[0] != os.getpid() or _WRITER[1] != threads:
        pool = ThreadPoolExecutor(threads, thread_name_prefix="store-writer")
        _WRITER = (os.getpid(), threads, pool)
    return _WRITER[2]


async def write(app: App, work: Callable[[], T]) -> T:
    """Run a blocking transaction of ``app``'s store on a writer thread, off the event loop."""
    writers = max(1, int(getattr(app.store, "concurrent_writers", 1)))
    context = contextvars.copy_context()
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_writer(writers), functools.partial(context.run, work))


class Unexpected(Exception):
    """The answer does not fit the question; the engine says so kindly and asks again.

    ``key`` is the message id of the hint (default: "please use the buttons").
    """

    def __init__(self, key: str = "core.use_buttons", **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


class Refused(Refusal):
    """A named condition a step tells the person about; subclasses set ``key``."""


@dataclass
class Ctx:
    """What a step sees: the event, the person, the flow's data and the services."""

    app: App
    incoming: Incoming
    person: dict[str, Any] | None
    data: dict[str, Any]
    language: str
    notes: list[Outbound] = field(default_factory=list)
    menu_builder: Callable[[Ctx], Reply] | None = None
    erase: bool = False
    """Set by a step that forgot the person: the engine then keeps no conversation record."""
    decided: Callable[[Tx], None] | None = None
    """Set by the engine: writes, inside every :meth:`atomic` unit of work, the
    conversation record that consumes the question being answered, so that the
    step's change and the conversation never disagree after a crash."""
    aside: Choice | None = None
    """Set by the engine: one more button under the question asked again (for example
    "go to: report" when the words named another wish), on the question's own message so
    that channels showing only the latest buttons can offer it too."""
    begun: str = ""
    """The flow this turn began (its name), set by the engine: a flow begun again was left."""

    @property
    def tr(self) -> Translator:
        """The person's translator."""
        return translator(self.language)

    def t(self, key: str, **values: object) -> str:
        """A message in the person's language."""
        return self.tr.t(key, **values)

    @property
    def sender(self) -> Address:
        """Who is speaking."""
        return self.incoming.sender

    @property
    def text(self) -> str:
        """The typed text, stripped; raise :class:`Unexpected` for anything else."""
        if self.incoming.kind is not Kind.TEXT or not self.incoming.text.strip():
            raise Unexpected("core.type_answer")
        return self.incoming.text.strip()

    @property
    def press(self) -> str:
        """The pressed button's value; raise :class:`Unexpected` for anything else."""
        if self.incoming.kind is not Kind.PRESS:
            raise Unexpected("core.use_buttons")
        return self.incoming.press

    def tell(self, message: Outbound) -> None:
        """Send a message to someone else once the step has succeeded."""
        self.notes.append(message)

    def menu(self) -> Reply:
        """The main menu for this person."""
        if self.menu_builder is None:
            return Reply(self.t("core.menu", name=(self.person or {}).get("name", "")))
        return self.menu_builder(self)

    async def view(
        self, query: Callable[Concatenate[Tx, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``query(tx, ...)`` on a read-only snapshot, off the event loop."""

        def work() -> T:
            with self.app.store.snapshot() as tx:
                return query(tx, *args, **kwargs)

        return await asyncio.to_thread(work)

    async def atomic(
        self, change: Callable[Concatenate[Tx, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``change(tx, ...)`` in one unit of work, off the event loop.

        The same unit of work ends the conversation's current question
        (:attr:`decided`): if the process dies before the engine stores the
        next state, the button just pressed is no longer offered, so pressing
        it again changes nothing twice.
        """

        def work() -> T:
            with self.app.unit() as tx:
                result = change(tx, *args, **kwargs)
                if self.decided is not None:
                    self.decided(tx)
                return result

        return await write(self.app, work)

    async def run(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run blocking service code off the event loop."""
        return await asyncio.to_thread(work, *args, **kwargs)


@dataclass(frozen=True)
class Turn:
    """What an answer decided: the next state (``None`` ends the flow) and what to say first."""

    state: str | None
    replies: tuple[Reply, ...] = ()


def go(state: str, *replies: Reply) -> Turn:
    """Move to ``state``; its question is asked after ``replies``."""
    return Turn(state, replies)


def end(*replies: Reply) -> Turn:
    """Finish the flow with ``replies``."""
    return Turn(None, replies)


Ask = Callable[[Ctx], Awaitable[list[Reply]]]
Answer = Callable[[Ctx], Awaitable[Turn]]


@dataclass(frozen=True)
class State:
    """One question of a flow and how its answer is read."""

    ask: Ask
    answer: Answer


@dataclass(frozen=True)
class Flow:
    """A named conversation: how it starts and its states.

    Args:
        name: stable name, the prefix of its states.
        start: called when the flow begins (command or menu button).
        states: the table of states.
        commands: commands that start it (without the slash).
        roles: roles allowed to start it (empty: anyone registered).
        needs_profile: whether the person must have finished onboarding.
        menu_key: message id of its main-menu button (empty: not in the menu).
        help_key: message id of its line in /help (empty: not listed).
        keywords_key: message id of the comma-separated words that, typed outside
            any flow, start it ("预约, 上门照料, home care"; empty: none). Every
            language's list counts, whatever the person's language.
        on_leave: called with the flow's data when a turn leaves it: its own last
            step, /cancel, a stop word, another flow begun, a form dropped as idle.
            It gives back what the form still holds (a hold of stock), so it must be
            harmless when there is nothing left to give back.
    """

    name: str
    start: Answer
    states: Mapping[str, State]
    commands: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    needs_profile: bool = True
    menu_key: str = ""
    help_key: str = ""
    keywords_key: str = ""
    on_leave: Callable[[Ctx, Mapping[str, Any]], Awaitable[None]] | None = None


@dataclass(frozen=True)
class Topic:
    """Something people ask for in words that has no flow yet (buying produce, reports).

    Typed outside a flow, its keywords get a kind answer (``answer_key``, with
    ``{reach}``: how to reach the centre) and the menu. When the feature comes,
    its flow declares the same ``keywords_key`` and the topic is dropped.
    ``label_key`` names it on a "do you mean …?" button.
    """

    name: str
    keywords_key: str
    answer_key: str
    label_key: str


Action = Callable[[Ctx, list[str]], Awaitable[Turn]]
"""Handles a button that is not part of a flow (``a:offer:accept:<id>``).

It receives the parts after the action name and must check, on the server,
that the presser may do this now. Most actions are made by :func:`pressed`.
"""

B = TypeVar("B")


def pressed(
    parse: Callable[[Sequence[str]], B | None], step: Callable[[Ctx, B], Awaitable[Turn]]
) -> Action:
    """An action that reads its parts with a button codec (:mod:`assistant.conversation.buttons`).

    ``step`` gets the typed button; a press the codec cannot read is answered
    as an expired button.
    """

    async def action(ctx: Ctx, parts: list[str]) -> Turn:
        button = parse(parts)
        if button is None:
            return end(Reply(ctx.t("core.button_expired")))
        return await step(ctx, button)

    action.__doc__ = step.__doc__
    return action


def stop_on(value: str) -> Callable[[Answer], Answer]:
    """A decorator that lets the button ``value`` end the form from any question.

    The press clears the form's data and answers "cancelled" with the menu;
    anything else goes to the wrapped answer. Each flow names its own value
    (``care.stop``, ``notice.stop`` …), so a stale stop button of another
    form is read as that form's answer would read it.
    """

    def wrap(answer: Answer) -> Answer:
        async def read(ctx: Ctx) -> Turn:
            if ctx.incoming.press == value:
                ctx.data = {}
                return end(Reply(ctx.t("core.cancelled")), ctx.menu())
            return await answer(ctx)

        read.__doc__ = answer.__doc__
        return read

    return wrap
