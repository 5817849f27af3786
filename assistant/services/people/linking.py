"""One person on two networks: link a second chat address with a one-time code, and unlink it.

``/link`` on a chat where the person is registered shows a short code
(:func:`issue_code`); typed on another network within ``[linking] code_minutes``
(:func:`redeem`) it adds that address to the same person record, so bookings,
roles, household and family helpers are the same on both. Messages then go to the
address the person last wrote from (``people.preferred_address``, resolved by the
outbox at send time). ``/unlink`` (:func:`unlink`) takes one address away again;
the person keeps at least one.

Decisions, checked on the server inside the deciding transaction:

* the address typing the code must be new (nobody registered there) or already
  the same person's. When it is another registered person's, linking is refused
  kindly (:attr:`Outcome.TAKEN`): merging two records with their own bookings,
  tasks and reports is not something a code typed in a chat should do. Someone who
  registered there by mistake sends ``/forget`` there first, then the code; anyone
  else asks the centre.
* a wrong code counts against whoever typed it (their person, or the bare address
  when unregistered) in the store, in the same transaction that decided it:
  ``[linking] max_wrong`` wrong codes within ``wrong_window_minutes`` lock linking —
  issuing and typing codes — for ``lock_minutes``. An expired code or the person's
  own code is not a guess and is not counted; neither changes anything.
* the chat the code was shown in is told that a new chat was linked (a pinned
  message, so it goes there and not to the chat just linked).

Collections:
    link_codes   code → person, the address that showed it, when it expires
    link_tries   ``p:<person>`` or ``a:<address>`` → wrong codes, lock
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from assistant.clock import from_iso, to_iso
from assistant.conversation.vocabulary import Address, Outbound, Reply
from assistant.errors import Refusal
from assistant.i18n import Translator, translator
from assistant.jobs import outbox, timers
from assistant.jobs.audit import OUTBOX_JOB
from assistant.jobs.table import JobSpec
from assistant.services.people import persons
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

LINK_CODES = "link_codes"
LINK_TRIES = "link_tries"
CONVERSATIONS = "conversations"
FORGET_CHAT_JOB = "people.forget_chat_data"
NETWORK_NAMES = {"telegram": "Telegram", "matrix": "Matrix"}
"""Names of chat networks, the same in every language (the terminal's is translated)."""
UNLINKED = "unlinked"
"""A person's field: addresses unlinked from them, still forgotten with them at ``/forget``."""


class LinkRefused(Refusal):
    """Linking or unlinking cannot be done; ``key`` names the message."""

    key = "linking.refused"


class Locked(LinkRefused):
    """Too many wrong codes: linking waits (``until``, local time)."""

    key = "linking.locked"


class NotLinked(LinkRefused):
    """The address to unlink is not (or no longer) one of the person's."""

    key = "linking.not_linked"


class LastAddress(LinkRefused):
    """The person would be left without any address."""

    key = "linking.last_address"


class Outcome(StrEnum):
    """What typing a code did."""

    LINKED = "linked"
    WRONG = "wrong"  # no such code: counted
    EXPIRED = "expired"  # a real code, too late
    LOCKED = "locked"  # too many wrong codes, now or just now
    SAME = "same"  # the code of the person already at this address
    TAKEN = "taken"  # this address is another registered person's
    MALFORMED = "malformed"  # not a code at all (letters, wrong length): not counted


@dataclass(frozen=True)
class Issued:
    """A code shown to a person."""

    code: str
    expires_at: datetime


@dataclass(frozen=True)
class Redeemed:
    """The outcome of a typed code: the person linked, the lock, tries left."""

    outcome: Outcome
    person: Doc | None = None
    until: datetime | None = None
    left: int = 0


@dataclass(frozen=True)
class LinkedChat:
    """One address of a person as ``/me`` shows it."""

    address: str
    network: str
    masked: str
    token: str
    current: bool


# -- settings --------------------------------------------------------------------------------


def _setting(app: App, key: str) -> Any:
    return app.settings.get("linking", key)


def _minutes(app: App, key: str) -> timedelta:
    return timedelta(minutes=float(_setting(app, key)))


# -- codes -----------------------------------------------------------------------------------


def clean_code(text: str) -> str:
    """A typed code as digits: full-width digits, spaces and dashes allowed (``１２３ ４５６``)."""
    normal = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in normal if ch not in " -_.·\u3000\t")


