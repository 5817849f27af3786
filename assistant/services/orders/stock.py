"""Where stock is decided: holds, their lapse, the household limit, and giving units back.

**Two places, each for what it is good at.** A hold is a lease of a few
minutes; an order is a durable record. So live holds are kept and decided in
the hold counter (:mod:`~.counter`: Redis, one Lua script per step, atomic
across every process and machine, no disk write), and everything that must
survive is in the store: each listing's ``stock`` and ``available`` (units
not in an order), each household's ordered units (``order_quota``) and the
orders. A store document changes its ``ver`` with every change of those
counts, and the counter keeps a copy with the version (see :mod:`~.counter`),
so the counter decides a hold with the store's committed figures::

    left to hold = available (store) - Σ live holds (counter)

**Why not all in the store** (as before): every hold was then a durable commit
under the listing's lock, one after another: a few hundred holds per second,
and the hundredth resident of a flash sale waited for the ninety-nine before
them. **Why not all in Redis**: an order must survive any crash, and the
store's unit of work already decides it with its timers and messages.
docs/ORDERS.md has the whole reasoning and the failure cases.

**An order is decided twice, so it can never oversell.** The counter admits the
hold; the order's own unit of work checks again, under the listing's lock,
that ``available`` and the household's ordered units stay within bounds. The
second check only ever refuses after the counter lost its memory (Redis
restarted empty, or a hold was lost), and then the resident is told kindly.

**Confirming** (:func:`take` then :func:`confirmed` in the order's unit of
work): the counter marks the hold ``confirming`` (it no longer lapses at its
time); the store writes the order, with an id made from the hold's, so a
second press finds it; after the commit the counter drops the hold and takes
the store's new figures (:func:`settle`). If the process dies in between, the
sweep finds the order by that id and settles the hold instead of lapsing it.

**Lapse exactly once.** A hold lives until ``expires`` (``[orders]
hold_minutes``). A durable timer per listing and minute (``orders.lapse``)
sweeps the counter's due holds; the counter's release is the one atomic step
that gives units back, so a second sweep, a release racing it or a redelivered
job changes nothing twice. A process killed between hold and confirm loses
nothing: the hold is in the counter and the timer in the store (the timer of a
minute is written before the first hold of that minute).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from assistant.clock import from_iso, to_iso
from assistant.conversation.buttons import ShopButton, ShopVerb
from assistant.conversation.vocabulary import Choice, Reply
from assistant.i18n import Translator
from assistant.jobs import timers
from assistant.jobs.unit import after_commit
from assistant.services import people
from assistant.services.orders.counter import CONFIRMING, Counter, Mirror, Quota, Record, left_of
from assistant.services.orders.notify import listing_of, tell
from assistant.services.orders.records import (
    HOLDS,
    LISTINGS,
    MAX_QUANTITY,
    ORDERS,
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
OFFER_JOB = "orders.offer"
SWEEP = 200
"""Holds one lapse sweep handles in its unit of work; a fuller sweep hands the rest on."""
CONFIRM_GRACE = 120.0
"""Seconds a ``confirming`` hold waits for its order's commit before the sweep looks at it."""


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


# -- the store's figures ---------------------------------------------------------------------


def mirror_of(doc: Doc) -> Mirror:
    """A listing document's ``available`` with its version, for the counter."""
    return Mirror(int(doc.get("ver", 0)), int(doc["available"]))


def _quota_id(listing_id: str, household: str) -> str:
    """A household's ``order_quota`` document of a listing: ``<listing>|<household>``."""
    return f"{listing_id}|{household}"


def _quota_doc(tx: Tx, listing_id: str, household: str) -> Doc | None:
    return tx.get(QUOTA, _quota_id(listing_id, household))


def quota_of(doc: Doc | None) -> Quota:
    """A household's ordered units of a listing with their version, for the counter."""
    if doc is None:
        return Quota(0, 0)
    return Quota(int(doc.get("ver", 0)), int(doc["units"]))


