"""Orders: a confirmed hold becomes a durable order; then cancel, pack, hand over, pick up, pay.

Each change is one unit of work with what follows from it: the resident and
the family helper told (every status change), the group list edited
(coalesced), the community delivery run joined, the follow-up scheduled.
Who may do what is checked inside the same transaction: the resident, their
family helper or a coordinator for their own orders; the vendor's staff (or a
coordinator) for the vendor's steps; the run's volunteer for deliveries.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from assistant.clock import to_iso
from assistant.conversation.buttons import OrderStep, OrderVerb, SupervisionStep, SupervisionVerb
from assistant.conversation.vocabulary import Choice, Reply
from assistant.domain import slots
from assistant.i18n import Translator
from assistant.jobs import timers
from assistant.services import people
from assistant.services.orders import announce, gathering, stock
from assistant.services.orders.notify import order_title, tell, tell_order
from assistant.services.orders.records import (
    CANCELLABLE,
    LISTINGS,
    LIVE_ORDERS,
    ORDERS,
    PICKUP_PREFIX,
    BadFulfilment,
    Delivery,
    HoldLapsed,
    Listing,
    NotChangeable,
    NotYours,
    OrderStatus,
    money,
)
from assistant.services.orders.vendors import require_staff
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

FOLLOW_UP_JOB = "orders.follow_up"
GOOD, PROBLEM = "good", "problem"
PAYMENT_METHODS = ("cash", "transfer")


def fulfilments(listing: Listing) -> list[str]:
    """The ways a listing's goods may reach the resident, as stored on an order."""
    ways: list[str] = []
    for way in listing.delivery:
        if way is Delivery.PICKUP:
            ways += [PICKUP_PREFIX + point for point in listing.pickup_points]
        else:
            ways.append(way.value)
    return ways


def confirm(tx: Tx, app: App, hold_id: str, actor_id: str, fulfilment: str, now: datetime) -> Doc:
    """Turn a live hold into an order, once; return the order.

    Raises:
        HoldLapsed: the hold ran out (its units went back), or its listing is gone.
        AlreadyOrdered: this hold is already an order (a second press).
        BadFulfilment: a way of delivery the listing does not offer.
    """
    preview = stock.live_hold(tx, app, hold_id, actor_id, now)
    found = app.store.read(LISTINGS, preview["listing_id"])  # its row is taken last, below
    if found is None:
        raise HoldLapsed()
    listing = Listing.from_doc(found)
    if fulfilment not in fulfilments(listing):
        raise BadFulfilment()
    held = stock.take(tx, app, hold_id, actor_id, now)
    person = tx.require(people.PEOPLE, held["person_id"])
    order_id = stock.order_id_for(hold_id)
    quantity = int(held["quantity"])
    order: Doc = {
        "listing_id": listing.id,
        "vendor_id": listing.vendor_id,
        "hold_id": hold_id,
        "person_id": held["person_id"],
        "by": held["by"],
        "household_key": held["household"],
        "household": dict(person.get("household") or {}),
        "grid_id": person.get("grid_id"),
        "quantity": quantity,
        "unit": listing.unit,
        "title_zh": listing.title_zh,
        "title_en": listing.title_en,
        "unit_price": str(listing.sale_price),
        "total": str(listing.sale_price * quantity),
        "fulfilment": fulfilment,
        "status": OrderStatus.CONFIRMED.value,
        "payment": None,
        "created_at": to_iso(now),
        "updated_at": to_iso(now),
        "history": [{"status": OrderStatus.CONFIRMED.value, "at": to_iso(now)}],
    }
    tx.put(ORDERS, order_id, order)
    order["id"] = order_id
    if order["by"] != order["person_id"]:
        tell_order(tx, app, order, "orders.note_ordered_for_you", now, skip=order["by"])
    announce.order_changed(tx, app, order, now)
    # last: the listing's row is what every order of the sale waits for, until this commits
    stock.confirmed(tx, app, held, order_id, listing.limit, now)
    log.info("order %s confirmed on %s", order_id, listing.id)
    return order


def require_order(tx: Tx, order_id: str) -> Doc:
    """The order, or :class:`NotChangeable` when there is none."""
    order = tx.get(ORDERS, order_id)
    if order is None:
        raise NotChangeable()
    return order


def may_see(tx: Tx, app: App, order: Doc, person: Doc | None) -> bool:
    """The resident, the family helper who ordered, any helper of the resident, a coordinator."""
    if person is None:
        return False
    if person["id"] in (order["person_id"], order["by"]):
        return True
    if any(r["id"] == order["person_id"] for r in people.relatives_of(tx, person["id"])):
        return True
    return people.has_role(app, person, people.COORDINATOR)


