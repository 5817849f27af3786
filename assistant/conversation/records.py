"""Conversation records: what the engine keeps per address between turns.

One small document per address in ``conversations``: the current question (``state``),
the form's data, the button values that question offered, the language and when it was
last touched. :class:`Records` reads it with the person in one snapshot before a turn and
writes it after, only when it changed; inside a step's unit of work it ends the question
being answered (:meth:`Records.decide`), so a crash can never leave a pressed button
offered again (``docs/STORAGE.md``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from assistant.clock import from_iso, to_iso
from assistant.conversation.flow import Ctx
from assistant.conversation.vocabulary import Address
from assistant.i18n import normalise
from assistant.services import people
from assistant.store.base import Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

CONVERSATIONS = "conversations"


@dataclass(frozen=True)
class Loaded:
    """What a turn reads before it runs, in one snapshot."""

    conversation: dict[str, Any]
    person: dict[str, Any] | None
    unreachable: bool
    """The sender's address is known and marked unreachable (a private message proves otherwise)."""
    switched: bool = False
    """The person has several addresses and last wrote from another one (``people.note_use``)."""


class Records:
    """Reads and writes the conversation records of one app's store."""

    def __init__(self, app: App) -> None:
        self.app = app

    def load(self, address: Address) -> Loaded:
        """The conversation, the person and the address's reachability, in one snapshot."""
        with self.app.store.snapshot() as tx:
            conversation = tx.get(CONVERSATIONS, address) or {}
            link = tx.get(people.ADDRESSES, address)
            person = people.person_at(tx, address) if link is not None else None
            switched = people.switched_to(tx, address, person)
        unreachable = link is not None and not link.get("reachable", True)
        return Loaded(conversation, person, unreachable, switched)

    def note_use(self, address: Address) -> None:
        """A person on two networks wrote here: messages go to this address from now on."""
        with self.app.store.transaction() as tx:
            people.note_use(tx, address, to_iso(self.app.clock.now()))

    def record(
        self, state: str | None, data: dict[str, Any], offered: list[str], lang: str
    ) -> dict[str, Any]:
        """The conversation record to keep after a turn."""
        if state is None:
            return {"state": None, "language": lang, "data": {}}
        return {
            "state": state,
            "data": data,
            "offered": offered,
            "language": lang,
            "updated_at": to_iso(self.app.clock.now()),
        }

    def save(self, address: Address, record: dict[str, Any], reachable: bool) -> None:
        """Store the conversation (one small file) and, if it was unreachable, the address."""
        with self.app.store.transaction() as tx:
            tx.put(CONVERSATIONS, address, record)
            if reachable:
                people.set_reachable(tx, address, True)
                log.debug("an unreachable address wrote again; marked reachable")

    def decide(self, ctx: Ctx, state: str | None, decided: list[str | None], tx: Tx) -> None:
        """Inside a step's unit of work: end the question being answered.

        If the process dies before :meth:`save`, the next event finds the flow
        ended (no button of it offered) rather than the question it had
        answered, so the change that step made is never made twice. Outside
        any flow (an action button such as "收到") there is no question to
        end, so nothing is written and the step commits one file less.
        """
        if state is None:
            return
        record = self.record(None, {}, [], ctx.language)
        record["decided_in"] = state or ""
        record["updated_at"] = to_iso(self.app.clock.now())
        tx.put(CONVERSATIONS, ctx.sender, record)
        decided.append(state)

    def purge(self, address: Address) -> None:
        """Keep no conversation record for someone who was just forgotten."""
        with self.app.store.transaction() as tx:
            tx.purge(CONVERSATIONS, address)

    def idle(self, conversation: Mapping[str, Any]) -> bool:
        updated = conversation.get("updated_at")
        if not updated:
            return False
        limit = timedelta(minutes=int(self.app.settings.get("conversation", "idle_minutes")))
        return bool(self.app.clock.now() - from_iso(updated) > limit)


def same(stored: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """Whether the stored conversation already is ``record`` (then nothing is written)."""
    return {key: value for key, value in stored.items() if key != "id"} == record


def implied(
    stored: Mapping[str, Any], record: Mapping[str, Any], person: Mapping[str, Any] | None
) -> bool:
    """Whether ``record`` says nothing a missing conversation would not: outside any flow, in
    the person's own language (so someone who never talked can press an action button, such
    as a notice's "收到", without a write)."""
    if stored or person is None or not person.get("language"):
        return False
    return record == {"state": None, "language": normalise(person["language"]), "data": {}}