def issue_code(tx: Tx, app: App, address: str, now: datetime) -> Issued:
    """A new one-time code for the person at ``address`` (their earlier code stops working).

    Raises:
        LinkRefused: nobody is registered at ``address``.
        Locked: too many wrong codes were typed by this person lately.
    """
    person = persons.person_at(tx, address)
    if person is None:
        raise LinkRefused()
    _refuse_if_locked(tx, app, _tries_id(person, address), now)
    for old in tx.all(LINK_CODES):
        if old.get("person_id") == person["id"] or from_iso(old["expires_at"]) <= now:
            tx.delete(LINK_CODES, old["id"])
    digits = int(_setting(app, "code_digits"))
    code = _fresh_code(tx, digits)
    expires = now + _minutes(app, "code_minutes")
    tx.put(
        LINK_CODES,
        code,
        {
            "person_id": person["id"],
            "address": address,
            "created_at": to_iso(now),
            "expires_at": to_iso(expires),
        },
    )
    log.info("a linking code was issued for person %s", person["id"])
    return Issued(code, expires)


def _fresh_code(tx: Tx, digits: int) -> str:
    """Random digits that no live code uses (live codes are few; a clash is redrawn)."""
    while True:
        code = f"{secrets.randbelow(10**digits):0{digits}d}"
        if tx.get(LINK_CODES, code) is None:
            return code


def redeem(tx: Tx, app: App, address: str, typed: str, now: datetime) -> Redeemed:
    """Type ``typed`` at ``address``: link it to the code's person, or count a wrong code.

    Returns the outcome; the caller's unit of work commits whatever it is (a wrong
    code's count too), so nothing here raises for what a person types.
    """
    code = clean_code(typed)
    digits = int(_setting(app, "code_digits"))
    here = persons.person_at(tx, address)
    tries_id = _tries_id(here, address)
    until = _locked_until(tx, tries_id, now)
    if until is not None:
        return Redeemed(Outcome.LOCKED, until=until)
    if len(code) != digits or not code.isascii() or not code.isdigit():
        return Redeemed(Outcome.MALFORMED)
    found = tx.get(LINK_CODES, code)
    owner = _owner(tx, found)
    if found is None or owner is None:
        if found is not None:
            tx.delete(LINK_CODES, code)  # its person is gone: it never links anyone
        return _wrong(tx, app, tries_id, now)
    if from_iso(found["expires_at"]) <= now:
        tx.delete(LINK_CODES, code)
        return Redeemed(Outcome.EXPIRED)
    if here is not None and here["id"] == owner["id"]:
        return Redeemed(Outcome.SAME, person=owner)
    if here is not None:
        return Redeemed(Outcome.TAKEN, person=here)
    _link(tx, app, owner, found, address, now)
    tx.delete(LINK_CODES, code)
    tx.delete(LINK_TRIES, tries_id)
    return Redeemed(Outcome.LINKED, person=tx.require(persons.PEOPLE, owner["id"]))


def _owner(tx: Tx, code: Doc | None) -> Doc | None:
    """The living person a code belongs to, while the address that showed it is still theirs."""
    if code is None:
        return None
    person = persons.person_at(tx, str(code.get("address", "")))
    if person is None or person["id"] != code.get("person_id"):
        return None
    return person


