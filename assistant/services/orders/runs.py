"""Community delivery runs (社区兜底配送): dispatched to volunteers as the task kind "delivery run".

``orders.dispatch_run`` opens one dispatch task per gathered run with the
delivery skill, in the run's micro-grid: dispatch offers it in waves, first
accept wins. The offer shows only "community delivery, N households", the
grid and the residential complexes; the households' addresses, names and
phones are the task's private part, revealed by dispatch only to the
volunteer who accepts. When dispatch says "assigned", :func:`heard` sends
that volunteer the run sheet in building order with "delivered" / "not home"
on each line. A delivered order asks the resident for one tap to confirm; a
not-home order goes back to the vendor's pickup point and the resident is told.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.clock import to_iso
from assistant.conversation.buttons import OrderStep, OrderVerb
from assistant.conversation.vocabulary import Choice, Reply
from assistant.i18n import Translator, translator
from assistant.services import people
from assistant.services.orders import ordering
from assistant.services.orders.gathering import GATHERING
from assistant.services.orders.notify import order_title, post_to, tell_order, vendor_of
from assistant.services.orders.records import (
    ORDERS,
    PICKUP_PREFIX,
    RUN_KIND,
    RUN_SKILL,
    RUNS,
    NotChangeable,
    NotYours,
    OrderStatus,
)
from assistant.services.people import community
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

CENTRE_POINT = "centre"
"""Where a not-home order waits when its vendor has no pickup point: the neighbourhood centre."""


def _waiting(tx: Tx, run: Doc) -> list[Doc]:
    """The run's orders still to deliver, in building order."""
    found = [tx.get(ORDERS, order_id) for order_id in run.get("orders", [])]
    live = [
        o
        for o in found
        if o is not None
        and o["status"] == OrderStatus.HANDED_OVER
        and o["fulfilment"] == "community"
    ]
    return sorted(live, key=ordering.building_key)


def _line(tx: Tx, number: int, order: Doc, tr: Translator) -> str:
    """``1. 锦绣家园 1栋 1单元 302 · 林奶奶 138… · 赣南脐橙 ×2箱`` (personal data)."""
    person = tx.get(people.PEOPLE, order["person_id"]) or {}
    place = community.describe_household(order.get("household") or None, tr.is_chinese)
    return tr.t(
        "orders.run_line",
        number=number,
        place=place or tr.t("orders.no_address"),
        name=person.get("name", ""),
        phone=person.get("phone") or "—",
        item=order_title(tx, order, tr),
    )


def dispatch_run_job(tx: Tx, app: App, run_id: str) -> None:
    """``orders.dispatch_run``: open the run's "delivery run" task (once)."""
    run = tx.get(RUNS, run_id)
    if run is None or run["status"] != GATHERING:
        return
    waiting = _waiting(tx, run)
    if not waiting:
        run["status"] = "empty"
        tx.put(RUNS, run_id, run)
        tx.archive(RUNS, run_id)
        return
    now = app.clock.now()
    zh, en = translator("zh_CN"), translator("en")
    complexes = sorted({str((o.get("household") or {}).get("complex", "")) for o in waiting} - {""})
    count = len(waiting)
    run["task_id"] = app.dispatch.open_task(
        tx,
        app,
        kind=RUN_KIND,
        ref=run_id,
        skill=RUN_SKILL,
        grid_id=run["grid_id"] or None,
        starts_at=now,
        duration_minutes=30 + 10 * count,
        summary={
            "title_zh": zh.t("orders.run_title", count=count),
            "title_en": en.t("orders.run_title", count=count),
            "grid_name": community.grid_name(tx, run["grid_id"] or None),
            "place": "、".join(complexes),
        },
        private=private_part(tx, waiting),
        requester_id="",
        payload={"orders": count},
    )
    run["status"] = "dispatched"
    run["dispatched_at"] = to_iso(now)
    tx.put(RUNS, run_id, run)
    log.info("delivery run %s dispatched with %d orders", run_id, count)


def heard(tx: Tx, app: App, run_id: str, event: str, task: dict[str, Any]) -> None:
    """The delivery run's listener: the winner gets the run sheet; setbacks are recorded.

    Events are at least once: each reaction checks what it already did.
    """
    run = tx.get(RUNS, run_id)
    if run is None:
        return
    now = app.clock.now()
    assignee = str(task.get("assignee_id") or "")
    if event == "assigned" and assignee and run.get("assignee_id") != assignee:
        run["assignee_id"] = assignee
        run["status"] = "assigned"
        tx.put(RUNS, run_id, run)
        _send_sheet(tx, app, run, assignee, now)
        for order in _waiting(tx, run):
            tell_order(tx, app, order, "orders.note_run_assigned", now)
    elif event == "dropped" and run.get("assignee_id"):
        run["assignee_id"] = None
        run["status"] = "dispatched"
        tx.put(RUNS, run_id, run)
    elif event == "failed":
        for order in _waiting(tx, run):
            back_to_pickup(tx, app, order, now, "orders.note_run_failed")
        _close_if_done(tx, app, run)
    elif event == "done" and run.get("status") != "done":
        run["task_done"] = True
        tx.put(RUNS, run_id, run)
        _close_if_done(tx, app, run)


