"""Listings from a CSV file, and a vendor's orders to a CSV file (UTF-8 with BOM).

Import columns (``assistant import listings FILE.csv``)::

    vendor_id,title_zh,title_en,unit,price,sale_price,stock,limit,starts_at,ends_at,delivery,pickup_points

``price`` and ``sale_price`` are yuan with at most two decimals (``19.90``;
``sale_price`` may be empty: no discount); ``stock`` and ``limit`` whole
numbers; ``starts_at`` / ``ends_at`` local time ``2026-06-02 19:00`` (or ISO
with an offset); ``delivery`` one or more of ``pickup;vendor;community``;
``pickup_points`` the vendor's point ids, ``;``-separated. The whole file is
checked before anything is written: an error names the row and the column,
and a bad file imports nothing. The same file imported again adds nothing.

The export writes UTF-8 with a byte-order mark, so spreadsheet programs open
the Chinese correctly.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from assistant.clock import from_iso
from assistant.domain.numbers import is_digits
from assistant.services.orders import listings
from assistant.services.orders.notify import vendor_of
from assistant.services.orders.records import (
    LISTINGS,
    ORDERS,
    BadMoney,
    Delivery,
    Vendor,
    building_unit,
    money,
)
from assistant.services.people import community
from assistant.services.people.imports import ImportError_
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from assistant.app import App

LISTING_COLUMNS = (
    "vendor_id",
    "title_zh",
    "title_en",
    "unit",
    "price",
    "sale_price",
    "stock",
    "limit",
    "starts_at",
    "ends_at",
    "delivery",
    "pickup_points",
)
EXPORT_COLUMNS = (
    "order_id",
    "created_at",
    "status",
    "title",
    "quantity",
    "unit",
    "unit_price",
    "total",
    "fulfilment",
    "grid",
    "building_unit",
    "address",
    "name",
    "phone",
    "payment_method",
    "payment_amount",
)


def _when(text: str, zone: ZoneInfo) -> datetime:
    moment = datetime.fromisoformat(text.strip().replace("/", "-"))
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _whole(text: str) -> int:
    value = text.strip()
    if not is_digits(value) or len(value) > 6:
        raise ValueError(value)
    return int(value)


def parse_listings(tx: Tx, text: str, zone: ZoneInfo) -> list[listings.ListingDraft]:
    """Every row as a draft, or :class:`ImportError_` naming the first bad row and column."""
    drafts: list[listings.ListingDraft] = []
    for number, row in _rows(text):
        vendor = vendor_of(tx, row["vendor_id"])
        draft = _draft(number, row, zone)
        for column, problem in listings.problems(draft, vendor):
            raise ImportError_(f"row {number}, column {column}: {problem}")
        drafts.append(draft)
    return drafts


def _rows(text: str) -> list[tuple[int, dict[str, str]]]:
    """The file's rows with their numbers (the header is row 1); empty rows skipped."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [name for name in LISTING_COLUMNS if name not in header]
    if missing:
        raise ImportError_(f"row 1: missing column(s) {', '.join(missing)}")
    unknown = [name for name in header if name not in LISTING_COLUMNS]
    if unknown:
        raise ImportError_(f"row 1: unknown column(s) {', '.join(unknown)}")
    found: list[tuple[int, dict[str, str]]] = []
    for number, row in enumerate(reader, start=2):
        if None in row:
            raise ImportError_(f"row {number}: more values than columns")
        cleaned = {key.strip(): (value or "").strip() for key, value in row.items() if key}
        if any(cleaned.values()):
            found.append((number, cleaned))
    return found


def _draft(number: int, row: dict[str, str], zone: ZoneInfo) -> listings.ListingDraft:
    def fail(column: str, what: str) -> ImportError_:
        return ImportError_(f"row {number}, column {column}: {what}")

    values: dict[str, object] = {}
    for column in ("price", "sale_price"):
        raw = row[column] or (row["price"] if column == "sale_price" else "")
        try:
            values[column] = money(raw)
        except BadMoney:
            raise fail(column, f"{raw!r} is not an amount like 19.90") from None
    for column in ("stock", "limit"):
        try:
            values[column] = _whole(row[column])
        except ValueError:
            raise fail(column, f"{row[column]!r} is not a whole number") from None
    for column in ("starts_at", "ends_at"):
        try:
            values[column] = _when(row[column], zone)
        except ValueError:
            raise fail(column, f"{row[column]!r} is not a time like 2026-06-02 19:00") from None
    try:
        delivery = tuple(Delivery(d.strip()) for d in row["delivery"].split(";") if d.strip())
    except ValueError:
        raise fail("delivery", "use pickup, vendor, community (;-separated)") from None
    points = tuple(p.strip() for p in row["pickup_points"].split(";") if p.strip())
    price, sale = values["price"], values["sale_price"]
    assert isinstance(price, Decimal) and isinstance(sale, Decimal)
    return listings.ListingDraft(
        vendor_id=row["vendor_id"],
        title_zh=row["title_zh"],
        title_en=row["title_en"],
        unit=row["unit"],
        price=price,
        sale_price=sale,
        stock=int(str(values["stock"])),
        limit=int(str(values["limit"])),
        starts_at=values["starts_at"],  # type: ignore[arg-type]
        ends_at=values["ends_at"],  # type: ignore[arg-type]
        delivery=delivery,
        pickup_points=points,
    )


def import_listings(app: App, text: str, by: str = "import") -> tuple[int, int]:
    """Check the whole file, then store every listing in one unit of work; (added, already there)."""
    now = app.clock.now()
    with app.unit() as tx:
        drafts = parse_listings(tx, text, app.settings.timezone)
        added = 0
        for draft in drafts:
            if tx.get(LISTINGS, listings.stable_id(draft)) is None:
                listings.create(tx, draft, by, now)
                added += 1
    return added, len(drafts) - added


def export_orders(tx: Tx, app: App, vendor: Vendor, day: date) -> str:
    """A vendor's orders made on one local day as CSV text (write it with ``utf-8-sig``).

    The file holds names, addresses and phones (the vendor needs them to deliver):
    it is written with the private umask, like every file of the assistant.
    """
    zone = app.settings.timezone
    found = [
        o
        for o in [*tx.find(ORDERS, vendor_id=vendor.id), *tx.archived(ORDERS)]
        if o.get("vendor_id") == vendor.id
        and from_iso(o["created_at"]).astimezone(zone).date() == day
    ]
    unique = {o["id"]: o for o in found}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for order in sorted(unique.values(), key=lambda o: o["created_at"]):
        writer.writerow(_export_row(tx, order))
    return out.getvalue()


def _export_row(tx: Tx, order: Doc) -> list[str]:
    person = tx.get("people", order["person_id"]) or {}
    payment = order.get("payment") or {}
    return [
        order["id"],
        order["created_at"],
        order["status"],
        order.get("title_zh", ""),
        str(order["quantity"]),
        order.get("unit", ""),
        order.get("unit_price", ""),
        order.get("total", ""),
        order.get("fulfilment", ""),
        community.grid_name(tx, order.get("grid_id")),
        building_unit(order.get("household")),
        community.describe_household(order.get("household") or None, True),
        str(person.get("name", "")),
        str(person.get("phone", "")),
        str(payment.get("method", "")),
        str(payment.get("amount", "")),
    ]