def _link(tx: Tx, app: App, owner: Doc, code: Doc, address: str, now: datetime) -> None:
    """Add ``address`` to the owner, as the address in use; tell the chat that showed the code."""
    persons.link_address(tx, owner["id"], address, reachable=True)
    persons.note_use(tx, address, to_iso(now))
    owner = tx.require(persons.PEOPLE, owner["id"])
    if address in owner.get(UNLINKED, []):
        owner[UNLINKED] = [a for a in owner[UNLINKED] if a != address]
        tx.put(persons.PEOPLE, owner["id"], owner)
    tr = translator(owner.get("language") or app.settings.get("community", "language"))
    note = Reply(tr.t("linking.linked_notice", chat=mask(tr, address)))
    shown_in = Address(str(code["address"]))
    outbox.post(tx, Outbound(shown_in, note, tr.language, meta={persons.PIN: "1"}), now)
    log.info("person %s linked one more chat address", owner["id"])


# -- wrong codes and the lock ----------------------------------------------------------------


def _tries_id(person: Doc | None, address: str) -> str:
    """Whose wrong codes these are: the person's, or the bare address's when unregistered."""
    return f"p:{person['id']}" if person is not None else f"a:{address}"


def _locked_until(tx: Tx, tries_id: str, now: datetime) -> datetime | None:
    tries = tx.get(LINK_TRIES, tries_id)
    if tries is None or not tries.get("locked_until"):
        return None
    until = from_iso(tries["locked_until"])
    return until if until > now else None


def _refuse_if_locked(tx: Tx, app: App, tries_id: str, now: datetime) -> None:
    until = _locked_until(tx, tries_id, now)
    if until is not None:
        raise Locked(until=local_time(app, until))


def _wrong(tx: Tx, app: App, tries_id: str, now: datetime) -> Redeemed:
    """Count one wrong code; the last one allowed locks linking."""
    window_start = now - _minutes(app, "wrong_window_minutes")
    tries = tx.get(LINK_TRIES, tries_id) or {}
    wrong = [t for t in tries.get("wrong", []) if from_iso(t) > window_start]
    wrong.append(to_iso(now))
    limit = int(_setting(app, "max_wrong"))
    doc: Doc = {"wrong": wrong, "locked_until": ""}
    if len(wrong) >= limit:
        until = now + _minutes(app, "lock_minutes")
        doc = {"wrong": [], "locked_until": to_iso(until)}
        tx.put(LINK_TRIES, tries_id, doc)
        log.info("linking locked after %d wrong codes", limit)
        return Redeemed(Outcome.LOCKED, until=until)
    tx.put(LINK_TRIES, tries_id, doc)
    return Redeemed(Outcome.WRONG, left=limit - len(wrong))


def local_time(app: App, moment: datetime) -> str:
    """``HH:MM`` in the community's time zone."""
    return moment.astimezone(app.settings.timezone).strftime("%H:%M")


# -- what /me shows, and unlinking -----------------------------------------------------------


def token_of(address: str) -> str:
    """A short stable token naming one address in a button, without the address itself."""
    return hashlib.sha256(address.encode()).hexdigest()[:10]


def mask(tr: Translator, address: str) -> str:
    """An address as shown back: the network and a masked handle (``Telegram …6789``)."""
    network, _, ident = address.partition(":")
    name = NETWORK_NAMES.get(network) or tr.t("linking.network_console")
    return f"{name} {masked_handle(network, ident)}"


def masked_handle(network: str, ident: str) -> str:
    """Enough of a handle to recognise it, not to copy it."""
    if network == "matrix" and ident.startswith("@") and ":" in ident:
        local, _, server = ident[1:].partition(":")
        return f"@{local[:2]}…:{server}"
    if network == "telegram":
        return f"…{ident[-4:]}" if len(ident) > 4 else ident
    return f"{ident[:2]}…" if len(ident) > 2 else ident


def linked_chats(tx: Tx, tr: Translator, person: Doc) -> list[LinkedChat]:
    """The person's addresses, the one messages go to now marked ``current``."""
    current = persons.preferred_address(tx, person)
    return [
        LinkedChat(
            address=address,
            network=address.partition(":")[0],
            masked=mask(tr, address),
            token=token_of(address),
            current=address == current,
        )
        for address in person.get("addresses", [])
    ]


