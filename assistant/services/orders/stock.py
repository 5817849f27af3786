"""Where stock is decided: holds, their lapse, the household limit, and giving units back.

**Where and why.** A listing's ``available`` count (units neither held nor
ordered) and each household's ``order_quota`` count are changed only here,
and only inside the store's locked unit of work (``app.unit()`` /
``ctx.atomic``). That transaction holds one exclusive lock across every thread
and process (``flock`` on the store folder), reads the files fresh and commits
atomically, so the check "enough left and within the limit" and the change
"take them" are one step: two residents can never take the last unit, and a
household's members in different processes can never pass its limit
together. The hold, its lapse timer and the stock change commit together, so
there is no moment when stock is taken without a hold that will give it back.

We chose the store over a Redis script (the usual flash-sale pattern) on
purpose: the order, the hold and the timer that returns it are durable records
in the store anyway, and keeping the counter beside them makes the accounting
one transaction instead of two systems that can disagree after a crash or a
Redis restart (a Redis counter decremented whose order was never written, or
an order written whose decrement was lost). The price is throughput: every
hold is a durable commit, bounded by fsync (a few hundred per second on one
disk), which is far more than a community's sale needs; ``bench/bench_flash_sale.py``
measures it. A community that outgrows it moves the store to PostgreSQL
behind the same port, where this code becomes a row-locked update.

**The invariant**, true after every commit::

    listing.available + Σ held holds + Σ live and finished orders == listing.stock

**Lapse exactly once.** A hold lives until ``expires_at`` (``[orders]
hold_minutes``). Its lapse is a durable timer (``orders.lapse``) in the store,
scheduled in the same commit as the hold (one keyed timer per listing and
minute, so most holds find it there already), run in its own unit of work: it
returns the units of a hold only if the hold is still ``held`` and marks it
``lapsed`` in that same commit, so a redelivered job, a second worker, or a
confirm racing it changes nothing twice. A process killed between hold and confirm loses
nothing: the timer is in the store and the scheduler hands it out when due.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from assistant.clock import from_iso, to_iso
from assistant.conversation.buttons import ShopButton, ShopVerb
from assistant.conversation.vocabulary import Choice, Reply
from assistant.i18n import Translator
from assistant.jobs import timers
from assistant.services import people
from assistant.services.orders.notify import listing_of, tell
from assistant.services.orders.records import (
    HOLDS,
    LISTINGS,
    MAX_QUANTITY,
    QUOTA,
    WAITLIST,
    AlreadyOrdered,
    AlreadyWaiting,
    BadQuantity,
    HoldLapsed,
    HoldStatus,
    Listing,
    NotEnough,
    NotOnSale,
    NotYours,
    OverLimit,
    SaleEnded,
    SoldOut,
    household_key,
)
from assistant.store.base import Doc, NotFound, Tx, new_id

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

LAPSE_JOB = "orders.lapse"


def hold_minutes(app: App) -> float:
    """How long a hold lives (``[orders] hold_minutes``)."""
    return float(app.settings.get("orders", "hold_minutes"))


def require_listing(tx: Tx, listing_id: str) -> Doc:
    """The listing document, or :class:`SaleEnded` for one that does not exist (any more)."""
    doc = tx.get(LISTINGS, listing_id)
    if doc is None:
        raise SaleEnded()
    return doc


def check_on_sale(listing: Listing, now: datetime) -> None:
    """Refuse a listing that takes no holds now.

    Raises:
        SaleEnded: its window closed or staff ended it.
        NotOnSale: it has not started, or it is paused.
    """
    if now >= listing.closes_at():
        raise SaleEnded()
    if now < listing.starts_at or listing.paused:
        raise NotOnSale()


def check_quantity(quantity: object) -> int:
    """A whole number of units from 1 to ``MAX_QUANTITY``, or :class:`BadQuantity`."""
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise BadQuantity()
    if not 1 <= quantity <= MAX_QUANTITY:
        raise BadQuantity()
    return quantity


def quota_used(tx: Tx, listing_id: str, household: str) -> int:
    """Units this household holds or ordered of a listing.

    Ordered units are counted in ``order_quota`` (orders leave the hot file
    later, the limit must not); held units are the live holds themselves, so a
    hold writes no quota record.
    """
    doc = tx.get(QUOTA, f"{listing_id}|{household}")
    ordered = int(doc["units"]) if doc else 0
    held = tx.find(HOLDS, listing_id=listing_id, household=household, status=HoldStatus.HELD)
    return ordered + sum(int(h["quantity"]) for h in held)


def _quota_add(tx: Tx, listing_id: str, household: str, change: int) -> None:
    doc_id = f"{listing_id}|{household}"
    doc = tx.get(QUOTA, doc_id) or {"listing_id": listing_id, "units": 0}
    doc["units"] = max(0, int(doc["units"]) + change)
    if doc["units"]:
        tx.put(QUOTA, doc_id, doc)
    else:
        tx.delete(QUOTA, doc_id)


def _available_add(tx: Tx, listing: Doc, change: int) -> None:
    listing["available"] = int(listing["available"]) + change
    if listing["available"] < 0 or listing["available"] > int(listing["stock"]):
        raise AssertionError(f"listing {listing['id']} stock accounting broke")  # never happens
    tx.put(LISTINGS, listing["id"], listing)


# -- holding ---------------------------------------------------------------------------------


def hold(
    tx: Tx,
    app: App,
    listing_id: str,
    person_id: str,
    by: str,
    quantity: object,
    now: datetime,
    waitlist_id: str | None = None,
) -> Doc:
    """Hold ``quantity`` units for ``person_id`` (asked by ``by``) for a few minutes.

    The decision and the change are one step of the caller's unit of work. A
    live hold the same person already had on this listing is given back first,
    so choosing another quantity never holds twice.

    Raises:
        BadQuantity, SaleEnded, NotOnSale, OverLimit, SoldOut, NotEnough.
    """
    units, doc, listing, person = _admitted(tx, listing_id, person_id, quantity, now)
    for earlier in _own_holds(tx, listing_id, person_id, by):
        _close(tx, app, earlier, HoldStatus.RELEASED, now, offer=False)
        doc = tx.require(LISTINGS, listing_id)
    household = _check_left(tx, listing, doc, person, by, units)
    _available_add(tx, doc, -units)
    expires = now + timedelta(minutes=hold_minutes(app))
    hold_id = new_id("hd")
    record: Doc = {
        "listing_id": listing_id,
        "person_id": person_id,
        "by": by,
        "household": household,
        "quantity": units,
        "status": HoldStatus.HELD.value,
        "expires_at": to_iso(expires),
        "created_at": to_iso(now),
        "waitlist_id": waitlist_id,
    }
    tx.put(HOLDS, hold_id, record)
    _lapse_timer(tx, listing_id, expires, now)
    record["id"] = hold_id
    log.info("hold %s of %d on %s", hold_id, units, listing_id)
    return record


def refusal_now(
    tx: Tx, listing_id: str, person_id: str, by: str, quantity: object, now: datetime
) -> None:
    """Raise what :func:`hold` would refuse now, read without taking the listing.

    For a snapshot before the hold: a sold-out listing answers its hundreds of
    late residents without each waiting for the listing's lock. It says nothing
    (and the hold decides) when a hold could be had, or the person holds some
    already (the hold gives those back first).

    Raises:
        BadQuantity, SaleEnded, NotOnSale, NotYours, OverLimit, SoldOut, NotEnough.
    """
    units, doc, listing, person = _admitted(tx, listing_id, person_id, quantity, now)
    if not _own_holds(tx, listing_id, person_id, by):
        _check_left(tx, listing, doc, person, by, units)


def _admitted(
    tx: Tx, listing_id: str, person_id: str, quantity: object, now: datetime
) -> tuple[int, Doc, Listing, Doc]:
    """The units asked, the listing (document and record) and the person, if a hold may be asked."""
    units = check_quantity(quantity)
    doc = require_listing(tx, listing_id)
    listing = Listing.from_doc(doc)
    check_on_sale(listing, now)
    person = tx.get(people.PEOPLE, person_id)
    if person is None or person.get("forgotten"):
        raise NotYours()
    return units, doc, listing, person


def _own_holds(tx: Tx, listing_id: str, person_id: str, by: str) -> list[Doc]:
    """The live holds this asker has for this person on this listing."""
    held = tx.find(HOLDS, listing_id=listing_id, by=by, status=HoldStatus.HELD)
    return [doc for doc in held if doc["person_id"] == person_id]


def _check_left(tx: Tx, listing: Listing, doc: Doc, person: Doc, by: str, units: int) -> str:
    """Refuse more than the household may still have, or than is left; the household's key."""
    household = household_key(person)
    asker = tx.get(people.PEOPLE, by) or person
    chinese = str(asker.get("language", "zh_CN")) != "en"
    left_for_household = max(0, listing.limit - quota_used(tx, listing.id, household))
    if units > left_for_household:
        unit = listing.unit_in(chinese, left_for_household)
        raise OverLimit(left=left_for_household, limit=listing.limit, unit=unit)
    available = int(doc["available"])
    if available <= 0:
        raise SoldOut()
    if units > available:
        raise NotEnough(left=available, unit=listing.unit_in(chinese, available))
    return household