def visible_to(tx: Tx, person_id: str) -> list[Doc]:
    """A person's hot orders: their own, their relatives', and those they placed."""
    relatives = {r["id"] for r in people.relatives_of(tx, person_id)}
    mine = [
        o
        for o in tx.all(ORDERS)
        if o["person_id"] == person_id or o["by"] == person_id or o["person_id"] in relatives
    ]
    return sorted(mine, key=lambda o: o["created_at"], reverse=True)


def _move(order: Doc, status: OrderStatus, now: datetime) -> None:
    order["status"] = status.value
    order["updated_at"] = to_iso(now)
    order.setdefault("history", []).append({"status": status.value, "at": to_iso(now)})


def _save(tx: Tx, order: Doc) -> None:
    tx.put(ORDERS, order["id"], order)
    if order["status"] == OrderStatus.CANCELLED:
        tx.archive(ORDERS, order["id"])


def cancel(tx: Tx, app: App, order_id: str, actor: Doc | None, now: datetime) -> Doc:
    """The resident (or their helper) cancels until the order is packed; the units go back."""
    order = require_order(tx, order_id)
    if not may_see(tx, app, order, actor):
        raise NotYours()
    if order["status"] not in CANCELLABLE:
        raise NotChangeable()
    assert actor is not None
    _move(order, OrderStatus.CANCELLED, now)
    order["cancelled_by"] = actor["id"]
    _save(tx, order)
    stock.give_back(tx, app, order["listing_id"], order["household_key"], order["quantity"], now)
    tell_order(tx, app, order, "orders.note_cancelled", now, skip=actor["id"])
    announce.order_changed(tx, app, order, now)
    log.info("order %s cancelled", order_id)
    return order


# -- the vendor's steps -------------------------------------------------------------------------


def staff_step(
    tx: Tx, app: App, order_id: str, actor: Doc | None, verb: OrderVerb, now: datetime
) -> Doc:
    """Pack, hand over, picked up / delivered by the vendor, or give up delivering.

    Raises:
        NotStaff: the presser does not work for the order's vendor.
        NotChangeable: the order is not at the step this follows.
    """
    order = require_order(tx, order_id)
    require_staff(tx, app, actor, order["vendor_id"])
    status, way = OrderStatus(order["status"]), str(order["fulfilment"])
    if verb is OrderVerb.PACK and status is OrderStatus.CONFIRMED:
        _move(order, OrderStatus.PACKED, now)
        _save(tx, order)
        tell_order(tx, app, order, "orders.note_packed", now)
    elif verb is OrderVerb.HAND and status is OrderStatus.PACKED:
        _hand_over(tx, app, order, now)
    elif verb is OrderVerb.DONE and status is OrderStatus.HANDED_OVER and way != "community":
        finish(tx, app, order, now)
    elif verb is OrderVerb.GIVE_UP and way == "vendor" and status in LIVE_ORDERS:
        order["fulfilment"] = "community"
        order["given_up"] = True
        if status is OrderStatus.HANDED_OVER:
            _hand_over(tx, app, order, now, again=True)
        else:
            _save(tx, order)
            tell_order(tx, app, order, "orders.note_given_up", now)
    else:
        raise NotChangeable()
    log.info("order %s: staff %s", order_id, verb.value)
    return order


def _hand_over(tx: Tx, app: App, order: Doc, now: datetime, again: bool = False) -> None:
    """Ready at the pickup point, on the vendor's van, or in the grid's community delivery run."""
    if not again:
        _move(order, OrderStatus.HANDED_OVER, now)
    way = str(order["fulfilment"])
    if way == "community":
        gathering.add_to_run(tx, app, order, now)
        key = "orders.note_given_up" if again else "orders.note_to_community"
    elif way == "vendor":
        key = "orders.note_on_the_way"
    else:
        key = "orders.note_ready"
    _save(tx, order)
    tell_order(tx, app, order, key, now)


