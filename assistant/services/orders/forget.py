"""What the orders context forgets of a person at ``/forget``, inside that unit of work.

What is still to come is stopped: live holds give their units back, orders not
yet packed are cancelled (units back, lists edited), waiting-list places and
the subscription go; a household on a delivery run leaves the run's sheet
(what only its volunteer sees is written again without it). What stays for the centre's counts is anonymous: orders
keep listing, quantity, money and status but lose the home copy; complaints
lose their words and photo. Archived records are rewritten with ``tx.purge``,
so no earlier version stays on disk.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from assistant.clock import to_iso
from assistant.services.orders import announce, runs, stock
from assistant.services.orders.records import (
    COMPLAINTS,
    HOLDS,
    ORDERS,
    SUBSCRIBERS,
    WAITLIST,
    OrderStatus,
)
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)


def forget(tx: Tx, app: App, person_id: str, addresses: frozenset[str], now: datetime) -> None:
    """The orders context's forgetter (registered by ``bootstrap.forgetters``)."""
    stock.forget_holds(tx, app, person_id, now)
    for order in tx.all(ORDERS):
        if person_id not in (order["person_id"], order["by"]):
            continue
        if order["status"] == OrderStatus.CONFIRMED:
            _cancel_quietly(tx, app, order, now)
        if order.get("run_id"):
            runs.forget_in_runs(tx, app, order, now)
        tx.purge(ORDERS, order["id"], _anonymous(order))
    for order in list(tx.archived(ORDERS)):
        if person_id in (order["person_id"], order["by"]):
            tx.purge(ORDERS, order["id"], _anonymous(order))
    for collection in (WAITLIST, HOLDS):  # holds: those an earlier version kept in the store
        for entry in [*tx.all(collection), *tx.archived(collection)]:
            if person_id in (entry.get("person_id"), entry.get("by")):
                tx.purge(collection, entry["id"])
    tx.purge(SUBSCRIBERS, person_id)
    for complaint in [*tx.all(COMPLAINTS), *tx.archived(COMPLAINTS)]:
        if complaint.get("person_id") == person_id:
            kept = {k: v for k, v in complaint.items() if k not in ("text", "photo", "answer")}
            kept["status"] = "answered" if complaint.get("status") != "open" else "withdrawn"
            tx.purge(COMPLAINTS, complaint["id"], kept)
    log.info("orders forgot a person")


def _cancel_quietly(tx: Tx, app: App, order: Doc, now: datetime) -> None:
    """Cancel an order of a forgotten person: units back, lists edited, nobody told."""
    order["status"] = OrderStatus.CANCELLED.value
    order["updated_at"] = to_iso(now)
    order["cancelled_by"] = "forget"
    stock.give_back(tx, app, order["listing_id"], order["household_key"], order["quantity"], now)
    announce.order_changed(tx, app, order, now)


def _anonymous(order: Doc) -> Doc:
    """The order without the home copy and history details."""
    kept = dict(order)
    kept["household"] = {}
    kept["history"] = [
        {"status": step.get("status", ""), "at": step.get("at", "")}
        for step in order.get("history", [])
    ]
    return kept