def live_hold(tx: Tx, hold_id: str, actor_id: str, now: datetime) -> Doc:
    """The hold, if it is the actor's and still held (a hold past its time counts as lapsed).

    Raises:
        HoldLapsed: it lapsed or was given back (or never existed).
        AlreadyOrdered: it already became an order.
        NotYours: someone else holds it.
    """
    doc = tx.get(HOLDS, hold_id)
    if doc is None:
        raise HoldLapsed()
    if doc["by"] != actor_id and doc["person_id"] != actor_id:
        raise NotYours()
    if doc["status"] == HoldStatus.CONFIRMED:
        raise AlreadyOrdered()
    if doc["status"] != HoldStatus.HELD or now >= from_iso(doc["expires_at"]):
        raise HoldLapsed()
    return doc


def _lapse_timer(tx: Tx, listing_id: str, expires: datetime, now: datetime) -> None:
    """The durable timer that lapses this listing's holds of one minute (one timer per minute).

    Holds expiring within the same minute share one keyed timer due at the end
    of that minute, so a hold rarely writes the timers file; the job lapses
    each hold of the listing that is still held and past its time.
    """
    due = expires.replace(second=0, microsecond=0) + timedelta(minutes=1)
    minute = f"lapse:{listing_id}:{to_iso(due)}"
    timers.schedule(tx, LAPSE_JOB, [listing_id, to_iso(due)], due, now, key=minute)


