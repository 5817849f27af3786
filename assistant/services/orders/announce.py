"""Going live, "now on stream", and the neighbours' group order lists (接龙).

When a sale window opens, ``orders.go_live`` (a durable timer made with the
listing) tells every subscriber once and starts a live list in every linked
neighbours' group. Each message goes through the outbox, whose channels keep
every network's flood limits across processes.

**The group list** shows one line per order — building-unit and quantity
only (``3栋2单元 ×2``), never a name or a phone — with an "I want some"
button. An order made or cancelled schedules ``orders.list_edit`` for that
list a few seconds ahead (``[orders] list_edit_seconds``) under a key, so
every change within those seconds is one edit: ``timers.schedule`` keeps a
live timer with the same key. The job renders the list fresh and posts keyed
edits (``Reply.key`` + ``edit=True``); parts that did not change are not sent
again, and a list past ``[orders] list_max_chars`` continues in a new message.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from assistant.clock import to_iso
from assistant.conversation.buttons import ShopButton, ShopVerb
from assistant.conversation.vocabulary import Choice, Reply, rows
from assistant.i18n import Translator, translator
from assistant.jobs import timers
from assistant.services import people
from assistant.services.orders import stock
from assistant.services.orders.notify import post_to, post_to_chat, price_line, when_text
from assistant.services.orders.records import (
    FINISHED_ORDERS,
    LISTINGS,
    LIVE_ORDERS,
    ORDERS,
    SALE_LISTS,
    SUBSCRIBERS,
    Listing,
    NotChangeable,
    building_unit,
)
from assistant.services.orders.vendors import require_staff
from assistant.services.people import community
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

LIST_EDIT_JOB = "orders.list_edit"
QUICK_QUANTITIES = 3
ON_STREAM_GAP = timedelta(minutes=2)


# -- the item card ---------------------------------------------------------------------------


def card_text(app: App, listing: Listing, tr: Translator, left: int) -> str:
    """Title, price and sale price, the ``left`` units to hold, limit, and until when."""
    return tr.t(
        "orders.card",
        title=listing.title(tr.is_chinese),
        price=price_line(listing, tr),
        left=left,
        unit=listing.unit_in(tr.is_chinese, left),
        limit=listing.limit,
        until=when_text(app, listing.closes_at(), tr),
    )


def quantity_buttons(listing: Listing, tr: Translator, left: int) -> tuple[tuple[Choice, ...], ...]:
    """``1箱 2箱 3箱`` (within the limit and the ``left`` to hold) and "another quantity"."""
    most = max(1, min(listing.limit, QUICK_QUANTITIES, max(left, 1)))
    quick = [
        Choice(
            tr.t("orders.qty_button", quantity=n, unit=listing.unit_in(tr.is_chinese, n)),
            ShopButton(ShopVerb.HOLD, listing.id, n).encode(),
        )
        for n in range(1, most + 1)
    ]
    other = Choice(tr.t("orders.other_quantity"), ShopButton(ShopVerb.ITEM, listing.id).encode())
    return rows(*quick, width=3) + ((other,),)


def card(app: App, listing: Listing, tr: Translator, lead_key: str = "") -> Reply:
    """The item card with its quantity buttons, after an optional first line; the listing's
    photo (if it has one) is the card's picture, the text its caption."""
    left = stock.left_now(app, listing)  # one read: the text and the buttons agree
    text = card_text(app, listing, tr, left)
    if lead_key:
        text = tr.t(lead_key) + "\n" + text
    buttons = quantity_buttons(listing, tr, left)
    return Reply(text, choices=buttons, image=listing.photo)


# -- subscribers -----------------------------------------------------------------------------


def subscribed(tx: Tx, person_id: str) -> bool:
    """Whether the person wants the going-live announcements."""
    return tx.get(SUBSCRIBERS, person_id) is not None


def set_subscribed(tx: Tx, person_id: str, wanted: bool, now: datetime) -> bool:
    """Opt in or out; return the new state."""
    if wanted:
        tx.put(SUBSCRIBERS, person_id, {"since": to_iso(now)})
    else:
        tx.delete(SUBSCRIBERS, person_id)
    return wanted


def _to_subscribers(tx: Tx, app: App, listing: Listing, lead_key: str, now: datetime) -> int:
    told = 0
    for subscriber in tx.all(SUBSCRIBERS):
        person = tx.get(people.PEOPLE, subscriber["id"])
        if person is None or person.get("forgotten"):
            continue

        def build(tr: Translator) -> Reply:
            return card(app, listing, tr, lead_key)

        told += post_to(tx, person, build, now)
    return told


def go_live_job(tx: Tx, app: App, listing_id: str) -> None:
    """``orders.go_live``: one announcement per sale to subscribers, and the group lists begin."""
    doc = tx.get(LISTINGS, listing_id)
    if doc is None or doc.get("announced_at"):
        return
    now = app.clock.now()
    listing = Listing.from_doc(doc)
    if now >= listing.closes_at():
        return
    doc["announced_at"] = to_iso(now)
    tx.put(LISTINGS, listing_id, doc)
    told = _to_subscribers(tx, app, listing, "orders.live_now", now)
    grids = begin_lists(tx, listing_id)
    for grid_id in grids:
        refresh_list(tx, app, listing_id, grid_id, now)
    groups = len(grids)
    log.info("listing %s live: %d subscriber messages, %d group lists", listing_id, told, groups)