def left_now(app: App, listing: Listing) -> int:
    """Units left to hold now: not ordered (the store), less what is held (the counter)."""
    return left_of(listing.available, app.holds.held(listing.id))


def quota_used(tx: Tx, app: App, listing_id: str, household: str) -> int:
    """Units this household holds or ordered of a listing."""
    ordered = quota_of(_quota_doc(tx, listing_id, household)).units
    held = sum(
        int(h["quantity"])
        for h in app.holds.holds()
        if h["listing_id"] == listing_id and h["household"] == household
    )
    return ordered + held


def _quota_add(tx: Tx, listing_id: str, household: str, change: int, limit: int = 0) -> Quota:
    """Change a household's ordered units; with ``limit``, refuse to pass it (:class:`OverLimit`)."""
    doc_id = _quota_id(listing_id, household)
    doc = tx.get(QUOTA, doc_id) or {"listing_id": listing_id, "units": 0, "ver": 0}
    units = max(0, int(doc["units"]) + change)
    if limit and change > 0 and units > limit:
        left = max(0, limit - int(doc["units"]))
        raise OverLimit(left=left, limit=limit, unit="")
    doc["units"], doc["ver"] = units, int(doc.get("ver", 0)) + 1
    tx.put(QUOTA, doc_id, doc)  # kept at zero too: its version must never go back
    return quota_of(doc)


def _available_add(tx: Tx, listing: Doc, change: int, stock_change: int = 0) -> Mirror:
    """Change a listing's units not in an order (and its stock); refuse to go below zero."""
    available = int(listing["available"]) + change
    stock = int(listing["stock"]) + stock_change
    if available < 0:
        raise SoldOut()
    if available > stock:
        raise AssertionError(f"listing {listing['id']} stock accounting broke")  # never happens
    listing["available"], listing["stock"] = available, stock
    listing["ver"] = int(listing.get("ver", 0)) + 1
    tx.put(LISTINGS, listing["id"], listing)
    changed = getattr(tx, _CHANGED, None)
    if changed is None:
        changed = set()
        setattr(tx, _CHANGED, changed)
    changed.add(listing["id"])
    return mirror_of(listing)


_CHANGED = "_listing_counts_changed"
"""The listings whose counts this unit of work changed: not committed yet, so not for the counter."""


def _sync_after_commit(
    tx: Tx,
    app: App,
    listing_id: str,
    mirror: Mirror,
    household: str = "",
    quota: Quota | None = None,
) -> None:
    """Once committed, the counter takes the new figures (else the next hold brings them)."""
    counter = app.holds
    after_commit(tx, lambda: counter.sync(listing_id, mirror, household, quota))


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
    """Hold ``quantity`` units for ``person_id`` (asked by ``by``) in a unit of work.

    For the waiting list's offers (chat holds with :func:`hold_now`). ``tx`` is
    read, and the lapse timer of the minute written in it. Its listing must be
    as committed: a unit of work that changed the listing's counts offers them
    with :func:`offer_later`. A live hold the same person already had on this
    listing is given back in the same step, so choosing another quantity never
    holds twice.

    Raises:
        BadQuantity, SaleEnded, NotOnSale, NotYours, OverLimit, SoldOut, NotEnough.
    """
    expires = now + timedelta(minutes=hold_minutes(app))
    lapse_timer(tx, listing_id, expires, now)
    return _hold(tx.get, app, listing_id, person_id, by, quantity, now, expires, waitlist_id)


