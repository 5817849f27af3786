"""A store folder for the flash-sale tests and the benchmark: one vendor, many households, one listing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from assistant.bootstrap import SHARDED
from assistant.clock import SystemClock, to_iso
from assistant.services import people
from assistant.services.orders import listings, vendors
from assistant.services.orders.records import Delivery, PickupPoint, Vendor, VendorKind
from assistant.store.tinydb_store import TinyDbStore

VENDOR = Vendor(
    id="mart",
    name_zh="测试超市",
    name_en="Test Mart",
    kind=VendorKind.SUPERMARKET,
    pickup_points=(PickupPoint("desk", "服务台", "Front desk"),),
)


def make_sale(
    store_dir: Path,
    residents: int,
    units: int,
    limit: int = 1,
    members: int = 1,
) -> tuple[str, list[str]]:
    """Residents (``members`` per household) and one listing of ``units`` on sale now.

    Returns the listing id and the person ids in household order (members of
    one household next to each other).
    """
    store = TinyDbStore(store_dir, shards=SHARDED)
    now = SystemClock().now()
    ids: list[str] = []
    with store.transaction() as tx:
        vendors.add_vendor(tx, VENDOR)
        for number in range(residents):
            home = number // members
            person = people.create_person(
                tx,
                name=f"居民{number}",
                address=f"console:r{number}",
                language="zh_CN",
                now=to_iso(now),
                grid_id="g1",
                household={
                    "complex": "测试小区",
                    "building": str(home // 100 + 1),
                    "unit": str(home // 10 % 10 + 1),
                    "room": str(home),
                },
            )
            ids.append(person["id"])
        draft = listings.ListingDraft(
            vendor_id=VENDOR.id,
            title_zh="秒杀鸡蛋",
            title_en="Flash-sale eggs",
            unit="盒",
            price=Decimal("30"),
            sale_price=Decimal("9.90"),
            stock=units,
            limit=limit,
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(days=1),
            delivery=(Delivery.PICKUP,),
            pickup_points=("desk",),
        )
        listing = listings.create(tx, draft, "test", now)
    store.close()
    return str(listing["id"]), ids
