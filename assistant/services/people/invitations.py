"""Invitation codes for deep links: a volunteer or a household opens the bot with one.

Telegram lets a bot write only to people who opened it first, so the centre
hands out links (and QR codes) carrying a one-time code. A volunteer's code
links the chat that opens it to the volunteer's imported profile; a
household's code greets the newcomer by name and starts registration.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from assistant.clock import to_iso
from assistant.services import people
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

INVITES = "invitations"
PREFIX = {"volunteer": "vol", "household": "hh"}


class UnknownVolunteer(ValueError):
    """No single imported volunteer has that name."""


def volunteers_named(tx: Tx, name: str) -> list[Doc]:
    """Volunteers in the store with exactly this name."""
    return [
        p
        for p in tx.all(people.PEOPLE)
        if p.get("name") == name and people.VOLUNTEER in p.get("roles", [])
    ]


def names_a_volunteer(app: App, name: str) -> bool:
    """Whether an invitation for ``name`` would link to an imported volunteer's profile."""
    with app.store.snapshot() as tx:
        return len(volunteers_named(tx, name)) == 1


def create(app: App, kind: str, name: str) -> str:
    """A new invitation payload such as ``vol-k3j9x2``."""
    code = f"{PREFIX[kind]}-{secrets.token_urlsafe(6).replace('-', 'x').replace('_', 'y')}"
    with app.unit() as tx:
        record: Doc = {"kind": kind, "name": name, "created_at": to_iso(app.clock.now())}
        if kind == "volunteer":
            matches = volunteers_named(tx, name)
            if len(matches) > 1:
                raise UnknownVolunteer(f"{len(matches)} volunteers are named {name}")
            if matches:
                record["person_id"] = matches[0]["id"]
        tx.put(INVITES, code, record)
    return code


def redeem(tx: Tx, code: str, address: str, now: str) -> Doc | None:
    """Use a code once from this chat address; return the invitation, or None if unusable."""
    invite = tx.get(INVITES, code)
    if invite is None or invite.get("used_at"):
        return None
    invite["used_at"] = now
    invite["used_by"] = address
    tx.put(INVITES, code, invite)
    person_id = invite.get("person_id")
    if person_id and tx.get(people.PEOPLE, person_id) is not None:
        people.link_address(tx, person_id, address, reachable=True)
    return invite