def _hold(
    get: Callable[[str, str], Doc | None],
    app: App,
    listing_id: str,
    person_id: str,
    by: str,
    quantity: object,
    now: datetime,
    expires: datetime,
    waitlist_id: str | None,
) -> Doc:
    """The hold, with documents read by ``get`` (each alone: every figure has its version)."""
    units = check_quantity(quantity)
    doc = get(LISTINGS, listing_id)
    if doc is None:
        raise SaleEnded()
    listing = Listing.from_doc(doc)
    check_on_sale(listing, now)
    person = get(people.PEOPLE, person_id)
    if person is None or person.get("forgotten"):
        raise NotYours()
    household = household_key(person)
    record: Record = {
        "id": new_id("hd"),
        "listing_id": listing_id,
        "person_id": person_id,
        "by": by,
        "household": household,
        "quantity": units,
        "expires": expires.timestamp(),
        "expires_at": to_iso(expires),
        "created_at": to_iso(now),
        "waitlist_id": waitlist_id or "",
    }
    quota = quota_of(get(QUOTA, _quota_id(listing_id, household)))
    outcome = app.holds.hold(record, mirror_of(doc), quota, listing.limit)
    if outcome.kind != "ok":
        asker = (get(people.PEOPLE, by) if by != person_id else person) or person
        _refuse(listing, asker, outcome.kind, outcome.left)
    if outcome.released:
        log.info("hold %s given back for a new one", outcome.released)
    log.info("hold %s of %d on %s", record["id"], units, listing_id)
    return dict(record, status=HoldStatus.HELD.value)


def hold_now(
    app: App, listing_id: str, person_id: str, by: str, quantity: object, now: datetime
) -> Doc:
    """:func:`hold` from chat: three documents read, decided by the counter, no store commit.

    Each document is read on its own (``Store.read``: one statement on
    PostgreSQL); they need not agree with each other, since the counter takes
    each figure by its own version. Only the first hold of a listing's minute
    writes: the lapse timer of that minute, in a unit of work of its own,
    before the hold (so a process killed right after holding leaves its timer
    behind).
    """
    expires = now + timedelta(minutes=hold_minutes(app))
    due = _lapse_due(expires)
    if not app.holds.timer_noted(listing_id, to_iso(due)):
        with app.unit() as tx:
            lapse_timer(tx, listing_id, expires, now)
        app.holds.note_timer(listing_id, to_iso(due), int((due - now).total_seconds()) + 3600)
    return _hold(app.store.read, app, listing_id, person_id, by, quantity, now, expires, None)


def _refuse(listing: Listing, asker: Doc, kind: str, left: int) -> None:
    """Raise the refusal the counter decided, in the asker's words for the unit."""
    chinese = str(asker.get("language", "zh_CN")) != "en"
    if kind == "over":
        raise OverLimit(left=left, limit=listing.limit, unit=listing.unit_in(chinese, left))
    if kind == "not_enough":
        raise NotEnough(left=left, unit=listing.unit_in(chinese, left))
    raise SoldOut()


def _lapse_due(expires: datetime) -> datetime:
    return expires.replace(second=0, microsecond=0) + timedelta(minutes=1)


def lapse_timer(tx: Tx, listing_id: str, expires: datetime, now: datetime) -> None:
    """The durable timer that sweeps this listing's holds of one minute (one timer per minute).

    Holds expiring within the same minute share one keyed timer due at the end
    of that minute; the job lapses every hold that is past its time.
    """
    due = _lapse_due(expires)
    minute = f"lapse:{listing_id}:{to_iso(due)}"
    timers.schedule(tx, LAPSE_JOB, [listing_id, to_iso(due)], due, now, key=minute)


def order_id_for(hold_id: str) -> str:
    """The id of the order a hold becomes: a second press, or the sweep, finds it by the hold."""
    return "od" + hold_id.removeprefix("hd")


def live_hold(tx: Tx, app: App, hold_id: str, actor_id: str, now: datetime) -> Doc:
    """The hold, if it is the actor's and still held (a hold past its time counts as lapsed).

    One being confirmed counts as held: its order's unit of work may have failed and be
    tried again (a second press meanwhile waits for the first at the order's id).

    Raises:
        HoldLapsed: it lapsed or was given back (or never existed).
        AlreadyOrdered: it already became an order.
        NotYours: someone else holds it.
    """
    record = app.holds.get(hold_id)
    if record is None:
        if tx.get(ORDERS, order_id_for(hold_id)) is not None:
            raise AlreadyOrdered()
        raise HoldLapsed()
    if actor_id not in (record["by"], record["person_id"]):
        raise NotYours()
    if record["status"] != CONFIRMING and now.timestamp() >= float(record["expires"]):
        raise HoldLapsed()
    return record


