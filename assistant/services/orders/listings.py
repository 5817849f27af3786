"""Listings: made in chat (``/newlisting``) or imported, paused, restocked, ended early.

A listing is written with the timers that follow from it, in one unit of
work: ``orders.go_live`` at the start of its sale window (the announcement and
the neighbours' group lists) and ``orders.sale_end`` at its end. Staff of the
listing's vendor and coordinators may change it; the right is checked inside
the same transaction as the change.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from assistant.clock import to_iso
from assistant.jobs import timers
from assistant.services.orders import announce, stock
from assistant.services.orders.records import (
    LISTINGS,
    MAX_QUANTITY,
    WAITLIST,
    Delivery,
    Listing,
    NotChangeable,
    Vendor,
)
from assistant.services.orders.vendors import require_staff
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

GO_LIVE_JOB = "orders.go_live"
SALE_END_JOB = "orders.sale_end"
UNITS = ("斤", "箱", "袋", "个", "份", "盒", "瓶", "只")
MAX_TITLE = 40


@dataclass(frozen=True)
class ListingDraft:
    """A listing as a form or a file row gave it, before it is checked and stored."""

    vendor_id: str
    title_zh: str
    title_en: str
    unit: str
    price: Decimal
    sale_price: Decimal
    stock: int
    limit: int
    starts_at: datetime
    ends_at: datetime
    delivery: tuple[Delivery, ...]
    pickup_points: tuple[str, ...] = ()
    photo: str = ""


def problems(draft: ListingDraft, vendor: Vendor | None) -> list[tuple[str, str]]:
    """Every problem of a draft as (field, what is wrong); empty when it may be stored."""
    found: list[tuple[str, str]] = []
    if vendor is None:
        return [("vendor_id", f"no vendor {draft.vendor_id!r} (assistant vendor add)")]
    if not draft.title_zh.strip() or len(draft.title_zh) > MAX_TITLE:
        found.append(("title_zh", f"a title of 1 to {MAX_TITLE} characters"))
    if len(draft.title_en) > MAX_TITLE * 2:
        found.append(("title_en", "too long"))
    if not draft.unit.strip() or len(draft.unit) > 6:
        found.append(("unit", "a short unit such as 斤, 箱, 袋"))
    if draft.price <= 0:
        found.append(("price", "more than 0"))
    if draft.sale_price <= 0 or draft.sale_price > draft.price:
        found.append(("sale_price", "more than 0 and not above the price"))
    if not 1 <= draft.stock <= 100_000:
        found.append(("stock", "a whole number from 1 to 100000"))
    if not 1 <= draft.limit <= MAX_QUANTITY:
        found.append(("limit", f"a whole number from 1 to {MAX_QUANTITY}"))
    if draft.ends_at <= draft.starts_at:
        found.append(("ends_at", "after starts_at"))
    if not draft.delivery:
        found.append(("delivery", "at least one of pickup, vendor, community"))
    if Delivery.VENDOR in draft.delivery and not vendor.delivers:
        found.append(("delivery", "this vendor does not deliver itself"))
    known = {p.id for p in vendor.pickup_points}
    if Delivery.PICKUP in draft.delivery:
        if not draft.pickup_points:
            found.append(("pickup_points", "name at least one of the vendor's pickup points"))
        for point in draft.pickup_points:
            if point not in known:
                found.append(("pickup_points", f"the vendor has no pickup point {point!r}"))
    return found


def stable_id(draft: ListingDraft) -> str:
    """The same vendor, title and start give the same id (importing a file twice adds nothing)."""
    basis = f"{draft.vendor_id}|{draft.title_zh.strip()}|{to_iso(draft.starts_at)}"
    return "ls-" + hashlib.sha1(basis.encode("utf-8")).hexdigest()[:12]


def create(tx: Tx, draft: ListingDraft, by: str, now: datetime, quietly: bool = False) -> Doc:
    """Store a checked listing and schedule its going live and its end; return it.

    An existing listing with the same stable id is left as it is (returned).
    ``quietly`` (the demo data) schedules nothing and announces nothing: the
    neighbours' group lists are begun, and each shows with the grid's first order.
    """
    listing_id = stable_id(draft)
    existing = tx.get(LISTINGS, listing_id)
    if existing is not None:
        return existing
    doc: Doc = {
        "vendor_id": draft.vendor_id,
        "title_zh": draft.title_zh.strip(),
        "title_en": draft.title_en.strip(),
        "unit": draft.unit.strip(),
        "price": str(draft.price),
        "sale_price": str(draft.sale_price),
        "stock": draft.stock,
        "available": draft.stock,
        "limit": draft.limit,
        "starts_at": to_iso(draft.starts_at),
        "ends_at": to_iso(draft.ends_at),
        "delivery": [d.value for d in draft.delivery],
        "pickup_points": list(draft.pickup_points) if Delivery.PICKUP in draft.delivery else [],
        "paused": False,
        "ended_at": None,
        "photo": draft.photo,
        "created_by": by,
        "created_at": to_iso(now),
    }
    if quietly:
        doc["announced_at"] = to_iso(now)
        tx.put(LISTINGS, listing_id, doc)
        doc["id"] = listing_id
        announce.begin_lists(tx, listing_id)
        return doc
    tx.put(LISTINGS, listing_id, doc)
    doc["id"] = listing_id
    timers.schedule(
        tx, GO_LIVE_JOB, [listing_id], max(now, draft.starts_at), now, key=f"golive:{listing_id}"
    )
    timers.schedule(tx, SALE_END_JOB, [listing_id], draft.ends_at, now, key=f"end:{listing_id}")
    log.info("listing %s made for vendor %s", listing_id, draft.vendor_id)
    return doc


def on_sale(tx: Tx, now: datetime) -> list[Listing]:
    """Listings taking holds now, soonest ending first."""
    found = [Listing.from_doc(doc) for doc in tx.all(LISTINGS)]
    return sorted((x for x in found if x.on_sale(now)), key=lambda x: (x.closes_at(), x.id))


def of_vendor(tx: Tx, vendor_id: str, now: datetime) -> list[Listing]:
    """A vendor's listings not yet closed, soonest ending first."""
    found = [Listing.from_doc(doc) for doc in tx.find(LISTINGS, vendor_id=vendor_id)]
    return sorted((x for x in found if now < x.closes_at()), key=lambda x: (x.closes_at(), x.id))


