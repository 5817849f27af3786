"""The centre's own activities in the demo community: 午托, the elders' canteen, a culture evening."""

from __future__ import annotations

from datetime import date, timedelta

from assistant.clock import from_iso
from assistant.services.activities.define import Plan, add
from assistant.services.activities.records import ACTIVITIES, Kind, Who
from assistant.store.base import Store

SCHOOL_DAYS = (0, 1, 2, 3, 4)
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)


def _saturday_after(day: date) -> date:
    return day + timedelta(days=(5 - day.weekday()) % 7 or 7)


def load(store: Store, now: str) -> int:
    """Add the demo activities (once: nothing when some exist); return how many were added."""
    moment = from_iso(now)
    evening = _saturday_after(moment.date())
    plans = {
        "ac-wutuo": Plan(
            "午托班",
            "Midday childcare",
            Kind.RECURRING,
            "幸福邻里中心二楼",
            20,
            "11:30",
            weekdays=SCHOOL_DAYS,
            who=Who.CHILDREN,
            price="0",
            duration_minutes=150,
        ),
        "ac-canteen": Plan(
            "长者食堂午餐",
            "Elders' canteen lunch",
            Kind.MEAL,
            "幸福邻里中心一楼食堂",
            40,
            "11:30",
            weekdays=EVERY_DAY,
            who=Who.ELDERS,
            price="8",
            duration_minutes=60,
        ),
        "ac-nanyin": Plan(
            "南音之夜",
            "Nanyin music evening",
            Kind.ONCE,
            "社区文化广场",
            60,
            "19:00",
            day=evening.isoformat(),
            who=Who.ANYONE,
            price="0",
            duration_minutes=120,
        ),
    }
    with store.transaction() as tx:
        if tx.all(ACTIVITIES):
            return 0
        for activity_id, plan in plans.items():
            add(tx, plan, "", moment, activity_id=activity_id)
    return len(plans)