def unlink(tx: Tx, app: App, address: str, token: str, now: datetime) -> str:
    """The person at ``address`` takes the address named by ``token`` away; return it.

    The address becomes unregistered: its link, its conversation and what its
    network keeps in Redis go (the last through a job after the commit); the
    person keeps every other address and all their records. Messages still
    waiting for the removed address go to the address the person keeps.

    Raises:
        NotLinked: nobody is registered at ``address``, or ``token`` names none of
            their addresses (a stale button).
        LastAddress: it is their only address.
    """
    person = persons.person_at(tx, address)
    if person is None:
        raise NotLinked()
    chosen = [a for a in person.get("addresses", []) if token_of(a) == token]
    if not chosen:
        raise NotLinked()
    removed = chosen[0]
    kept = [a for a in person["addresses"] if a != removed]
    if not kept:
        raise LastAddress()
    person["addresses"] = kept
    person[UNLINKED] = sorted({*person.get(UNLINKED, []), removed})
    tx.put(persons.PEOPLE, person["id"], person)
    tx.purge(persons.ADDRESSES, removed)
    tx.purge(CONVERSATIONS, removed)
    _readdress_waiting(tx, removed, persons.preferred_address(tx, person) or kept[0])
    timers.schedule(tx, FORGET_CHAT_JOB, [removed], now, now)
    log.info("person %s unlinked one chat address", person["id"])
    return str(removed)


def _readdress_waiting(tx: Tx, removed: str, kept: str) -> None:
    """Unsent messages to ``removed`` that are not bound to it go to ``kept`` instead."""
    for timer in tx.find(timers.TIMERS, job=OUTBOX_JOB):
        if timer["status"] not in (timers.PENDING, timers.ENQUEUED):
            continue
        payload = (timer.get("args") or [{}])[0]
        if not isinstance(payload, dict) or payload.get("to") != removed:
            continue
        if payload.get("key") or payload.get("edit"):
            continue
        timer["args"] = [{**payload, "to": kept}, *timer["args"][1:]]
        tx.put(timers.TIMERS, timer["id"], timer)


def former_addresses(tx: Tx, person: Doc) -> set[str]:
    """Addresses unlinked from the person that nobody else registered since (``/forget``)."""
    found = set()
    for address in person.get(UNLINKED, []):
        link = tx.get(persons.ADDRESSES, address)
        if link is None or link.get("person_id") == person["id"]:
            found.add(address)
    return found


# -- /forget ---------------------------------------------------------------------------------


def forget(tx: Tx, app: App, person_id: str, addresses: frozenset[str], now: datetime) -> None:
    """The linking part of ``/forget``: codes, wrong-code counts, every network's chat data."""
    for code in tx.all(LINK_CODES):
        if code.get("person_id") == person_id or code.get("address") in addresses:
            tx.purge(LINK_CODES, code["id"])
    for tries_id in (f"p:{person_id}", *(f"a:{a}" for a in addresses)):
        if tx.get(LINK_TRIES, tries_id) is not None:
            tx.purge(LINK_TRIES, tries_id)
    person = tx.get(persons.PEOPLE, person_id) or {}
    every = sorted(set(addresses) | former_addresses(tx, person))
    if every:
        timers.schedule(tx, FORGET_CHAT_JOB, every, now, now)


def forget_chat_data_job(app: App, *addresses: str) -> None:
    """Let each address's network drop what it keeps in Redis about it (after the commit)."""
    from assistant.delivery import ForgetsAddresses

    delivery = app.delivery
    if not isinstance(delivery, ForgetsAddresses):
        return
    for address in addresses:
        delivery.forget_address(address)


def _no_addresses(args: list[Any]) -> list[Any]:
    """A finished job keeps how many addresses it dropped, not which."""
    return [len(args)]


JOBS: dict[str, JobSpec] = {
    # Tried for about a day (hourly at the end, should Redis be down), then given up without
    # keeping the addresses: a dead timer would hold a forgotten person's chats for a retry.
    FORGET_CHAT_JOB: JobSpec(
        forget_chat_data_job,
        max_retries=30,
        max_backoff_ms=3_600_000,
        audit=_no_addresses,
        private_args=True,
    ),
}
"""The linking part's job, registered by the composition root."""