def take(tx: Tx, app: App, hold_id: str, actor_id: str, now: datetime) -> Doc:
    """Begin turning a live hold into an order (the order's unit of work goes on with it).

    Raises:
        AlreadyOrdered, HoldLapsed, NotYours.
    """
    if tx.get(ORDERS, order_id_for(hold_id)) is not None:  # locks the order's id meanwhile
        raise AlreadyOrdered()
    kind, record = app.holds.take(hold_id, actor_id, now.timestamp(), CONFIRM_GRACE)
    if kind == "not_yours":
        raise NotYours()
    if record is None:
        raise HoldLapsed()
    return record


def confirmed(tx: Tx, app: App, held: Doc, order_id: str, limit: int, now: datetime) -> None:
    """The hold's units become the order's: checked again and counted in the store.

    The household's count is taken first and the listing last (the order of
    every unit of work that takes both, so none waits for another in a
    circle), ``limit`` being the listing's.

    Raises:
        HoldLapsed: only when the counter had lost its memory (the store says no
            unit or no more for the household is left): the hold is given back,
            and nothing of the order is written.
    """
    listing_id, household = held["listing_id"], held["household"]
    units = int(held["quantity"])
    try:
        quota = _quota_add(tx, listing_id, household, units, limit=limit)
        mirror = _available_add(tx, require_listing(tx, listing_id), -units)
    except (SoldOut, OverLimit, SaleEnded):
        app.holds.release(held["id"], any_state=True)
        log.warning("hold %s refused at its order: the counter had lost count", held["id"])
        raise HoldLapsed() from None
    entry_id = held.get("waitlist_id")
    if entry_id:
        _finish_entry(tx, entry_id, "ordered")
    counter, hold_id = app.holds, held["id"]
    after_commit(tx, lambda: counter.settle(hold_id, listing_id, mirror, household, quota))


def release(tx: Tx, app: App, hold_id: str, actor_id: str, now: datetime) -> bool:
    """The resident gives a hold back (stop, "not now"); whether it was still held."""
    try:
        record = app.holds.release(hold_id, actor_id)
    except PermissionError:
        raise NotYours() from None
    if record is None:
        return False
    _closed(tx, app, record, HoldStatus.RELEASED, now)
    return True


def _closed(tx: Tx, app: App, record: Record, status: HoldStatus, now: datetime) -> None:
    """A hold's units came back: its waiting-list entry ends, the waiting are offered them."""
    if record.get("waitlist_id"):
        _finish_entry(tx, record["waitlist_id"], status.value)
    offer_waiting(tx, app, record["listing_id"], now)


def lapse_job(tx: Tx, app: App, listing_id: str, due: str = "") -> int:
    """``orders.lapse``: every hold past its time gives its units back (or is settled); how many."""
    now = app.clock.now()
    lapsed = 0
    for legacy in tx.find(HOLDS, listing_id=listing_id, status=HoldStatus.HELD):
        lapsed += _lapse_stored(tx, app, legacy, now)
    late = app.holds.due(now.timestamp(), SWEEP)
    if len(late) == SWEEP:  # more than one unit of work should carry: the rest in the next
        timers.schedule(tx, LAPSE_JOB, [listing_id, ""], now, now)
    for record in late:
        order = tx.get(ORDERS, order_id_for(record["id"]))
        if order is not None:  # its process died between the order's commit and settling
            _settle_found(tx, app, record)
        elif record["status"] == CONFIRMING and now.timestamp() < float(record["until"]):
            until = datetime.fromtimestamp(float(record["until"]), tz=now.tzinfo)
            lapse_timer(tx, record["listing_id"], until, now)  # its order may still come
        else:
            lapsed += lapse_hold(tx, app, record, now)
    return lapsed