def finish(tx: Tx, app: App, order: Doc, now: datetime) -> None:
    """Picked up or delivered: told, and a follow-up about the goods the next day."""
    way = str(order["fulfilment"])
    done = OrderStatus.PICKED_UP if way.startswith(PICKUP_PREFIX) else OrderStatus.DELIVERED
    _move(order, done, now)
    order["finished_at"] = to_iso(now)
    _save(tx, order)
    if done is OrderStatus.PICKED_UP:
        tell_order(tx, app, order, "orders.note_picked_up", now)
    else:
        _tell_delivered(tx, order, now)
    hour = int(app.settings.get("orders", "follow_up_hour"))
    due = slots.next_day_at(now, hour, app.settings.timezone)
    timers.schedule(tx, FOLLOW_UP_JOB, [order["id"]], due, now, key=f"ofu:{order['id']}")


def _tell_delivered(tx: Tx, order: Doc, now: datetime) -> None:
    """ "Delivered" with a one-tap "I got it"."""

    def build(tr: Translator) -> Reply:
        got = Choice(tr.t("orders.got_it"), OrderStep(OrderVerb.RECEIVED, order["id"]).encode())
        return Reply(tr.t("orders.note_delivered", item=order_title(tx, order, tr)), ((got,),))

    tell(tx, [order["person_id"], order["by"]], build, now)


def received(tx: Tx, app: App, order_id: str, actor: Doc | None, now: datetime) -> Doc:
    """The resident confirms receipt with one tap (twice changes nothing)."""
    order = require_order(tx, order_id)
    if actor is None or actor["id"] not in (order["person_id"], order["by"]):
        raise NotYours()
    if order["status"] != OrderStatus.DELIVERED:
        raise NotChangeable()
    if not order.get("received_at"):
        order["received_at"] = to_iso(now)
        _save(tx, order)
    return order


def record_payment(
    tx: Tx, app: App, order_id: str, actor: Doc | None, method: str, amount: Decimal, now: datetime
) -> Doc:
    """Staff record how the resident paid (cash or transfer) and how much."""
    order = require_order(tx, order_id)
    require_staff(tx, app, actor, order["vendor_id"])
    if method not in PAYMENT_METHODS or order["status"] == OrderStatus.CANCELLED:
        raise NotChangeable()
    assert actor is not None
    order["payment"] = {
        "method": method,
        "amount": str(money(amount)),
        "at": to_iso(now),
        "by": actor["id"],
    }
    order["updated_at"] = to_iso(now)
    _save(tx, order)
    tell_order(tx, app, order, "orders.note_paid", now, amount=f"¥{money(amount)}")
    return order


# -- the next day --------------------------------------------------------------------------------


def follow_up_job(tx: Tx, app: App, order_id: str) -> None:
    """``orders.follow_up``: "how were the goods?", once; then the order leaves the hot file."""
    order = tx.get(ORDERS, order_id)
    if order is None or order.get("follow_up_sent_at"):
        return
    now = app.clock.now()
    order["follow_up_sent_at"] = to_iso(now)
    tx.put(ORDERS, order_id, order)
    tx.archive(ORDERS, order_id)

    def build(tr: Translator) -> Reply:
        good = OrderStep(OrderVerb.FOLLOW_UP, order_id, GOOD).encode()
        bad = SupervisionStep(SupervisionVerb.ORDER, order_id).encode()
        return Reply(
            tr.t("orders.follow_up", item=order_title(tx, order, tr)),
            choices=((Choice(tr.t("orders.fu_good"), good), Choice(tr.t("orders.fu_bad"), bad)),),
        )

    tell(tx, [order["person_id"]], build, now)


def answer_follow_up(tx: Tx, app: App, order_id: str, actor: Doc | None, answer: str) -> None:
    """Keep the answer to the follow-up (the first one counts)."""
    order = require_order(tx, order_id)
    if actor is None or actor["id"] not in (order["person_id"], order["by"]) or answer != GOOD:
        raise NotYours()
    if order.get("quality") is None:
        order["quality"] = answer
        tx.purge(ORDERS, order_id, order)


def for_vendor(tx: Tx, vendor_id: str) -> list[Doc]:
    """A vendor's live orders, by pickup point or grid, then building."""
    found = [o for o in tx.find(ORDERS, vendor_id=vendor_id) if o["status"] in LIVE_ORDERS]
    return sorted(found, key=lambda o: (group_of(o), building_key(o), o["created_at"]))


def group_of(order: Doc) -> str:
    """What a vendor packs by: the pickup point, or the grid for deliveries."""
    way = str(order["fulfilment"])
    return way if way.startswith(PICKUP_PREFIX) else f"grid:{order.get('grid_id') or ''}"


def building_key(order: Doc) -> tuple[str, str, str]:
    home = order.get("household") or {}
    return (str(home.get("complex", "")), str(home.get("building", "")), str(home.get("unit", "")))
