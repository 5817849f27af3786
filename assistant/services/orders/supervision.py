"""The supervision line (统一购监督中心): complaints about an order, a vendor or a supermarket.

A resident complains (quality, price, hygiene, delivery), optionally with a
photo (a neutral ``media:<id>`` reference). The complaint reaches the
supervision centre's coordinators with an "answer" button; the answer reaches
the resident. Open complaints are listed in a daily digest to the
coordinators (``orders.digest``, a durable timer kept only while some are open).

A hygiene complaint is the seam to the reports context: once that exists, the
composition root can set :data:`REPORT_SEAM` to turn such a complaint into a
report case; until then it is marked ``report_case: "pending"``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from assistant.clock import to_iso
from assistant.conversation.buttons import SupervisionStep, SupervisionVerb
from assistant.conversation.vocabulary import Choice, Reply
from assistant.domain import slots
from assistant.i18n import Translator
from assistant.jobs import timers
from assistant.services import people
from assistant.services.orders.notify import post_to, tell, vendor_of
from assistant.services.orders.records import (
    COMPLAINTS,
    ORDERS,
    Category,
    NotChangeable,
    NotYours,
)
from assistant.store.base import Doc, Tx, new_id

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

DIGEST_JOB = "orders.digest"
MAX_TEXT = 500
MAX_ANSWER = 500

REPORT_SEAM: Callable[[Tx, object, Doc, datetime], str] | None = None
"""Set by the reports context (later) to open a report case from a hygiene complaint."""


def complain(
    tx: Tx,
    app: App,
    person: Doc | None,
    vendor_id: str,
    order_id: str,
    category: str,
    text: str,
    photo: str,
    now: datetime,
) -> Doc:
    """Record a complaint and tell the supervision centre's coordinators; return it.

    Raises:
        NotYours: an order that is not the person's, or nobody registered.
        NotChangeable: an unknown vendor or category.
    """
    if person is None:
        raise NotYours()
    if order_id:
        order = tx.get(ORDERS, order_id)
        if order is None or person["id"] not in (order["person_id"], order["by"]):
            raise NotYours()
        vendor_id = order["vendor_id"]
    if vendor_of(tx, vendor_id) is None or category not in set(Category):
        raise NotChangeable()
    complaint: Doc = {
        "person_id": person["id"],
        "vendor_id": vendor_id,
        "order_id": order_id or None,
        "category": category,
        "text": " ".join(text.split())[:MAX_TEXT],
        "photo": photo,
        "status": "open",
        "grid_id": person.get("grid_id"),
        "created_at": to_iso(now),
    }
    if category == Category.HYGIENE:
        complaint["report_case"] = "pending" if REPORT_SEAM is None else None
    complaint_id = new_id("cp")
    tx.put(COMPLAINTS, complaint_id, complaint)
    complaint["id"] = complaint_id
    if category == Category.HYGIENE and REPORT_SEAM is not None:
        complaint["report_case"] = REPORT_SEAM(tx, app, complaint, now)
        tx.put(COMPLAINTS, complaint_id, complaint)
    _tell_coordinators(tx, app, complaint, person, now)
    _ensure_digest(tx, app, now)
    log.info("complaint %s (%s) about vendor %s", complaint_id, category, vendor_id)
    return complaint


def describe(tx: Tx, complaint: Doc, tr: Translator) -> str:
    """Vendor, category and what was said (for coordinators; personal words of the resident)."""
    vendor = vendor_of(tx, complaint["vendor_id"])
    return tr.t(
        "orders.complaint_text",
        vendor=vendor.name(tr.is_chinese) if vendor else complaint["vendor_id"],
        category=tr.t(f"orders.category_{complaint['category']}"),
        text=complaint["text"] or "—",
        photo=tr.t("orders.with_photo") if complaint.get("photo") else "",
    )


def _tell_coordinators(tx: Tx, app: App, complaint: Doc, person: Doc, now: datetime) -> None:
    answer = SupervisionStep(SupervisionVerb.ANSWER, complaint["id"]).encode()

    def build(tr: Translator) -> Reply:
        text = tr.t(
            "orders.complaint_new",
            what=describe(tx, complaint, tr),
            name=person.get("name", ""),
            phone=person.get("phone") or "—",
        )
        return Reply(text, choices=((Choice(tr.t("orders.answer"), answer),),))

    for coordinator in people.coordinators_for(tx, complaint.get("grid_id")):
        post_to(tx, coordinator, build, now)


def answerable(tx: Tx, app: App, complaint_id: str, coordinator: Doc | None) -> Doc:
    """The open complaint, if the person is a coordinator (checked again when answering)."""
    if not people.has_role(app, coordinator, people.COORDINATOR):
        raise NotYours()
    complaint = tx.get(COMPLAINTS, complaint_id)
    if complaint is None or complaint["status"] != "open":
        raise NotChangeable()
    return complaint


def answer(
    tx: Tx, app: App, complaint_id: str, coordinator: Doc | None, text: str, now: datetime
) -> Doc:
    """A coordinator answers; the resident is told and the complaint is closed."""
    complaint = answerable(tx, app, complaint_id, coordinator)
    assert coordinator is not None
    complaint["status"] = "answered"
    complaint["answer"] = " ".join(text.split())[:MAX_ANSWER]
    complaint["answered_by"] = coordinator["id"]
    complaint["answered_at"] = to_iso(now)
    tx.put(COMPLAINTS, complaint_id, complaint)
    tx.archive(COMPLAINTS, complaint_id)

    def build(tr: Translator) -> Reply:
        return Reply(tr.t("orders.note_answer", answer=complaint["answer"]))

    tell(tx, [complaint["person_id"]], build, now)
    log.info("complaint %s answered", complaint_id)
    return complaint


def open_complaints(tx: Tx) -> list[Doc]:
    """Complaints not yet answered, oldest first."""
    found = [c for c in tx.find(COMPLAINTS, status="open")]
    return sorted(found, key=lambda c: c["created_at"])


def _ensure_digest(tx: Tx, app: App, now: datetime) -> None:
    hour = int(app.settings.get("dispatch", "digest_hour"))
    due = slots.next_day_at(now, hour, app.settings.timezone)
    day = slots.local_day(due, app.settings.timezone).isoformat()
    timers.schedule(tx, DIGEST_JOB, [day], due, now, key=f"odigest:{day}")


def digest_job(tx: Tx, app: App, day: str) -> None:
    """``orders.digest``: open complaints to the coordinators, again tomorrow while some are open."""
    found = open_complaints(tx)
    if not found:
        return
    now = app.clock.now()

    def build(tr: Translator) -> Reply:
        lines = [tr.t("orders.digest", count=len(found))]
        lines += [f"· {describe(tx, c, tr)}" for c in found[:10]]
        return Reply("\n".join(lines))

    for coordinator in people.coordinators_for(tx, None):
        post_to(tx, coordinator, build, now)
    _ensure_digest(tx, app, now)
