"""The orders context's vocabulary: collections, statuses, errors, money, and the typed records.

Everything else on the orders side builds on this module and nothing here
calls back. Records are JSON documents at the store edge and frozen
dataclasses where they are read (:class:`Listing`,
:class:`Order`); money is :class:`~decimal.Decimal`, stored as a string
(``"12.80"``), never a float.

Collections::

    vendors          a vendor: names, kind, staff addresses, pickup points, delivers itself
    listings         one listing: titles, vendor, unit, prices, stock, available (units not in
                     an order) and its ``ver``, limit, sale window, delivery options, pickup
                     points, paused / ended_at
    holds            holds kept by an earlier version (live holds are in the hold counter,
                     :mod:`~.counter`); swept by the next lapse of their listing
    order_quota      units ordered per listing and household (``<listing>|<household>``), ``ver``
    orders           a confirmed order (archived once finished)
    waitlist         residents waiting for a sold-out listing, in order
    sale_lists       the 接龙 list of a listing in one grid's group (``<listing>|<grid>``)
    shop_subscribers residents who want the going-live announcements
    delivery_runs    a community delivery run: a grid's handed-over community orders
    complaints       the supervision line's complaints

Statuses::

    hold:   held ─► confirming ─► (settled: an order) | lapsed | released   (in the counter)
    order:  confirmed ─► packed ─► handed_over ─► picked_up | delivered (─► received)
               └──────────┴─► cancelled            └─ not home: back to a pickup point
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from assistant.clock import from_iso
from assistant.errors import Refusal
from assistant.services.people import community

VENDORS = "vendors"
LISTINGS = "listings"
HOLDS = "holds"
QUOTA = "order_quota"
ORDERS = "orders"
WAITLIST = "waitlist"
SALE_LISTS = "sale_lists"
SUBSCRIBERS = "shop_subscribers"
RUNS = "delivery_runs"
COMPLAINTS = "complaints"

STAFF_ROLE = "vendor"
"""The role of a vendor's staff: it shows them /vendor, /newlisting and /onstream.

Which vendor they may manage is still checked against the vendor's staff
addresses inside every deciding transaction.
"""

RUN_KIND = "delivery_run"
"""The dispatch task kind of a community delivery run."""
RUN_SKILL = "delivery"

MAX_QUANTITY = 999
UNIT_EN = {
    "斤": "jin",
    "公斤": "kg",
    "箱": "box",
    "袋": "bag",
    "个": "piece",
    "份": "portion",
    "盒": "pack",
    "瓶": "bottle",
    "只": "piece",
    "件": "piece",
}
"""The usual units in English (a unit typed in other Chinese words reads "unit")."""
UNIT_EN_PLURAL = {
    "box": "boxes",
    "bag": "bags",
    "piece": "pieces",
    "portion": "portions",
    "pack": "packs",
    "bottle": "bottles",
    "unit": "units",
}
"""English plurals of those units (jin and kg stay as they are)."""


def unit_words(unit: str, chinese: bool, count: int = 1) -> str:
    """A unit as the reader says it for ``count`` of it: ``箱`` / ``box`` / ``boxes``."""
    if chinese:
        return unit
    word = UNIT_EN.get(unit, unit if unit.isascii() else "unit")
    return word if count == 1 else UNIT_EN_PLURAL.get(word, word)


MAX_PRICE = Decimal("100000")
CENT = Decimal("0.01")


class HoldStatus(StrEnum):
    """Where a hold stands."""

    HELD = "held"
    CONFIRMED = "confirmed"
    LAPSED = "lapsed"
    RELEASED = "released"


class OrderStatus(StrEnum):
    """Where an order stands (stored as its string value)."""

    CONFIRMED = "confirmed"
    PACKED = "packed"
    HANDED_OVER = "handed_over"
    PICKED_UP = "picked_up"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


LIVE_ORDERS = (OrderStatus.CONFIRMED, OrderStatus.PACKED, OrderStatus.HANDED_OVER)
FINISHED_ORDERS = (OrderStatus.PICKED_UP, OrderStatus.DELIVERED)
CANCELLABLE = (OrderStatus.CONFIRMED,)


class Delivery(StrEnum):
    """How a listing's goods reach the resident."""

    PICKUP = "pickup"
    VENDOR = "vendor"
    COMMUNITY = "community"


PICKUP_PREFIX = "pickup:"
"""An order's ``fulfilment`` is ``pickup:<point id>``, ``vendor`` or ``community``."""