def begin_lists(tx: Tx, listing_id: str) -> list[str]:
    """A group list for the listing in every linked neighbours' group (none sent yet); the grids."""
    grids = []
    for grid in tx.all(community.GRIDS):
        if grid.get("group_chat"):
            sale = {"listing_id": listing_id, "grid_id": grid["id"], "chat": grid["group_chat"]}
            tx.put(SALE_LISTS, f"{listing_id}|{grid['id']}", {**sale, "parts": []})
            grids.append(str(grid["id"]))
    return grids


def on_stream(tx: Tx, app: App, listing_id: str, person: Doc | None, now: datetime) -> int:
    """The livestream host pushes "now on stream" to subscribers; how many messages.

    Raises:
        NotStaff: the person does not work for the listing's vendor.
        NotChangeable: the listing is not on sale, or was pushed a moment ago.
    """
    from assistant.clock import from_iso

    doc = tx.get(LISTINGS, listing_id)
    if doc is None:
        raise NotChangeable()
    require_staff(tx, app, person, doc["vendor_id"])
    listing = Listing.from_doc(doc)
    last = doc.get("on_stream_at")
    if not listing.on_sale(now) or (last and now - from_iso(last) < ON_STREAM_GAP):
        raise NotChangeable()
    doc["on_stream_at"] = to_iso(now)
    tx.put(LISTINGS, listing_id, doc)
    return _to_subscribers(tx, app, listing, "orders.on_stream_now", now)


# -- the group list (接龙) --------------------------------------------------------------------


def order_changed(tx: Tx, app: App, order: Doc, now: datetime) -> None:
    """An order of a grid was made or cancelled: one coalesced edit of its list, soon."""
    grid_id = order.get("grid_id")
    if not grid_id or tx.get(SALE_LISTS, f"{order['listing_id']}|{grid_id}") is None:
        return
    wait = timedelta(seconds=float(app.settings.get("orders", "list_edit_seconds")))
    coalesced = f"jl:{order['listing_id']}:{grid_id}"
    args = [order["listing_id"], grid_id]
    timers.schedule(tx, LIST_EDIT_JOB, args, now + wait, now, key=coalesced)


def list_edit_job(tx: Tx, app: App, listing_id: str, grid_id: str) -> None:
    """``orders.list_edit``: render the list fresh and edit what changed."""
    refresh_list(tx, app, listing_id, grid_id, app.clock.now())


def refresh_lists(tx: Tx, app: App, listing_id: str, now: datetime) -> None:
    """Render every group list of a listing again (the sale ended, stock changed)."""
    for sale in tx.find(SALE_LISTS, listing_id=listing_id):
        refresh_list(tx, app, listing_id, sale["grid_id"], now)


def list_lines(tx: Tx, listing_id: str, grid_id: str) -> list[str]:
    """``1. 3栋2单元 ×2`` for each order of the grid, oldest first: no name, no phone."""
    counted = (*LIVE_ORDERS, *FINISHED_ORDERS)
    found = [
        o for o in tx.find(ORDERS, listing_id=listing_id, grid_id=grid_id) if o["status"] in counted
    ]
    found.sort(key=lambda o: (o["created_at"], o["id"]))
    return [
        f"{n}. {building_unit(o.get('household'))} ×{o['quantity']}"
        for n, o in enumerate(found, start=1)
    ]


def split_parts(head: str, lines: list[str], foot: str, limit: int, more: str) -> list[str]:
    """The list as messages of at most ``limit`` characters: head first, foot last."""
    parts: list[list[str]] = [[head]]
    size = len(head)
    for line in lines:
        if size + 1 + len(line) + 1 + len(foot) > limit:
            parts.append([more])
            size = len(more)
        parts[-1].append(line)
        size += 1 + len(line)
    parts[-1].append(foot)
    return ["\n".join(part) for part in parts]


def refresh_list(tx: Tx, app: App, listing_id: str, grid_id: str, now: datetime) -> None:
    """Post the list's parts that changed: keyed edits of those sent, new messages after."""
    sale_id = f"{listing_id}|{grid_id}"
    sale = tx.get(SALE_LISTS, sale_id)
    doc = tx.get(LISTINGS, listing_id)
    if sale is None or doc is None:
        return
    listing = Listing.from_doc(doc)
    tr = translator(str(app.settings.get("community", "language")))
    head = tr.t(
        "orders.list_head",
        title=listing.title(tr.is_chinese),
        price=price_line(listing, tr),
        until=when_text(app, listing.closes_at(), tr),
    )
    open_now = listing.on_sale(now)
    if open_now:
        left = stock.left_now(app, listing)
        foot = tr.t("orders.list_foot", left=left, unit=listing.unit_in(tr.is_chinese, left))
    else:
        foot = tr.t("orders.list_closed")
    lines = list_lines(tx, listing_id, grid_id) or [tr.t("orders.list_empty")]
    limit = int(app.settings.get("orders", "list_max_chars"))
    texts = split_parts(head, lines, foot, limit, tr.t("orders.list_more"))
    want = Choice(tr.t("orders.want_some"), ShopButton(ShopVerb.ITEM, listing_id).encode())
    sent: list[str] = list(sale.get("parts", []))
    for number, text in enumerate(texts):
        last = number == len(texts) - 1
        choices = ((want,),) if last and open_now else ()
        digest = hashlib.sha1(f"{text}|{bool(choices)}".encode()).hexdigest()[:16]
        if number < len(sent) and sent[number] == digest:
            continue
        part = f"jl:{listing_id}:{grid_id}:{number}"
        reply = Reply(text, choices=choices, key=part, edit=number < len(sent))
        post_to_chat(tx, sale["chat"], reply, tr.language, now)
        if number < len(sent):
            sent[number] = digest
        else:
            sent.append(digest)
    sale["parts"] = sent
    sale["updated_at"] = to_iso(now)
    tx.put(SALE_LISTS, sale_id, sale)