def confirmed(tx: Tx, hold: Doc, order_id: str, now: datetime) -> None:
    """Mark a live hold as turned into an order: its units stay taken, by the order now."""
    _quota_add(tx, hold["listing_id"], hold["household"], int(hold["quantity"]))
    hold["status"] = HoldStatus.CONFIRMED.value
    hold["order_id"] = order_id
    hold["closed_at"] = to_iso(now)
    tx.put(HOLDS, hold["id"], hold)
    tx.archive(HOLDS, hold["id"])
    entry_id = hold.get("waitlist_id")
    if entry_id:
        _finish_entry(tx, entry_id, "ordered")


def release(tx: Tx, app: App, hold_id: str, actor_id: str, now: datetime) -> bool:
    """The resident gives a hold back (stop, "not now"); whether it was still held."""
    doc = tx.get(HOLDS, hold_id)
    if doc is None or doc["status"] != HoldStatus.HELD:
        return False
    if actor_id not in (doc["by"], doc["person_id"]):
        raise NotYours()
    _close(tx, app, doc, HoldStatus.RELEASED, now)
    return True


def lapse_job(tx: Tx, app: App, listing_id: str, due: str = "") -> int:
    """``orders.lapse``: every hold of the listing past its time gives its units back; how many."""
    now = app.clock.now()
    lapsed = 0
    for doc in tx.find(HOLDS, listing_id=listing_id, status=HoldStatus.HELD):
        if from_iso(doc["expires_at"]) <= now:
            lapse_hold(tx, app, doc["id"], now)
            lapsed += 1
    return lapsed


