"""Local produce: vendors, listings, holds that lapse, orders, group lists, delivery runs, complaints.

The post office's livestream sale (幸福乐购直播) and the district's
supermarkets (统一购) sell through one ordering channel. Residents order in
private chat; stock is held atomically for a few minutes while they choose
pickup or delivery and confirm; a hold not confirmed lapses and gives its
units back exactly once; each neighbours' group has a live order list (接龙)
that shows building-unit and quantity only; orders for community delivery go
to volunteers as dispatch "delivery runs"; complaints go to the supervision
line.

This face re-exports what handlers and the composition root use; the modules
beside it say how: :mod:`~.records` (vocabulary, errors, money),
:mod:`~.stock` (where stock is decided, and why there), :mod:`~.listings`,
:mod:`~.vendors`, :mod:`~.ordering`, :mod:`~.announce` (going live and the
group lists), :mod:`~.runs` (delivery runs), :mod:`~.supervision`,
:mod:`~.files` (CSV in and out), :mod:`~.forget`, :mod:`~.demo`. The
composition root registers ``orders.JOBS``, ``orders.TASK_KIND`` and
``orders.forget``.
"""

from __future__ import annotations

from assistant.services.orders.forget import forget
from assistant.services.orders.jobs import JOBS, TASK_KIND
from assistant.services.orders.records import (
    COMPLAINTS,
    HOLDS,
    LISTINGS,
    ORDERS,
    RUN_KIND,
    RUNS,
    VENDORS,
    WAITLIST,
    AlreadyOrdered,
    AlreadyWaiting,
    BadMoney,
    BadQuantity,
    Category,
    Delivery,
    HoldLapsed,
    HoldStatus,
    Listing,
    NotChangeable,
    NotEnough,
    NotOnSale,
    NotStaff,
    NotYours,
    OrdersError,
    OrderStatus,
    OverLimit,
    PickupPoint,
    SaleEnded,
    SoldOut,
    Vendor,
    VendorKind,
    money,
    money_text,
    unit_words,
)

__all__ = [
    "COMPLAINTS",
    "HOLDS",
    "JOBS",
    "LISTINGS",
    "ORDERS",
    "RUNS",
    "RUN_KIND",
    "TASK_KIND",
    "VENDORS",
    "WAITLIST",
    "AlreadyOrdered",
    "AlreadyWaiting",
    "BadMoney",
    "BadQuantity",
    "Category",
    "Delivery",
    "HoldLapsed",
    "HoldStatus",
    "Listing",
    "NotChangeable",
    "NotEnough",
    "NotOnSale",
    "NotStaff",
    "NotYours",
    "OrderStatus",
    "OrdersError",
    "OverLimit",
    "PickupPoint",
    "SaleEnded",
    "SoldOut",
    "Vendor",
    "VendorKind",
    "forget",
    "money",
    "money_text",
    "unit_words",
]