def _settle_found(tx: Tx, app: App, record: Record) -> None:
    listing = tx.get(LISTINGS, record["listing_id"])
    quota = quota_of(_quota_doc(tx, record["listing_id"], record["household"]))
    mirror = mirror_of(listing) if listing else Mirror(-1, 0)
    app.holds.settle(record["id"], record["listing_id"], mirror, record["household"], quota)


def lapse_hold(tx: Tx, app: App, record: Record, now: datetime) -> int:
    """A hold not confirmed in time gives its units back, exactly once, and its resident is told."""
    if app.holds.release(record["id"], due_by=now.timestamp(), any_state=True) is None:
        return 0  # confirmed, released, or lapsed already: nothing to give back twice
    _closed(tx, app, record, HoldStatus.LAPSED, now)
    _tell_lapsed(tx, app, record, now)
    log.info("hold %s lapsed", record["id"])
    return 1


def _tell_lapsed(tx: Tx, app: App, record: Record, now: datetime) -> None:
    listing = listing_of(tx, record["listing_id"])
    if listing is None:
        return
    entry_id = record.get("waitlist_id")

    def build(tr: Translator) -> Reply:
        key = "orders.note_offer_lapsed" if entry_id else "orders.note_lapsed"
        again = (Choice(tr.t("orders.again"), ShopButton(ShopVerb.ITEM, listing.id).encode()),)
        title = listing.title(tr.is_chinese)
        return Reply(tr.t(key, title=title, minutes=int(hold_minutes(app))), choices=(again,))

    tell(tx, [record["by"]], build, now)


def _lapse_stored(tx: Tx, app: App, doc: Doc, now: datetime) -> int:
    """A hold kept in the store by an earlier version: its units go back to ``available``."""
    if from_iso(doc["expires_at"]) > now:
        return 0
    doc["status"], doc["closed_at"] = HoldStatus.LAPSED.value, to_iso(now)
    tx.put(HOLDS, doc["id"], doc)
    tx.archive(HOLDS, doc["id"])
    listing = tx.get(LISTINGS, doc["listing_id"])
    if listing is not None:
        _sync_after_commit(
            tx, app, listing["id"], _available_add(tx, listing, int(doc["quantity"]))
        )
        offer_later(tx, app, listing["id"], now)
    _tell_lapsed(tx, app, {**doc, "waitlist_id": doc.get("waitlist_id") or ""}, now)
    return 1


def give_back(
    tx: Tx, app: App, listing_id: str, household: str, quantity: int, now: datetime
) -> None:
    """A cancelled order's units come back, and its household's quota; then the waiting."""
    quota = _quota_add(tx, listing_id, household, -quantity)
    listing = tx.get(LISTINGS, listing_id)
    if listing is None:
        return
    mirror = _available_add(tx, listing, quantity)
    _sync_after_commit(tx, app, listing_id, mirror, household, quota)
    offer_later(tx, app, listing_id, now)


def add_units(tx: Tx, app: App, listing_id: str, quantity: int, now: datetime) -> Doc:
    """Staff add stock: the total and the available count grow together, then the waiting."""
    units = check_quantity(quantity)
    listing = require_listing(tx, listing_id)
    mirror = _available_add(tx, listing, units, stock_change=units)
    _sync_after_commit(tx, app, listing_id, mirror)
    offer_later(tx, app, listing_id, now)
    return tx.require(LISTINGS, listing_id)


