"""A small community like the seed's, so a newcomer can try everything at once.

城东社区 with three residential complexes (锦绣家园, 山水湾, 水晶城) in five
micro-grids, the veteran party-member volunteer team, the care provider 普爱康养,
the 24-hour love pharmacy, the post-office livestream room and two
supermarkets. The residents of the seed are there too: 林奶奶 (console:lin),
王先生 (console:wang) and 快递员小张 (console:zhang); the coordinator is
console:grid.
"""

from __future__ import annotations

from assistant.services import people
from assistant.services.activities import demo as activities_demo
from assistant.services.notices import demo as notices_demo
from assistant.services.orders import demo as orders_demo
from assistant.services.people import imports
from assistant.services.reports import demo as reports_demo
from assistant.store.base import Store

HOUSEHOLDS = """grid_id,grid_name,complex,building,unit,households
jx-1,锦绣家园一网格,锦绣家园,1,1,24
jx-1,锦绣家园一网格,锦绣家园,1,2,24
jx-2,锦绣家园二网格,锦绣家园,2,1,22
jx-2,锦绣家园二网格,锦绣家园,3,1,26
ssw-1,山水湾一网格,山水湾,5,1,18
ssw-1,山水湾一网格,山水湾,5,2,18
ssw-2,山水湾二网格,山水湾,6,1,30
sjc-1,水晶城一网格,水晶城,A,1,20
sjc-1,水晶城一网格,水晶城,A,2,20
"""

VOLUNTEERS = """name,address,grid_id,skills,teams,phone
陈建国,console:chen,jx-1,care;escort;patrol,老党员志愿服务队,13800000001
黄秀英,console:huang,jx-1,care;pharmacy;mediation,老党员志愿服务队,13800000002
李志强,console:li,jx-2,repair;delivery;patrol,党员先锋队,13800000003
吴丽华,console:wu,ssw-1,care;escort;delivery,老党员志愿服务队,13800000004
郑明,console:zheng,ssw-2,pharmacy;delivery;repair,党员先锋队,13800000005
刘桂兰,console:liu,sjc-1,care;mediation;patrol,老党员志愿服务队,13800000006
"""

ORGANISATIONS = (
    {"id": "org-puai", "kind": "care_provider", "name_zh": "普爱康养", "name_en": "Pu'ai Care"},
    {
        "id": "org-pharmacy",
        "kind": "pharmacy",
        "name_zh": "爱心药房（24小时）",
        "name_en": "Love Pharmacy (24 h)",
    },
    {
        "id": "org-post",
        "kind": "vendor",
        "name_zh": "邮政幸福乐购直播间",
        "name_en": "Post office livestream room",
    },
    {
        "id": "org-market-1",
        "kind": "vendor",
        "name_zh": "城东生鲜超市",
        "name_en": "Chengdong Fresh",
    },
    {
        "id": "org-market-2",
        "kind": "vendor",
        "name_zh": "邻里便民超市",
        "name_en": "Neighbours' Mart",
    },
)

RESIDENTS = (
    (
        "console:lin",
        "林奶奶",
        "jx-1",
        {"complex": "锦绣家园", "building": "1", "unit": "1", "room": "302"},
    ),
    (
        "console:wang",
        "王先生",
        "ssw-1",
        {"complex": "山水湾", "building": "5", "unit": "2", "room": "601"},
    ),
    (
        "console:zhang",
        "快递员小张",
        "sjc-1",
        {"complex": "水晶城", "building": "A", "unit": "1", "room": "101"},
    ),
)


class NotEmpty(Exception):
    """Demo data goes only into an empty store."""


def load(store: Store, now: str) -> str:
    """Fill an empty store with the demo community; say what was added."""
    with store.snapshot() as tx:
        if tx.all(people.PEOPLE) or tx.all("grids"):
            raise NotEmpty("the store already holds a community; demo data needs an empty one")
    grids = imports.import_households(store, HOUSEHOLDS)
    volunteers = imports.import_volunteers(store, VOLUNTEERS, now)
    with store.transaction() as tx:
        for org in ORGANISATIONS:
            tx.put("organisations", org["id"], dict(org))
        for address, name, grid_id, household in RESIDENTS:
            people.create_person(
                tx,
                name=name,
                address=address,
                language="zh_CN",
                now=now,
                grid_id=grid_id,
                household=household,
            )
        coordinator = people.create_person(
            tx,
            name="网格员小周",
            address="console:grid",
            language="zh_CN",
            now=now,
            roles=(people.RESIDENT, people.COORDINATOR),
        )
        coordinator["coordinator_grids"] = ["jx-1", "jx-2", "ssw-1", "ssw-2", "sjc-1"]
        tx.put(people.PEOPLE, coordinator["id"], coordinator)
    orders_demo.load(store, now)  # local produce: the livestream sale and a supermarket
    activities_demo.load(store, now)  # 午托, the elders' canteen, a culture evening
    notices_demo.load(store, now)  # two elders living alone, for the wellbeing rounds
    reports_demo.load(store, now)  # known places of every grid and a few open cases
    return (
        f"grids and units: {grids}; volunteers: {volunteers}; "
        f"{len(RESIDENTS)} residents, 1 coordinator, {len(ORGANISATIONS)} organisations"
    )
