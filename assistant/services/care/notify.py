"""What residents, family helpers and coordinators are told about a care booking.

Messages are built per reader, in the reader's language, and put in the
outbox inside the caller's unit of work, which hands them to the workers after
the commit. Addresses and health notes are personal data: they go
into messages to the people concerned only, and are never logged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.clock import from_iso
from assistant.conversation.buttons import CareDecision
from assistant.conversation.vocabulary import Address, Choice, Outbound, Reply
from assistant.domain import slots
from assistant.i18n import Translator, translator
from assistant.jobs import outbox
from assistant.services import people
from assistant.services.care.records import CHAT
from assistant.services.people import community
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

ChoicesFor = Callable[[Translator], tuple[tuple[Choice, ...], ...]]
"""Buttons of a message, built in the reader's language."""


# -- wording -----------------------------------------------------------------------------


def describe_address(household: dict[str, Any] | None, chinese: bool) -> str:
    """A booking's address as people write it (personal data: never log it)."""
    if not household:
        return ""
    if "text" in household:
        return str(household["text"])
    return community.describe_household(household, chinese)


def coarse_place(household: dict[str, Any] | None) -> str:
    """Only the residential complex, or nothing for a typed address."""
    if not household or "complex" not in household:
        return ""
    return community.coarse_place(household)


def price_text(tr: Translator, price: float) -> str:
    """``免费`` or ``¥20``."""
    if price <= 0:
        return tr.t("care.free")
    return f"¥{int(price)}" if float(price).is_integer() else f"¥{price:.2f}"


def when_text(app: App, booking: Doc, tr: Translator, now: datetime, dated: bool = False) -> str:
    """When the visit is, as the reader says it.

    Residents read ``明天 09:00`` at once; ``dated`` gives ``6月2日 周二 09:00``
    for coordinators, who read lists and alerts later. An "as soon as possible"
    booking then says when it was asked for.
    """
    zone = app.settings.timezone
    if booking.get("asap"):
        if not dated:
            return tr.t("care.asap")
        made = from_iso(booking.get("created_at") or booking["start"])
        return tr.t("care.asap_made", made=slots.dated(made, zone, tr.is_chinese))
    start = from_iso(booking["start"])
    if dated:
        return slots.dated(start, zone, tr.is_chinese)
    return slots.label(start, now, zone, tr.is_chinese)


def staff_reader(booking: Doc, reader: Doc) -> bool:
    """Whether the reader is the coordinator who entered a phone booking (reads it later)."""
    return booking.get("via") != CHAT and reader["id"] == booking["booked_by"] != booking.get(
        "person_id"
    )


def service_name(app: App, code: str, tr: Translator) -> str:
    """A service's name in the reader's language."""
    return app.services[code].name(tr.language)


def whose(tx: Tx, booking: Doc, reader: Doc, tr: Translator) -> str:
    """``您的`` / ``Your`` for the resident, ``林奶奶的`` / ``林奶奶's`` for others."""
    if reader["id"] == booking["person_id"]:
        return tr.t("care.whose_own")
    person = tx.get(people.PEOPLE, booking["person_id"]) or {}
    return tr.t("care.whose_other", name=person.get("name", ""))


# -- residents and family helpers ----------------------------------------------------------


def recipients(tx: Tx, booking: Doc) -> list[Doc]:
    """Who hears about a booking: the resident, and the family helper or staff who booked it.

    The booker is told when they booked in chat for someone else, or when the
    resident cannot be reached in chat (a phone booking for someone without one).
    """
    out: list[Doc] = []
    person = tx.get(people.PEOPLE, booking["person_id"])
    reachable = bool(person and people.reachable_addresses(tx, person))
    if person is not None and reachable and not person.get("forgotten"):
        out.append(person)
    if booking["booked_by"] != booking["person_id"]:
        booker = tx.get(people.PEOPLE, booking["booked_by"])
        if booker is not None and (booking.get("via") == CHAT or not reachable):
            out.append(booker)
    return out


def tell(
    tx: Tx,
    app: App,
    booking: Doc,
    key: str,
    now: datetime,
    skip: str = "",
    choices: ChoicesFor | None = None,
    **values: object,
) -> int:
    """Put message ``key`` about a booking in the outbox for each of its recipients; how many."""
    told = 0
    for reader in recipients(tx, booking):
        if reader["id"] == skip:
            continue

        def build(tr: Translator, reader: Doc = reader) -> Reply:
            text = tr.t(
                key,
                whose=whose(tx, booking, reader, tr),
                service=service_name(app, booking["service"], tr),
                when=when_text(app, booking, tr, now, dated=staff_reader(booking, reader)),
                **values,
            )
            return Reply(text, choices=choices(tr) if choices else ())

        post_to(tx, reader, build, now)
        told += 1
    return told


# -- coordinators --------------------------------------------------------------------------


def ask_approval(tx: Tx, app: App, booking: Doc, now: datetime) -> None:
    """Ask the coordinators of the booking's grid to approve or decline it."""
    person = tx.get(people.PEOPLE, booking["person_id"]) or {}

    def build(tr: Translator) -> Reply:
        return Reply(
            tr.t(
                "care.coordinator_approve",
                name=person.get("name", ""),
                service=app.services[booking["service"]].name(tr.language),
                when=when_text(app, booking, tr, now, dated=True),
                place=describe_address(booking.get("household"), tr.is_chinese),
            ),
            choices=(
                (
                    Choice(tr.t("care.approve"), CareDecision(True, booking["id"]).encode()),
                    Choice(tr.t("care.decline"), CareDecision(False, booking["id"]).encode()),
                ),
            ),
        )

    for coordinator in people.coordinators_for(tx, booking.get("grid_id")):
        post_to(tx, coordinator, build, now)


# -- the outbox ----------------------------------------------------------------------------


def post_to(
    tx: Tx,
    person: Doc,
    build: Callable[[Translator], Reply],
    now: datetime,
    due: datetime | None = None,
) -> None:
    """Queue a message, written in the person's language, to each of their reachable addresses."""
    tr = translator(person.get("language", "zh_CN"))
    reply = build(tr)
    for address in people.reachable_addresses(tx, person):
        outbox.post(
            tx, Outbound(to=Address(address), reply=reply, language=tr.language), now, due=due
        )