def _send_sheet(tx: Tx, app: App, run: Doc, volunteer_id: str, now: datetime) -> None:
    """The run's list in building order, each household with "delivered" and "not home"."""
    volunteer = tx.get(people.PEOPLE, volunteer_id)
    if volunteer is None:
        return
    waiting = _waiting(tx, run)

    def build(tr: Translator) -> Reply:
        lines = [tr.t("orders.run_sheet", count=len(waiting))]
        buttons: list[tuple[Choice, ...]] = []
        for number, order in enumerate(waiting, start=1):
            lines.append(_line(tx, number, order, tr))
            buttons.append(
                (
                    Choice(
                        tr.t("orders.delivered_n", number=number),
                        OrderStep(OrderVerb.DELIVERED, order["id"]).encode(),
                    ),
                    Choice(
                        tr.t("orders.not_home_n", number=number),
                        OrderStep(OrderVerb.NOT_HOME, order["id"]).encode(),
                    ),
                )
            )
        return Reply("\n".join(lines), choices=tuple(buttons))

    post_to(tx, volunteer, build, now)


def volunteer_step(
    tx: Tx, app: App, order_id: str, actor: Doc | None, verb: OrderVerb, now: datetime
) -> Doc:
    """The run's volunteer marks one household delivered or not at home.

    Raises:
        NotYours: the presser is not the volunteer of this order's run.
        NotChangeable: the order was already marked (or is no community delivery).
    """
    order = ordering.require_order(tx, order_id)
    run = tx.get(RUNS, str(order.get("run_id") or ""))
    if run is None or actor is None or run.get("assignee_id") != actor["id"]:
        raise NotYours()
    if order["status"] != OrderStatus.HANDED_OVER or order["fulfilment"] != "community":
        raise NotChangeable()
    if verb is OrderVerb.DELIVERED:
        ordering.finish(tx, app, order, now)
    elif verb is OrderVerb.NOT_HOME:
        back_to_pickup(tx, app, order, now, "orders.note_not_home")
    else:
        raise NotChangeable()
    _close_if_done(tx, app, run)
    log.info("order %s: run step %s", order_id, verb.value)
    return order


def back_to_pickup(tx: Tx, app: App, order: Doc, now: datetime, key: str) -> None:
    """Nobody was at home (or the run failed): the order waits at a pickup point; told."""
    order["fulfilment"] = _pickup_point(tx, order)
    order["returned_at"] = to_iso(now)
    order["updated_at"] = to_iso(now)
    order.setdefault("history", []).append({"status": "back_to_pickup", "at": to_iso(now)})
    tx.put(ORDERS, order["id"], order)
    tell_order(tx, app, order, key, now)


def _pickup_point(tx: Tx, order: Doc) -> str:
    """Where an order that cannot be delivered waits: its vendor's first point, else the centre."""
    vendor = vendor_of(tx, order["vendor_id"])
    point = vendor.pickup_points[0].id if vendor and vendor.pickup_points else CENTRE_POINT
    return PICKUP_PREFIX + point


def _close_if_done(tx: Tx, app: App, run: Doc) -> None:
    """A run whose orders are all marked is done: its task closes and it leaves the hot file."""
    fresh = tx.get(RUNS, run["id"])
    if fresh is None or fresh.get("status") == "done" or _waiting(tx, fresh):
        return
    fresh["status"] = "done"
    tx.put(RUNS, fresh["id"], fresh)
    tx.archive(RUNS, fresh["id"])
    if fresh.get("task_id"):
        app.dispatch.complete_task(tx, app, fresh["task_id"])


def private_part(tx: Tx, waiting: list[Doc]) -> dict[str, str]:
    """The run sheet only its volunteer sees: every household's place, name and phone."""
    zh, en = translator("zh_CN"), translator("en")
    return {
        "name": zh.t("orders.run_households", count=len(waiting)),
        "address_zh": "\n" + "\n".join(_line(tx, n, o, zh) for n, o in enumerate(waiting, 1)),
        "address_en": "\n" + "\n".join(_line(tx, n, o, en) for n, o in enumerate(waiting, 1)),
        "phone": "",
        "notes": zh.t("orders.run_notes"),
    }


def forget_in_runs(tx: Tx, app: App, order: Doc, now: datetime) -> None:
    """An order of a person who asked to be forgotten leaves its delivery run.

    It waits at the pickup point instead (nobody is told: there is nobody to
    tell), the run's sheet is written again without that household, and a run
    left with nothing to deliver is done.
    """
    run = tx.get(RUNS, str(order.get("run_id") or ""))
    if run is None or run.get("status") == "done":
        return
    if order["status"] == OrderStatus.HANDED_OVER and order["fulfilment"] == "community":
        order["fulfilment"] = _pickup_point(tx, order)
        order["updated_at"] = to_iso(now)
        tx.put(ORDERS, order["id"], order)
    run["orders"] = [o for o in run.get("orders", []) if o != order["id"]]
    tx.put(RUNS, run["id"], run)
    if run.get("task_id"):
        app.dispatch.revise_private(tx, app, run["task_id"], private_part(tx, _waiting(tx, run)))
    _close_if_done(tx, app, run)


def runs_of(tx: Tx, volunteer_id: str) -> list[Doc]:
    """The runs a volunteer holds now."""
    return [r for r in tx.find(RUNS, assignee_id=volunteer_id) if r["status"] == "assigned"]
