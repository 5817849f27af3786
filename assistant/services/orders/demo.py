"""The demo's local produce: the post-office livestream room's live sale and one supermarket.

邮政幸福乐购直播间 sells 赣南脐橙 and 五常大米 on a live sale (two days from the
demo's start), with pickup at two service points and community delivery;
城东生鲜超市 (one of the 统一购 supermarkets) has free-range eggs every day, with
its own delivery, and two jars of local honey (sold out soon: the waiting
list). Their staff are console:post (the livestream host 邮政小邮)
and console:mart (the shop manager 马店长); the neighbours' group of 锦绣家园一网格
is console:jx1-group, so the group order list (接龙) shows in the terminal with the first
order there. 林奶奶 has asked for the going-live announcements (/subscribe). The demo's sale is
already live when it is loaded, so loading it sends nothing and leaves no timer: other tests
load the demo as a quiet community; :func:`announce_now` makes it go live as a new sale would.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from assistant.clock import from_iso
from assistant.services import people
from assistant.services.orders import announce, listings, vendors
from assistant.services.orders.records import (
    LISTINGS,
    Delivery,
    PickupPoint,
    Vendor,
    VendorKind,
)
from assistant.services.people import community
from assistant.store.base import Store

if TYPE_CHECKING:
    from assistant.app import App

POST = Vendor(
    id="post-live",
    name_zh="邮政幸福乐购直播间",
    name_en="Post office livestream room",
    kind=VendorKind.LIVESTREAM,
    staff=("console:post",),
    pickup_points=(
        PickupPoint("jx-station", "锦绣家园便民服务站", "Jinxiu Jiayuan service point"),
        PickupPoint("centre", "幸福邻里中心", "Happiness Neighbourhood Centre"),
    ),
)
MART = Vendor(
    id="cd-fresh",
    name_zh="城东生鲜超市",
    name_en="Chengdong Fresh",
    kind=VendorKind.SUPERMARKET,
    staff=("console:mart",),
    pickup_points=(
        PickupPoint("cd-fresh-desk", "城东生鲜超市服务台", "Chengdong Fresh front desk"),
    ),
    delivers=True,
)
STAFF = (("console:post", "邮政小邮"), ("console:mart", "马店长"))
GROUP = ("jx-1", "console:jx1-group")


def _drafts(start_text: str) -> list[listings.ListingDraft]:
    start = from_iso(start_text)
    return [
        listings.ListingDraft(
            vendor_id=POST.id,
            title_zh="赣南脐橙（10斤装）",
            title_en="Gannan navel oranges (5 kg box)",
            unit="箱",
            price=Decimal("59.90"),
            sale_price=Decimal("39.90"),
            stock=100,
            limit=2,
            starts_at=start,
            ends_at=start + timedelta(days=2),
            delivery=(Delivery.PICKUP, Delivery.COMMUNITY),
            pickup_points=("jx-station", "centre"),
        ),
        listings.ListingDraft(
            vendor_id=POST.id,
            title_zh="五常大米（5公斤）",
            title_en="Wuchang rice (5 kg)",
            unit="袋",
            price=Decimal("69"),
            sale_price=Decimal("49.90"),
            stock=60,
            limit=1,
            starts_at=start,
            ends_at=start + timedelta(days=2),
            delivery=(Delivery.PICKUP, Delivery.COMMUNITY),
            pickup_points=("centre",),
        ),
        listings.ListingDraft(
            vendor_id=MART.id,
            title_zh="农家土鸡蛋（30枚）",
            title_en="Free-range eggs (30)",
            unit="盒",
            price=Decimal("35"),
            sale_price=Decimal("29.80"),
            stock=500,
            limit=3,
            starts_at=start,
            ends_at=start + timedelta(days=365),
            delivery=(Delivery.PICKUP, Delivery.VENDOR, Delivery.COMMUNITY),
            pickup_points=("cd-fresh-desk",),
        ),
        listings.ListingDraft(
            vendor_id=MART.id,
            title_zh="土蜂蜜（限量）",
            title_en="Local honey (few jars)",
            unit="瓶",
            price=Decimal("68"),
            sale_price=Decimal("58"),
            stock=2,
            limit=1,
            starts_at=start,
            ends_at=start + timedelta(days=365),
            delivery=(Delivery.PICKUP, Delivery.VENDOR),
            pickup_points=("cd-fresh-desk",),
        ),
    ]


def load(store: Store, now: str) -> str:
    """Add the demo vendors, their staff, listings and a linked group; say what was added."""
    with store.transaction() as tx:
        for address, name in STAFF:
            people.create_person(tx, name=name, address=address, language="zh_CN", now=now)
        for vendor in (POST, MART):
            vendors.add_vendor(tx, vendor)
        community.link_group(tx, *GROUP)
        made = [
            listings.create(tx, draft, "demo", from_iso(now), quietly=True)
            for draft in _drafts(now)
        ]
        lin = people.person_at(tx, "console:lin")
        if lin is not None:
            announce.set_subscribed(tx, lin["id"], True, from_iso(now))
    return f"2 vendors, {len(made)} listings on sale"


def announce_now(app: App) -> None:
    """The demo's sale goes live now, as a new one would (announcements and group lists)."""
    with app.unit() as tx:
        for doc in tx.all(LISTINGS):
            doc.pop("announced_at", None)
            tx.put(LISTINGS, doc["id"], doc)
            announce.go_live_job(tx, app, doc["id"])
