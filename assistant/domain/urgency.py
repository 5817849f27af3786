"""Urgency tiers of report categories and the closed loop's stages (standard library only).

Each category names a tier; each tier has a deadline (red 2 h, yellow 24 h,
blue 72 h by default, from settings). A case past its deadline goes to the
grid's coordinator; past twice its deadline, to the whole community's. The
stages follow the grid-management closed loop (发现 → 上报 → 分派 → 处置 →
反馈 → 考核): reported → accepted → dispatched → handled → verified → closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Tier(StrEnum):
    """How soon a case must be handled."""

    RED = "red"
    YELLOW = "yellow"
    BLUE = "blue"


class Stage(StrEnum):
    """Where a case stands in the closed loop (stored as its value)."""

    REPORTED = "reported"
    ACCEPTED = "accepted"
    DISPATCHED = "dispatched"
    HANDLED = "handled"
    VERIFIED = "verified"
    CLOSED = "closed"


OPEN_STAGES = (Stage.REPORTED, Stage.ACCEPTED, Stage.DISPATCHED)
"""Stages in which a case still waits for someone to deal with it (and can be escalated)."""

ESCALATION_STAGES = (1, 2)
"""1: the grid's coordinators at the deadline; 2: the community's at twice the deadline."""


def tier_of(word: object) -> Tier | None:
    """The tier named ``word``, or ``None``."""
    try:
        return Tier(str(word))
    except ValueError:
        return None


def deadline(created: datetime, tier: Tier, hours: Mapping[str, float]) -> datetime:
    """When a case of ``tier`` made at ``created`` must be handled."""
    return created + timedelta(hours=float(hours[tier.value]))


def escalation_due(
    created: datetime, tier: Tier, hours: Mapping[str, float], stage: int
) -> datetime:
    """When escalation ``stage`` (1 or 2) of a case falls due."""
    return created + timedelta(hours=float(hours[tier.value]) * stage)


def overdue(now: datetime, due: datetime) -> bool:
    """Whether ``due`` has passed."""
    return now >= due


def age_minutes(created: datetime, now: datetime) -> int:
    """Whole minutes since ``created`` (never negative)."""
    return max(0, int((now - created).total_seconds() // 60))


# -- categories ----------------------------------------------------------------------------

CATEGORY_FIELDS = {
    "code": str,
    "name_zh": str,
    "name_en": str,
    "skill": str,
    "team": str,
    "tier": str,
    "photo": bool,
}
"""The keys of one ``[[reports.categories]]`` table (``team`` may be empty)."""

DEFAULT_CATEGORIES: list[dict[str, object]] = [
    {
        "code": "no_mask",
        "name_zh": "未戴口罩",
        "name_en": "No mask",
        "skill": "patrol",
        "team": "老党员志愿服务队",
        "tier": "red",
        "photo": False,
    },
    {
        "code": "crowding",
        "name_zh": "聚众扎堆",
        "name_en": "Crowding",
        "skill": "patrol",
        "team": "老党员志愿服务队",
        "tier": "red",
        "photo": False,
    },
    {
        "code": "food_hygiene",
        "name_zh": "食品卫生",
        "name_en": "Food hygiene",
        "skill": "patrol",
        "team": "",
        "tier": "yellow",
        "photo": True,
    },
    {
        "code": "fire_escape",
        "name_zh": "消防通道堵塞",
        "name_en": "Blocked fire escape",
        "skill": "patrol",
        "team": "",
        "tier": "red",
        "photo": True,
    },
    {
        "code": "facilities",
        "name_zh": "公共设施损坏",
        "name_en": "Broken facilities",
        "skill": "repair",
        "team": "党员先锋队",
        "tier": "blue",
        "photo": True,
    },
    {
        "code": "noise",
        "name_zh": "噪音扰民",
        "name_en": "Noise",
        "skill": "mediation",
        "team": "",
        "tier": "blue",
        "photo": False,
    },
]
"""The categories when settings name none (``settings.toml`` lists the same)."""


@dataclass(frozen=True)
class Category:
    """One kind of report: its words, the skill and team it routes to, its tier, whether a photo is asked."""

    code: str
    name_zh: str
    name_en: str
    skill: str
    team: str
    tier: Tier
    photo: bool

    def name(self, chinese: bool) -> str:
        """Its name in the reader's language."""
        return self.name_zh if chinese else self.name_en


def category_of(spec: Mapping[str, object]) -> Category:
    """A checked :class:`Category` from one settings table.

    Raises:
        ValueError: a key missing, unknown or of the wrong type, or a bad tier or code.
    """
    unknown = set(spec) - set(CATEGORY_FIELDS)
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    for key, kind in CATEGORY_FIELDS.items():
        if not isinstance(spec.get(key), kind):
            raise ValueError(f"{key} must be a {kind.__name__}")
    code = str(spec["code"])
    if not code or not code.replace("_", "").isalnum() or not code.isascii():
        raise ValueError(f"code {code!r} must be letters, digits and _")
    tier = tier_of(spec["tier"])
    if tier is None:
        raise ValueError(f"tier must be one of {', '.join(t.value for t in Tier)}")
    return Category(
        code=code,
        name_zh=str(spec["name_zh"]),
        name_en=str(spec["name_en"]),
        skill=str(spec["skill"]),
        team=str(spec["team"]),
        tier=tier,
        photo=bool(spec["photo"]),
    )


def categories(specs: object, skills: tuple[str, ...] = ()) -> dict[str, Category]:
    """Every category by code, checked; ``skills`` (when given) are the skills volunteers can have.

    Raises:
        ValueError: not a list of tables, an empty list, a code twice, a bad table or skill.
    """
    if not isinstance(specs, list) or not specs:
        raise ValueError("must be a non-empty list of tables")
    found: dict[str, Category] = {}
    for spec in specs:
        if not isinstance(spec, Mapping):
            raise ValueError("each category must be a table")
        made = category_of(spec)
        if made.code in found:
            raise ValueError(f"code {made.code!r} is listed twice")
        if skills and made.skill not in skills:
            raise ValueError(f"{made.code}: unknown skill {made.skill!r}")
        found[made.code] = made
    return found