class VendorKind(StrEnum):
    """What kind of vendor: the livestream room, a supermarket, a farm."""

    LIVESTREAM = "livestream"
    SUPERMARKET = "supermarket"
    FARM = "farm"


class Category(StrEnum):
    """What a complaint is about."""

    QUALITY = "quality"
    PRICE = "price"
    HYGIENE = "hygiene"
    DELIVERY = "delivery"


# -- errors --------------------------------------------------------------------------------


class OrdersError(Refusal):
    """An orders change that cannot be made; ``key`` is the message to reply with."""

    key = "orders.refused"


class NotOnSale(OrdersError):
    """The listing is not on sale now (not started yet, or paused)."""

    key = "orders.not_on_sale"


class SaleEnded(OrdersError):
    """The sale window closed, or staff ended it early."""

    key = "orders.sale_ended"


class SoldOut(OrdersError):
    """No unit left to hold (``left`` may be more than zero but fewer than asked)."""

    key = "orders.sold_out"


class NotEnough(OrdersError):
    """Fewer units left than asked for; ``left`` says how many."""

    key = "orders.not_enough"


class OverLimit(OrdersError):
    """The household would pass the listing's limit; ``left`` says how many it may still take."""

    key = "orders.over_limit"


class BadQuantity(OrdersError):
    """Zero, negative, absurd, or not a whole number."""

    key = "orders.bad_quantity"


class HoldLapsed(OrdersError):
    """The hold was not confirmed in time and its stock went back."""

    key = "orders.hold_lapsed"


class AlreadyOrdered(OrdersError):
    """This hold already became an order (a second press of "order")."""

    key = "orders.already_ordered"


class NotYours(OrdersError):
    """The person may not do this to this record."""

    key = "orders.not_yours"


class NotChangeable(OrdersError):
    """The order (or listing) is past the point where this change makes sense."""

    key = "orders.not_changeable"


class BadFulfilment(OrdersError):
    """A way of delivery the listing does not offer."""

    key = "orders.bad_fulfilment"


class NotStaff(OrdersError):
    """Only the vendor's staff or a coordinator may do this."""

    key = "orders.not_staff"


class AlreadyWaiting(OrdersError):
    """The person is already on this listing's waiting list."""

    key = "orders.already_waiting"


# -- money ---------------------------------------------------------------------------------


class BadMoney(ValueError):
    """Text that is not an amount of yuan with at most two decimals."""


def money(value: Any) -> Decimal:
    """An amount of yuan from text or a stored string: ``"12.8"`` → ``Decimal("12.80")``.

    Floats are refused on purpose: they cannot hold 0.1 exactly.

    Raises:
        BadMoney: not a finite amount of at least 0 and under 100,000, or more than 2 decimals.
    """
    if isinstance(value, float | bool):
        raise BadMoney("money is never a float")
    text = str(value).strip().replace("￥", "").replace("¥", "").replace("元", "").strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise BadMoney(text) from None
    if not amount.is_finite() or amount < 0 or amount >= MAX_PRICE:
        raise BadMoney(text)
    if amount != amount.quantize(CENT):
        raise BadMoney(text)
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money_text(amount: Decimal) -> str:
    """``¥12.80``, or ``¥12`` for whole yuan."""
    if amount == amount.to_integral_value():
        return f"¥{int(amount)}"
    return f"¥{amount:.2f}"


# -- typed records ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PickupPoint:
    """One pickup point (自提点) of a vendor."""

    id: str
    name_zh: str
    name_en: str

    def name(self, chinese: bool) -> str:
        """The point's name in one language (English falls back to the Chinese name)."""
        return self.name_zh if chinese or not self.name_en else self.name_en


@dataclass(frozen=True)
class Vendor:
    """A vendor, as stored in ``vendors``."""

    id: str
    name_zh: str
    name_en: str
    kind: VendorKind
    staff: tuple[str, ...] = ()
    pickup_points: tuple[PickupPoint, ...] = ()
    delivers: bool = False

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Vendor:
        """The vendor of a stored document."""
        return cls(
            id=str(doc["id"]),
            name_zh=str(doc["name_zh"]),
            name_en=str(doc.get("name_en") or doc["name_zh"]),
            kind=VendorKind(doc.get("kind", VendorKind.SUPERMARKET)),
            staff=tuple(doc.get("staff", ())),
            pickup_points=tuple(PickupPoint(**p) for p in doc.get("pickup_points", ())),
            delivers=bool(doc.get("delivers", False)),
        )

    def to_doc(self) -> dict[str, Any]:
        """The document to store."""
        return {
            "id": self.id,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "kind": self.kind.value,
            "staff": list(self.staff),
            "pickup_points": [
                {"id": p.id, "name_zh": p.name_zh, "name_en": p.name_en} for p in self.pickup_points
            ],
            "delivers": self.delivers,
        }

    def name(self, chinese: bool) -> str:
        """The vendor's name in one language."""
        return self.name_zh if chinese else self.name_en

    def point(self, point_id: str) -> PickupPoint | None:
        """One of its pickup points by id."""
        return next((p for p in self.pickup_points if p.id == point_id), None)


