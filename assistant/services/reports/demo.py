"""The demo's known places (a few for every micro-grid) and a few open cases.

Called once by :func:`assistant.demo.load` after the community is made, so
``assistant demo-data`` lets a newcomer pick 锦绣家园东门 or 城东菜市场 at once
and see what ``/cases`` shows a coordinator.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from assistant.clock import from_iso
from assistant.domain import geo
from assistant.services.reports import places
from assistant.services.reports.records import CASES, PLACES
from assistant.store.base import Store, Tx

# id, grid, name_zh, name_en, kind, lat, lon (around 城东社区, 安溪县凤城镇)
PLACES_CSV = """id,grid_id,name_zh,name_en,kind,lat,lon
jx-gate-east,jx-1,锦绣家园东门,Jinxiu Jiayuan east gate,gate,25.06412,118.18903
jx-b1,jx-1,锦绣家园1栋,Jinxiu Jiayuan building 1,building,25.06380,118.18850
jx-b2,jx-2,锦绣家园2栋,Jinxiu Jiayuan building 2,building,25.06340,118.18790
jx-square,jx-2,锦绣家园中心广场,Jinxiu Jiayuan square,square,25.06305,118.18835
ssw-gate,ssw-1,山水湾南门,Shanshuiwan south gate,gate,25.06120,118.19210
ssw-b5,ssw-1,山水湾5栋,Shanshuiwan building 5,building,25.06150,118.19260
ssw-b6,ssw-2,山水湾6栋,Shanshuiwan building 6,building,25.06190,118.19320
market,ssw-2,城东菜市场,Chengdong market,market,25.06030,118.19100
sjc-gate,sjc-1,水晶城大门,Crystal City gate,gate,25.06620,118.19480
clinic,sjc-1,城东社区卫生服务站,Chengdong clinic,clinic,25.06560,118.19400
bus-stop,sjc-1,城东公交站,Chengdong bus stop,bus_stop,25.06700,118.19550
centre,jx-1,幸福邻里中心,Happiness Neighbourhood Centre,centre,25.06450,118.18980
"""

OPEN_CASES = (
    ("market", "crowding", 40),
    ("jx-square", "no_mask", 25),
    ("ssw-b6", "facilities", 300),
)
"""(place, category, minutes ago) of the demo's open cases."""

ZONE = ZoneInfo("Asia/Shanghai")


def load(store: Store, now: str) -> str:
    """Add the demo places and open cases; say what was added."""
    moment = from_iso(now)
    summary = places.import_places(store, PLACES_CSV, moment)
    with store.transaction() as tx:
        made = _open_cases(tx, moment)
    return f"places: {summary}; {made} open cases"


def _open_cases(tx: Tx, now: datetime) -> int:
    """A few cases waiting for a coordinator's "dispatch", as if reported this morning."""
    from assistant.domain import urgency
    from assistant.services.reports import index
    from assistant.services.reports.records import REPORTED, set_stage

    residents = [
        p for p in tx.all("people") if "resident" in p.get("roles", []) and not p.get("volunteer")
    ]
    hours = {"red": 2.0, "yellow": 24.0, "blue": 72.0}
    names = dict(n.split(":", 1) for n in ("crowding:red", "no_mask:red", "facilities:blue"))
    for number, (place_id, category, minutes) in enumerate(OPEN_CASES, start=1):
        place = tx.require(PLACES, place_id)
        at = now - timedelta(minutes=minutes)
        tier = urgency.Tier(names[category])
        reporter = residents[number % len(residents)]["id"] if residents else ""
        case = {
            "number": f"{at.astimezone(ZONE):%m%d}-{900 + number:03d}",
            "category": category,
            "tier": tier.value,
            "place_id": place_id,
            "place_zh": place["name_zh"],
            "place_en": place["name_en"],
            "lat": place["lat"],
            "lon": place["lon"],
            "grid_id": place["grid_id"],
            "grid_name": (tx.get("grids", place["grid_id"]) or {}).get("name", ""),
            "created_at": at.isoformat(),
            "last_report_at": at.isoformat(),
            "deadline_at": urgency.deadline(at, tier, hours).isoformat(),
            "reports": [
                {
                    "reporter_id": reporter,
                    "at": at.isoformat(),
                    "note": "",
                    "photo": "",
                    "anonymous": False,
                }
            ],
            "followers": [reporter] if reporter else [],
            "round": 1,
            "no_count": 0,
            "escalated": [],
            "answers": {},
            "demo": True,
            "held": True,
        }
        set_stage(case, REPORTED, at)
        case_id = f"rc-demo-{number}"
        tx.put(CASES, case_id, case)
        where = geo.point(place["lat"], place["lon"])
        index.add(tx, index.keys_of(category, place_id, where, 100.0), case_id, now)
    return len(OPEN_CASES)