def lapse_hold(tx: Tx, app: App, hold_id: str, now: datetime) -> None:
    """A hold not confirmed in time gives its units back, exactly once, and its resident is told."""
    doc = tx.get(HOLDS, hold_id)
    if doc is None or doc["status"] != HoldStatus.HELD:
        return  # confirmed, released, or lapsed already: nothing to give back twice
    _close(tx, app, doc, HoldStatus.LAPSED, now)
    listing = listing_of(tx, doc["listing_id"])
    if listing is None:
        return
    entry_id = doc.get("waitlist_id")

    def build(tr: Translator) -> Reply:
        key = "orders.note_offer_lapsed" if entry_id else "orders.note_lapsed"
        again = (Choice(tr.t("orders.again"), ShopButton(ShopVerb.ITEM, listing.id).encode()),)
        title = listing.title(tr.is_chinese)
        return Reply(tr.t(key, title=title, minutes=int(hold_minutes(app))), choices=(again,))

    tell(tx, [doc["by"]], build, now)
    log.info("hold %s lapsed", hold_id)


def _close(
    tx: Tx, app: App, doc: Doc, status: HoldStatus, now: datetime, offer: bool = True
) -> None:
    """End a live hold: its units back, the hold archived; then offer them to the waiting."""
    doc["status"] = status.value
    doc["closed_at"] = to_iso(now)
    tx.put(HOLDS, doc["id"], doc)
    tx.archive(HOLDS, doc["id"])
    if doc.get("waitlist_id"):
        _finish_entry(tx, doc["waitlist_id"], status.value)
    give_back(tx, app, doc["listing_id"], doc["household"], int(doc["quantity"]), now, offer)


def give_back(
    tx: Tx,
    app: App,
    listing_id: str,
    household: str,
    quantity: int,
    now: datetime,
    offer: bool = True,
    ordered: bool = False,
) -> None:
    """Units come back (a lapsed or released hold, a cancelled order, ``ordered``).

    A cancelled order also frees its household's quota. Then the waiting list
    is offered what there is, in order (``offer``).
    """
    listing = tx.get(LISTINGS, listing_id)
    if ordered:
        _quota_add(tx, listing_id, household, -quantity)
    if listing is None:
        return
    _available_add(tx, listing, quantity)
    if offer:
        offer_waiting(tx, app, listing_id, now)


def add_units(tx: Tx, app: App, listing_id: str, quantity: int, now: datetime) -> Doc:
    """Staff add stock: the total and the available count grow together, then the waiting."""
    units = check_quantity(quantity)
    listing = require_listing(tx, listing_id)
    listing["stock"] = int(listing["stock"]) + units
    _available_add(tx, listing, units)
    offer_waiting(tx, app, listing_id, now)
    return tx.require(LISTINGS, listing_id)


# -- the waiting list --------------------------------------------------------------------------


def join_waitlist(
    tx: Tx, app: App, listing_id: str, person_id: str, by: str, quantity: object, now: datetime
) -> Doc:
    """Put a resident on a sold-out listing's waiting list (once), after everyone before.

    Raises:
        AlreadyWaiting: they are on it already.
        BadQuantity, SaleEnded.
    """
    units = check_quantity(quantity)
    listing = Listing.from_doc(require_listing(tx, listing_id))
    if now >= listing.closes_at():
        raise SaleEnded()
    for earlier in tx.find(WAITLIST, listing_id=listing_id, person_id=person_id):
        if earlier["status"] in ("waiting", "offered"):
            raise AlreadyWaiting()
    entry: Doc = {
        "listing_id": listing_id,
        "person_id": person_id,
        "by": by,
        "quantity": min(units, listing.limit),
        "status": "waiting",
        "created_at": to_iso(now),
    }
    entry_id = new_id("wl")
    tx.put(WAITLIST, entry_id, entry)
    entry["id"] = entry_id
    offer_waiting(tx, app, listing_id, now)  # units may have come back meanwhile
    return tx.get(WAITLIST, entry_id) or entry