@dataclass(frozen=True)
class Listing:
    """A listing, as stored in ``listings``; extra fields are kept in ``extra``."""

    id: str
    vendor_id: str
    title_zh: str
    title_en: str
    unit: str
    price: Decimal
    sale_price: Decimal
    stock: int
    available: int
    """Units not in an order (the store's count); what is left to hold is :func:`~.stock.left_now`."""
    limit: int
    starts_at: datetime
    ends_at: datetime
    delivery: tuple[Delivery, ...]
    pickup_points: tuple[str, ...] = ()
    paused: bool = False
    ended_at: datetime | None = None
    photo: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Listing:
        """The listing of a stored document."""
        ended = doc.get("ended_at")
        return cls(
            id=str(doc["id"]),
            vendor_id=str(doc["vendor_id"]),
            title_zh=str(doc["title_zh"]),
            title_en=str(doc.get("title_en") or ""),
            unit=str(doc["unit"]),
            price=money(doc["price"]),
            sale_price=money(doc.get("sale_price") or doc["price"]),
            stock=int(doc["stock"]),
            available=int(doc["available"]),
            limit=int(doc["limit"]),
            starts_at=from_iso(doc["starts_at"]),
            ends_at=from_iso(doc["ends_at"]),
            delivery=tuple(Delivery(d) for d in doc.get("delivery", ())),
            pickup_points=tuple(doc.get("pickup_points", ())),
            paused=bool(doc.get("paused", False)),
            ended_at=from_iso(ended) if ended else None,
            photo=str(doc.get("photo") or ""),
            extra={k: v for k, v in doc.items() if k not in _LISTING_FIELDS},
        )

    def title(self, chinese: bool) -> str:
        """The title in one language (English falls back to the Chinese one, a name)."""
        return self.title_zh if chinese or not self.title_en else self.title_en

    def unit_in(self, chinese: bool, count: int = 1) -> str:
        """The unit as the reader says it for ``count`` of it: ``箱`` / ``box`` / ``boxes``."""
        return unit_words(self.unit, chinese, count)

    def closes_at(self) -> datetime:
        """When the sale stops taking holds: its end, or when staff ended it."""
        return min(self.ends_at, self.ended_at) if self.ended_at else self.ends_at

    def on_sale(self, now: datetime) -> bool:
        """Whether it takes holds now."""
        return not self.paused and self.starts_at <= now < self.closes_at()


_LISTING_FIELDS = frozenset(f.name for f in fields(Listing)) - {"extra"}


def household_key(person: Mapping[str, Any]) -> str:
    """Who counts as one household for a listing's limit: the home, else the person alone.

    A family helper's relative is registered with the helper's household, so
    both count against the same limit. The key is a digest, so the quota
    records that carry it hold no address.
    """
    home = person.get("household") or {}
    if isinstance(home, Mapping) and home.get("complex"):
        parts = (home.get("complex"), home.get("building"), home.get("unit"), home.get("room"))
        basis = "h|" + "|".join(unicodedata.normalize("NFKC", str(p or "")).strip() for p in parts)
    elif isinstance(home, Mapping) and home.get("text"):
        basis = "t|" + " ".join(str(home["text"]).split())
    else:
        return "p-" + str(person["id"])
    return "h-" + hashlib.sha1(basis.encode("utf-8")).hexdigest()[:16]


def building_unit(household: Mapping[str, Any] | None, chinese: bool = True) -> str:
    """``3栋2单元``: all a neighbours' group may ever see of a household."""
    if not household or not household.get("building"):
        return "—"
    full = community.describe_household(
        {"complex": "", "building": household["building"], "unit": household.get("unit", "")},
        chinese,
    )
    return full.replace(" ", "") if chinese else full.strip(", ").strip()
