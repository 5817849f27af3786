"""The conversation engine: one code path for every channel.

``await engine.handle(incoming)`` loads the person and their conversation,
routes the event (a command, a menu or action button, or the answer to the
current question), runs one step, stores the new state and returns what to
send. ``/cancel``, ``/help`` and ``/start`` work in every state; a flow left
quiet for ``[conversation] idle_minutes`` is dropped politely; a button that
was not offered in the current state is answered as expired; any failure is
logged once and answered kindly, leaving the state as it was. Words typed
outside any flow start the flow their keywords name, or ask "do you mean …?"
(:mod:`assistant.conversation.keywords`).

A turn costs one lock-free read of the store (the conversation, the person and
whether their address was marked unreachable) and at most one commit of one
small file: the conversation record, skipped when it did not change. A step
that changes records does it in ``ctx.atomic``, whose unit of work also ends
the question being answered, so a crash before the turn's own save can never
leave a pressed button offered again (``docs/STORAGE.md``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from assistant.conversation import buttons, menus
from assistant.conversation.flow import Action, Ctx, Flow, State, Topic, Turn, Unexpected, write
from assistant.conversation.keywords import GUESS_ACTION, Intents, guess_value, is_stop
from assistant.conversation.menus import MENU_PREFIX
from assistant.conversation.records import Records, implied, same
from assistant.conversation.vocabulary import (
    Choice,
    Incoming,
    Kind,
    Outbound,
    Reply,
)
from assistant.errors import Refusal
from assistant.i18n import normalise, translator
from assistant.services import people
from assistant.services.people import community

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

MAX_TEXT = 4000
ACTION_PREFIX = "a:"
LANGUAGE_PREFIX = "lang:"
ALWAYS = ("cancel", "help", "start", "menu", "language")


class Engine:
    """Routes incoming events to flows and keeps conversation state."""

    def __init__(
        self,
        app: App,
        flows: Sequence[Flow],
        actions: Mapping[str, Action] | None = None,
        onboarding: str = "onboard",
        topics: Sequence[Topic] = (),
    ) -> None:
        self.app = app
        unique: dict[str, Flow] = {}
        for flow in flows:
            if unique.setdefault(flow.name, flow) is not flow:
                raise ValueError(f"two flows are named {flow.name}")
        self.flows = unique
        self.states: dict[str, State] = {}
        self.owners: dict[str, str] = {}
        """Each state's flow."""
        self.commands: dict[str, Flow] = {}
        for flow in unique.values():
            for name, state in flow.states.items():
                if name in self.states:
                    raise ValueError(f"state {name} defined twice")
                self.states[name] = state
                self.owners[name] = flow.name
            for command in flow.commands:
                if command in self.commands or command in ALWAYS:
                    raise ValueError(f"command /{command} defined twice")
                self.commands[command] = flow
        self.actions = dict(actions or {})
        self.onboarding = onboarding
        self._locks: dict[str, asyncio.Lock] = {}
        self.intents = Intents(unique, topics)
        self.records = Records(app)
        self.actions.setdefault(GUESS_ACTION, self._guessed)

    # -- entry point -------------------------------------------------------

    async def handle(self, incoming: Incoming) -> list[Outbound]:
        """Answer one event; never raises for anything a person can send."""
        lock = self._locks.setdefault(incoming.sender, asyncio.Lock())
        async with lock:
            try:
                return await self._handle(incoming)
            except Exception:
                log.exception("engine failed on a %s event", incoming.kind)
                language = normalise(incoming.language_hint or self.default_language)
                return [self._out(incoming, Reply(translator(language).t("core.error")), language)]
            finally:
                if not lock.locked():
                    self._locks.pop(incoming.sender, None)

    @property
    def default_language(self) -> str:
        """The community's default language."""
        return str(self.app.settings.get("community", "language"))

    async def _handle(self, incoming: Incoming) -> list[Outbound]:
        loaded = await asyncio.to_thread(self.records.load, incoming.sender)
        conversation, person = loaded.conversation, loaded.person
        if loaded.switched and not incoming.is_group:
            await write(self.app, functools.partial(self.records.note_use, incoming.sender))
        if conversation.get("decided_in"):
            log.info("the last turn in %s committed but ended early", conversation["decided_in"])
        language = self._language(conversation, person, incoming)
        ctx = Ctx(self.app, incoming, person, dict(conversation.get("data", {})), language)
        ctx.menu_builder = self.menu
        before: list[Reply] = []
        state = conversation.get("state")
        if state and self.records.idle(conversation):
            before.append(Reply(ctx.t("core.idle_dropped")))
            state = None
            ctx.data = {}
        if incoming.kind is Kind.TEXT and len(incoming.text) > MAX_TEXT:
            return self._outs(ctx, [Reply(ctx.t("core.too_long"))])
        if incoming.is_group:
            return self._outs(ctx, await self._group(ctx))
        decided: list[str | None] = []
        ctx.decided = functools.partial(self.records.decide, ctx, state, decided)
        turn, state = await self._route(ctx, state, conversation)
        await self._left(ctx, conversation, turn.state)
        replies = before + list(turn.replies)
        offered: list[str] = []
        if turn.state is not None:
            asked = await self._ask(ctx, turn.state)
            if ctx.aside is not None and asked:
                last = asked[-1]
                asked[-1] = dataclasses.replace(last, choices=last.choices + ((ctx.aside,),))
            replies += asked
            offered = sorted({value for reply in asked for value in reply.values()})
        elif state is not None and not turn.replies:
            replies.append(Reply(ctx.t("core.done")))
        ctx.decided = None
        if ctx.erase:
            await write(self.app, functools.partial(self.records.purge, incoming.sender))
            return self._outs(ctx, replies)
        record = self.records.record(turn.state, ctx.data, offered, ctx.language)
        unchanged = same(conversation, record) or (
            incoming.kind is Kind.PRESS and implied(conversation, record, person)
        )
        if decided or loaded.unreachable or not unchanged:
            save = functools.partial(self.records.save, incoming.sender, record, loaded.unreachable)
            await write(self.app, save)
        return self._outs(ctx, replies)

    async def _left(self, ctx: Ctx, conversation: Mapping[str, Any], now: str | None) -> None:
        """Run the flow's ``on_leave`` when this turn left the flow the person was in."""
        was = self.owners.get(conversation.get("state") or "")
        flow = self.flows.get(was or "")
        stayed = now and self.owners.get(now) == was and ctx.begun != was
        if flow is None or flow.on_leave is None or stayed:
            return
        try:
            await flow.on_leave(ctx, dict(conversation.get("data") or {}))
        except Refusal as refusal:  # nothing left to give back, or no longer theirs
            log.info("leaving %s: %s", flow.name, type(refusal).__name__)

    # -- routing -------------------------------------------------------------

    async def _route(
        self, ctx: Ctx, state: str | None, conversation: Mapping[str, Any]
    ) -> tuple[Turn, str | None]:
        """Decide what this event means and run the matching step."""
        incoming = ctx.incoming
        if incoming.kind is Kind.COMMAND:
            return await self._command(ctx, state), state
        if incoming.kind is Kind.PRESS:
            value = incoming.press
            if value.startswith(MENU_PREFIX):
                return await self._menu(ctx, value[len(MENU_PREFIX) :], state), state
            if value.startswith(ACTION_PREFIX):
                return await self._action(ctx, value[len(ACTION_PREFIX) :], state), state
            if state is None or value not in conversation.get("offered", []):
                return self._stay(state, Reply(ctx.t("core.button_expired"))), state
        if incoming.kind is Kind.VOICE and "voice" in self.actions:
            return await self._action(ctx, "voice", state), state
        if state is None:
            return await self._idle_input(ctx), state
        if incoming.kind is Kind.TEXT and is_stop(incoming.text):  # "取消", "算了": as /cancel
            ctx.data = {}
            return Turn(None, (Reply(ctx.t("core.cancelled")), self.menu(ctx))), state
        return await self._answer(ctx, state), state

    def _stay(self, state: str | None, *replies: Reply) -> Turn:
        """Keep the current state, asking its question again after ``replies``."""
        return Turn(state, replies)

    async def _command(self, ctx: Ctx, state: str | None) -> Turn:
        command = ctx.incoming.command
        if command == "cancel":
            ctx.data = {}
            if state is None:
                return Turn(None, (Reply(ctx.t("core.nothing_to_cancel")), self.menu(ctx)))
            return Turn(None, (Reply(ctx.t("core.cancelled")), self.menu(ctx)))
        if command == "help":
            return self._stay(state, self.help(ctx))
        if command in ("start", "menu"):
            ctx.data = {}
            if ctx.person is None or command == "start" and ctx.incoming.args:
                return await self._begin(ctx, self.flows[self.onboarding])
            return Turn(None, (self.menu(ctx),))
        if command == "language":
            return Turn(None, (self.language_choice(ctx),))
        flow = self.commands.get(command)
        if flow is None:
            return self._stay(state, Reply(ctx.t("core.unknown_command", command=command[:32])))
        ctx.data = {}
        return await self._begin(ctx, flow)

    async def _menu(self, ctx: Ctx, name: str, state: str | None) -> Turn:
        flow = self.flows.get(name)
        if flow is None or not flow.menu_key:
            return self._stay(state, Reply(ctx.t("core.button_expired")))
        ctx.data = {}
        return await self._begin(ctx, flow)

    async def _action(self, ctx: Ctx, value: str, state: str | None) -> Turn:
        name, *parts = value.split(":")
        language = buttons.Language.parse(parts) if name == buttons.Language.ACTION else None
        if language is not None:
            return await self._set_language(ctx, language.code, state)
        action = self.actions.get(name)
        if action is None:
            return self._stay(state, Reply(ctx.t("core.button_expired")))
        saved = dict(ctx.data)
        try:
            turn = await action(ctx, parts)
        except Refusal as refusal:
            return self._refused(ctx, state, refusal)
        if turn.state is None and state is not None:
            # An action answered outside the current flow: keep the flow where it was,
            # with its own data (an action that began and ended a flow of its own cleared it).
            ctx.data = saved
            return Turn(state, turn.replies)
        return turn

    async def _set_language(self, ctx: Ctx, language: str, state: str | None) -> Turn:
        ctx.language = normalise(language)
        if ctx.person is not None:
            await ctx.run(people.set_language, self.app.store, ctx.person["id"], ctx.language)
        return Turn(state, (Reply(ctx.t("core.language_set")),))

    async def _begin(self, ctx: Ctx, flow: Flow) -> Turn:
        if flow.needs_profile and ctx.person is None:
            return await self._begin(ctx, self.flows[self.onboarding])
        if flow.roles and not set(flow.roles) & set(people.roles_of(self.app, ctx.person)):
            return Turn(None, (Reply(ctx.t("core.not_allowed")),))
        ctx.begun = flow.name
        return await self._guarded(ctx, None, flow.start)

    async def _idle_input(self, ctx: Ctx) -> Turn:
        """Something said outside any flow: greet a newcomer, else follow the words or show the menu."""
        if ctx.person is None:
            return await self._begin(ctx, self.flows[self.onboarding])
        if ctx.incoming.kind is Kind.TEXT:
            return await self._by_keywords(ctx)
        if ctx.incoming.kind is Kind.PRESS:
            return Turn(None, (self.menu(ctx),))
        return Turn(None, (Reply(ctx.t("core.cannot_use_that")), self.menu(ctx)))

    # -- words instead of buttons ---------------------------------------------------

    def _usable(self, ctx: Ctx) -> set[str]:
        """The intents this person may be sent to."""
        if ctx.person is None:
            return set()
        return self.intents.usable(people.roles_of(self.app, ctx.person))

    async def _by_keywords(self, ctx: Ctx) -> Turn:
        """Typed words: start what they clearly name, ask when unsure, else show the menu."""
        guess = self.intents.guess(ctx.incoming.text, self._usable(ctx))
        if not guess.names:
            return Turn(None, (self.menu(ctx),))
        if guess.sure:
            return await self._follow(ctx, guess.names[0])
        return Turn(None, (self.intents.do_you_mean(ctx, guess.names),))

    def _other_wish(self, ctx: Ctx, state: str | None) -> Reply | None:
        """Words in the middle of a form that clearly ask for something else ("有人没戴口罩"
        while choosing a time): offer to go there, and ask the form's question again below."""
        if state is None or ctx.incoming.kind is not Kind.TEXT or ctx.person is None:
            return None
        guess = self.intents.guess(ctx.incoming.text, self._usable(ctx))
        if not guess.sure:
            return None
        name = guess.names[0]
        if name == self.owners.get(state) or (
            name not in self.flows and name not in self.intents.topics
        ):
            return None
        what = self.intents.label(ctx, name)
        ctx.aside = Choice(ctx.t("core.switch_yes", what=what), guess_value(name))
        return Reply(ctx.t("core.switch_offer", what=what))

    async def _guessed(self, ctx: Ctx, parts: list[str]) -> Turn:
        """A "do you mean …?" button, checked again as if the words were typed now."""
        guess = buttons.Guess.parse(parts)
        if guess is None or guess.name not in self._usable(ctx):
            return Turn(None, (Reply(ctx.t("core.button_expired")),))
        return await self._follow(ctx, guess.name)

    async def _follow(self, ctx: Ctx, name: str) -> Turn:
        """Do what an intent means: a kind word for a topic, a built-in, or start a flow."""
        topic = self.intents.topics.get(name)
        if topic is not None:
            reach = community.how_to_reach(self.app.settings, ctx.tr)
            return Turn(None, (Reply(ctx.t(topic.answer_key, reach=reach)), self.menu(ctx)))
        if name == "help":
            return Turn(None, (self.help(ctx),))
        if name == "language":
            return Turn(None, (self.language_choice(ctx),))
        if name not in self.flows:
            return Turn(None, (self.menu(ctx),))
        ctx.data = {}
        return await self._begin(ctx, self.flows[name])

    async def _answer(self, ctx: Ctx, state: str) -> Turn:
        step = self.states.get(state)
        if step is None:
            log.warning("stored state %s no longer exists; starting over", state)
            ctx.data = {}
            return Turn(None, (Reply(ctx.t("core.flow_changed")), self.menu(ctx)))
        return await self._guarded(ctx, state, step.answer)

    async def _guarded(self, ctx: Ctx, state: str | None, answer: Any) -> Turn:
        """Run a step; turn expected refusals into a kind word and the same question."""
        saved = dict(ctx.data)
        try:
            turn: Turn = await answer(ctx)
            return turn
        except Unexpected as unexpected:
            ctx.data = saved
            switch = self._other_wish(ctx, state)
            if switch is not None:
                return self._stay(state, switch)
            if unexpected.key == "core.use_buttons" and ctx.incoming.numbered_choices:
                # A number typed where only a choice fits, but none of those shown.
                hint = ctx.t("core.choose_number", last=ctx.incoming.numbered_choices)
                return self._stay(state, Reply(hint))
            return self._stay(state, Reply(ctx.t(unexpected.key, **unexpected.values)))
        except Refusal as refusal:
            ctx.data = saved
            return self._refused(ctx, state, refusal)

    def _refused(self, ctx: Ctx, state: str | None, refusal: Refusal) -> Turn:
        """The one answer to a refusal: logged by its class (no personal data), said kindly."""
        log.info("refused: %s", type(refusal).__name__)
        return self._stay(state, Reply(ctx.t(refusal.key, **refusal.values)))

    async def _ask(self, ctx: Ctx, state: str) -> list[Reply]:
        step = self.states.get(state)
        if step is None:
            raise KeyError(f"no state {state}")
        return await step.ask(ctx)

    async def _group(self, ctx: Ctx) -> list[Reply]:
        """In a group chat: only addressed commands, and never personal data."""
        incoming = ctx.incoming
        if incoming.kind is Kind.PRESS and "group_press" in self.actions:
            # A button under a group message ("I want some"): answered in private, if at all.
            turn = await self.actions["group_press"](ctx, [incoming.press])
            return list(turn.replies)
        if incoming.kind is not Kind.COMMAND:
            return []
        action = self.actions.get(f"group_{incoming.command}")
        if action is not None:
            turn = await action(ctx, incoming.args.split())
            return list(turn.replies)
        if incoming.command in ("help", "start"):
            return [Reply(ctx.t("core.group_help"))]
        return [Reply(ctx.t("core.group_private_only"))]

    # -- menus -------------------------------------------------------------------

    def menu(self, ctx: Ctx) -> Reply:
        """The main menu for this person's roles."""
        return menus.main_menu(self.app, self.flows, ctx)

    def help(self, ctx: Ctx) -> Reply:
        """What this person can do, by role."""
        return menus.help_for(self.app, self.flows, ctx)

    def language_choice(self, ctx: Ctx) -> Reply:
        """Buttons to switch language at any time."""
        return menus.language_choice(ctx)

    # -- helpers -------------------------------------------------------------------

    def _language(
        self, conversation: Mapping[str, Any], person: Mapping[str, Any] | None, incoming: Incoming
    ) -> str:
        if person and person.get("language"):
            return normalise(person["language"])
        if conversation.get("language"):
            return normalise(conversation["language"])
        if incoming.language_hint:
            return normalise(incoming.language_hint)
        return normalise(self.default_language)

    def _out(self, incoming: Incoming, reply: Reply, language: str) -> Outbound:
        return Outbound(to=reply.to or incoming.where, reply=reply, language=language)

    def _outs(self, ctx: Ctx, replies: list[Reply]) -> list[Outbound]:
        out = [self._out(ctx.incoming, reply, ctx.language) for reply in replies]
        return out + ctx.notes