def _staff_listing(tx: Tx, app: App, listing_id: str, person: Doc | None) -> Doc:
    """The listing, if the person may manage its vendor (checked in the deciding transaction)."""
    doc = stock.require_listing(tx, listing_id)
    require_staff(tx, app, person, doc["vendor_id"])
    return doc


def set_paused(
    tx: Tx, app: App, listing_id: str, person: Doc | None, paused: bool, now: datetime
) -> Doc:
    """Pause a listing (no new holds; live holds may still be confirmed) or take it up again."""
    doc = _staff_listing(tx, app, listing_id, person)
    if now >= Listing.from_doc(doc).closes_at():
        raise NotChangeable()
    doc["paused"] = paused
    tx.put(LISTINGS, listing_id, doc)
    if not paused:
        stock.offer_waiting(tx, app, listing_id, now)
    log.info("listing %s %s", listing_id, "paused" if paused else "resumed")
    return tx.require(LISTINGS, listing_id)


def add_stock(
    tx: Tx, app: App, listing_id: str, person: Doc | None, quantity: object, now: datetime
) -> Doc:
    """Add units to a listing; the waiting list is offered them first, in order."""
    doc = _staff_listing(tx, app, listing_id, person)
    if now >= Listing.from_doc(doc).closes_at():
        raise NotChangeable()
    changed = stock.add_units(tx, app, listing_id, stock.check_quantity(quantity), now)
    log.info("listing %s: stock added", listing_id)
    return changed


def end_early(tx: Tx, app: App, listing_id: str, person: Doc | None, now: datetime) -> Doc:
    """Stop the sale now: no new holds; what is held may still be confirmed until it lapses."""
    doc = _staff_listing(tx, app, listing_id, person)
    if now >= Listing.from_doc(doc).closes_at():
        raise NotChangeable()
    doc["ended_at"] = to_iso(now)
    tx.put(LISTINGS, listing_id, doc)
    timers.cancel(tx, f"end:{listing_id}")
    timers.schedule(tx, SALE_END_JOB, [listing_id], now, now, key=f"end:{listing_id}")
    log.info("listing %s ended early", listing_id)
    return doc


def sale_end_job(tx: Tx, app: App, listing_id: str) -> None:
    """``orders.sale_end``: the waiting list is closed and the group lists say "ended"."""
    doc = tx.get(LISTINGS, listing_id)
    if doc is None or doc.get("closed"):
        return
    now = app.clock.now()
    if now < Listing.from_doc(doc).closes_at():
        return  # an old end timer of a sale that was made longer
    doc["closed"] = True
    tx.put(LISTINGS, listing_id, doc)
    for entry in tx.find(WAITLIST, listing_id=listing_id):
        if entry["status"] == "waiting":
            entry["status"] = "closed"
            tx.put(WAITLIST, entry["id"], entry)
            tx.archive(WAITLIST, entry["id"])
    announce.refresh_lists(tx, app, listing_id, now)