def forget_holds(tx: Tx, app: App, person_id: str, now: datetime) -> None:
    """Every live hold for or by a forgotten person goes back (their waiting neighbours offered)."""
    for record in app.holds.holds():
        if person_id in (record["person_id"], record["by"]):
            gone = app.holds.release(record["id"], any_state=True)
            if gone is not None:
                _closed(tx, app, gone, HoldStatus.RELEASED, now)


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
    """Offer available units to the waiting list in order, each offer a hold; how many offers.

    In a unit of work that changed the listing's counts, the offers wait for its
    commit (:func:`offer_later`): a hold is decided on committed figures only.
    """
    if listing_id in getattr(tx, _CHANGED, ()):
        offer_later(tx, app, listing_id, now)
        return 0
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
        available = left_now(app, listing)
        if available <= 0:
            break
        offered += _offer_one(tx, app, listing, entry, available, now)
    return offered


def offer_later(tx: Tx, app: App, listing_id: str, now: datetime) -> None:
    """Offer the waiting list in a unit of work of its own, once this one committed.

    For a unit of work that changed the listing's counts (a cancellation, added
    stock): a hold must be decided on committed figures.
    """
    if tx.find(WAITLIST, listing_id=listing_id, status="waiting"):
        timers.schedule(tx, OFFER_JOB, [listing_id], now, now)


def offer_job(tx: Tx, app: App, listing_id: str) -> int:
    """``orders.offer``: the waiting list of a listing is offered what is left now."""
    return offer_waiting(tx, app, listing_id, app.clock.now())


def _offer_one(
    tx: Tx, app: App, listing: Listing, entry: Doc, available: int, now: datetime
) -> int:
    """Hold what the entry can have now and tell them; 1 if an offer was made."""
    person = tx.get(people.PEOPLE, entry["person_id"])
    if person is None or person.get("forgotten"):
        _finish_entry(tx, entry["id"], "gone")
        return 0
    left = listing.limit - quota_used(tx, app, listing.id, household_key(person))
    units = min(int(entry["quantity"]), available, left)
    if units <= 0:
        _finish_entry(tx, entry["id"], "over_limit")
        return 0
    try:
        held = hold(tx, app, listing.id, entry["person_id"], entry["by"], units, now, entry["id"])
    except (SoldOut, NotEnough, OverLimit):
        return 0  # taken meanwhile by a neighbour: the entry waits on
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


def accounting(tx: Tx, holds: Counter, listing_id: str) -> dict[str, int]:
    """Where every unit of a listing is (for tests and the benchmark).

    ``ordered`` is summed from the orders, ``held`` from the counter's holds
    (one whose order is written already counts as ordered), and ``available``
    is what is left: the store's units not in an order less the held ones. So
    ``available + held + ordered == stock`` says the store's count matches its
    orders, and ``available >= 0`` that no more is held than there is.

    Raises:
        AssertionError: the counter's total of a listing is not the sum of its holds.
    """
    from assistant.services.orders.records import LIVE_ORDERS, OrderStatus

    listing = tx.get(LISTINGS, listing_id)
    if listing is None:
        raise NotFound(listing_id)
    counted = (*LIVE_ORDERS, OrderStatus.PICKED_UP, OrderStatus.DELIVERED)
    orders = [o for o in tx.find(ORDERS, listing_id=listing_id) if o["status"] in counted]
    orders += [
        o for o in tx.archived(ORDERS) if o["listing_id"] == listing_id and o["status"] in counted
    ]
    ordered = sum(int(o["quantity"]) for o in orders)
    ordered_holds = {o.get("hold_id") for o in orders}
    counted_held, records = holds.census(listing_id)
    total = sum(int(h["quantity"]) for h in records)
    if counted_held != total:
        raise AssertionError(f"the counter says {counted_held} held, its holds {total}")
    held = sum(int(h["quantity"]) for h in records if h["id"] not in ordered_holds)
    legacy = sum(
        int(h["quantity"]) for h in tx.find(HOLDS, listing_id=listing_id, status=HoldStatus.HELD)
    )
    return {
        "stock": int(listing["stock"]),
        "available": int(listing["available"]) - held,  # the store's count left out legacy holds
        "held": held + legacy,
        "ordered": ordered,
    }
