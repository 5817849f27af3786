"""Gathering community deliveries: a grid's handed-over orders wait a little, then go as one run.

An order for community delivery (社区兜底配送), or one whose vendor gave up
delivering, joins the open run of its micro-grid when it is handed over. The
first order of a run schedules ``orders.dispatch_run`` ``[orders]
run_gather_minutes`` ahead, so orders packed together go together; the run is
then dispatched as one "delivery run" task (:mod:`~assistant.services.orders.runs`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from assistant.clock import to_iso
from assistant.jobs import timers
from assistant.services.orders.records import RUNS
from assistant.store.base import Doc, Tx, new_id

if TYPE_CHECKING:
    from assistant.app import App

DISPATCH_RUN_JOB = "orders.dispatch_run"
GATHERING = "gathering"


def add_to_run(tx: Tx, app: App, order: Doc, now: datetime) -> Doc:
    """Put an order in its grid's gathering run (a new run starts its own timer); return the run."""
    grid_id = str(order.get("grid_id") or "")
    found = [r for r in tx.find(RUNS, grid_id=grid_id, status=GATHERING)]
    if found:
        run = found[0]
    else:
        run = {"grid_id": grid_id, "status": GATHERING, "orders": [], "created_at": to_iso(now)}
        run["id"] = new_id("rn")
        wait = timedelta(minutes=float(app.settings.get("orders", "run_gather_minutes")))
        timers.schedule(tx, DISPATCH_RUN_JOB, [run["id"]], now + wait, now, key=f"run:{run['id']}")
    if order["id"] not in run["orders"]:
        run["orders"] = [*run["orders"], order["id"]]
    tx.put(RUNS, run["id"], run)
    order["run_id"] = run["id"]
    return run
