"""Messages of the orders side: built per reader, in their language, put in the outbox.

Every message is posted inside the caller's unit of work (``outbox.post``), so
it exists exactly when the change that causes it was committed; the unit of
work hands it to the workers after the commit. Names, addresses and phones go
only to the people concerned, and never into logs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from assistant.conversation.vocabulary import Address, Outbound, Reply
from assistant.domain import slots
from assistant.i18n import Translator, translator
from assistant.jobs import outbox
from assistant.services import people
from assistant.services.orders.records import (
    LISTINGS,
    VENDORS,
    Listing,
    Vendor,
    money_text,
    unit_words,
)
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

Build = Callable[[Translator], Reply]


def post_to(
    tx: Tx, person: Doc, build: Build, now: datetime, due: datetime | None = None, key: str = ""
) -> int:
    """Queue a message, in the person's language, to each of their reachable addresses."""
    if person.get("forgotten"):
        return 0
    tr = translator(person.get("language", "zh_CN"))
    reply = build(tr)
    sent = 0
    for address in people.reachable_addresses(tx, person):
        message = Outbound(to=Address(address), reply=reply, language=tr.language)
        outbox.post(tx, message, now, due=due, key=key)
        sent += 1
    return sent


def tell(tx: Tx, person_ids: Iterable[str], build: Build, now: datetime) -> int:
    """Tell each of these people (once each, however often named); how many addresses."""
    sent = 0
    for person_id in dict.fromkeys(p for p in person_ids if p):
        person = tx.get(people.PEOPLE, person_id)
        if person is not None:
            sent += post_to(tx, person, build, now)
    return sent


def post_to_chat(tx: Tx, chat: str, reply: Reply, language: str, now: datetime) -> None:
    """Queue a message to a group chat (a neighbours' group): never any personal data."""
    outbox.post(tx, Outbound(to=Address(chat), reply=reply, language=language), now)


def order_people(order: Doc) -> list[str]:
    """Who hears about an order: the resident it is for, and the family helper who placed it."""
    return [order["person_id"], order["by"]]


def listing_of(tx: Tx, listing_id: str) -> Listing | None:
    """A listing, typed, or ``None``."""
    doc = tx.get(LISTINGS, listing_id)
    return Listing.from_doc(doc) if doc else None


def vendor_of(tx: Tx, vendor_id: str) -> Vendor | None:
    """A vendor, typed, or ``None``."""
    doc = tx.get(VENDORS, vendor_id)
    return Vendor.from_doc(doc) if doc else None


def fulfilment_text(tx: Tx, order: Doc, tr: Translator) -> str:
    """How the order reaches the resident: ``自提：锦绣家园便民服务站`` / ``社区兜底配送``."""
    way = str(order.get("fulfilment", ""))
    if way.startswith("pickup:"):
        vendor = vendor_of(tx, order["vendor_id"])
        point = vendor.point(way.partition(":")[2]) if vendor else None
        if point is None:
            return tr.t("orders.way_pickup_centre")
        return tr.t("orders.way_pickup_at", point=point.name(tr.is_chinese))
    return tr.t(f"orders.way_{way}") if way in ("vendor", "community") else way


def price_line(listing: Listing, tr: Translator) -> str:
    """``原价¥30 现价¥19.90 / 箱``."""
    if listing.sale_price < listing.price:
        return tr.t(
            "orders.price_sale",
            price=money_text(listing.price),
            sale=money_text(listing.sale_price),
            unit=listing.unit_in(tr.is_chinese),
        )
    return tr.t(
        "orders.price_plain", price=money_text(listing.price), unit=listing.unit_in(tr.is_chinese)
    )


def order_title(tx: Tx, order: Doc, tr: Translator) -> str:
    """``赣南脐橙 ×2箱``."""
    listing = listing_of(tx, order["listing_id"])
    title = listing.title(tr.is_chinese) if listing else str(order.get("title_zh", ""))
    count = int(order["quantity"])
    unit = (
        listing.unit_in(tr.is_chinese, count)
        if listing
        else unit_words(str(order["unit"]), tr.is_chinese, count)
    )
    return tr.t("orders.item_qty", title=title, quantity=order["quantity"], unit=unit)


def when_text(app: App, moment: datetime, tr: Translator) -> str:
    """``6月2日 周二 19:00`` / ``Tue 2 Jun 19:00``."""
    return slots.dated(moment, app.settings.timezone, tr.is_chinese)


def tell_order(
    tx: Tx, app: App, order: Doc, key: str, now: datetime, skip: str = "", **values: object
) -> int:
    """Tell the order's people message ``key`` (``{item}`` and ``{way}`` filled in)."""
    readers = [p for p in order_people(order) if p != skip]

    def build(tr: Translator) -> Reply:
        return Reply(
            tr.t(key, item=order_title(tx, order, tr), way=fulfilment_text(tx, order, tr), **values)
        )

    return tell(tx, readers, build, now)