def waiting_position(tx: Tx, entry: Doc) -> int:
    """1 for the first in line."""
    line = [
        e for e in tx.find(WAITLIST, listing_id=entry["listing_id"]) if e["status"] == "waiting"
    ]
    line.sort(key=lambda e: (e["created_at"], e["id"]))
    ids = [e["id"] for e in line]
    return ids.index(entry["id"]) + 1 if entry["id"] in ids else 0


def offer_waiting(tx: Tx, app: App, listing_id: str, now: datetime) -> int:
    """Offer available units to the waiting list in order, each offer a hold; how many offers."""
    doc = tx.get(LISTINGS, listing_id)
    if doc is None:
        return 0
    listing = Listing.from_doc(doc)
    if not listing.on_sale(now):
        return 0
    line = [e for e in tx.find(WAITLIST, listing_id=listing_id) if e["status"] == "waiting"]
    line.sort(key=lambda e: (e["created_at"], e["id"]))
    offered = 0
    for entry in line:
        available = int(tx.require(LISTINGS, listing_id)["available"])
        if available <= 0:
            break
        offered += _offer_one(tx, app, listing, entry, available, now)
    return offered


def _offer_one(
    tx: Tx, app: App, listing: Listing, entry: Doc, available: int, now: datetime
) -> int:
    """Hold what the entry can have now and tell them; 1 if an offer was made."""
    person = tx.get(people.PEOPLE, entry["person_id"])
    if person is None or person.get("forgotten"):
        _finish_entry(tx, entry["id"], "gone")
        return 0
    left = listing.limit - quota_used(tx, listing.id, household_key(person))
    units = min(int(entry["quantity"]), available, left)
    if units <= 0:
        _finish_entry(tx, entry["id"], "over_limit")
        return 0
    held = hold(tx, app, listing.id, entry["person_id"], entry["by"], units, now, entry["id"])
    entry["status"] = "offered"
    entry["hold_id"] = held["id"]
    tx.put(WAITLIST, entry["id"], entry)

    def build(tr: Translator) -> Reply:
        order = Choice(tr.t("orders.claim"), ShopButton(ShopVerb.CLAIM, held["id"]).encode())
        drop = Choice(tr.t("orders.no_thanks"), ShopButton(ShopVerb.DROP, held["id"]).encode())
        return Reply(
            tr.t(
                "orders.note_offered",
                title=listing.title(tr.is_chinese),
                quantity=units,
                unit=listing.unit_in(tr.is_chinese, units),
                minutes=int(hold_minutes(app)),
            ),
            choices=((order, drop),),
        )

    tell(tx, [entry["by"]], build, now)
    return 1


def _finish_entry(tx: Tx, entry_id: str, status: str) -> None:
    entry = tx.get(WAITLIST, entry_id)
    if entry is None:
        return
    entry["status"] = status
    tx.put(WAITLIST, entry_id, entry)
    tx.archive(WAITLIST, entry_id)


def accounting(tx: Tx, listing_id: str) -> dict[str, int]:
    """Where every unit of a listing is: available, held, ordered (for tests and the benchmark)."""
    from assistant.services.orders.records import LIVE_ORDERS, ORDERS, OrderStatus

    listing = tx.get(LISTINGS, listing_id)
    if listing is None:
        raise NotFound(listing_id)
    held = sum(
        int(h["quantity"]) for h in tx.find(HOLDS, listing_id=listing_id, status=HoldStatus.HELD)
    )
    counted = (*LIVE_ORDERS, OrderStatus.PICKED_UP, OrderStatus.DELIVERED)
    ordered = sum(
        int(o["quantity"]) for o in tx.find(ORDERS, listing_id=listing_id) if o["status"] in counted
    )
    ordered += sum(
        int(o["quantity"])
        for o in tx.archived(ORDERS)
        if o["listing_id"] == listing_id and o["status"] in counted
    )
    return {
        "stock": int(listing["stock"]),
        "available": int(listing["available"]),
        "held": held,
        "ordered": ordered,
    }
