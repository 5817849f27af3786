"""The care service catalogue: what the centre offers, in both languages.

Each service names the volunteer skill it needs, its price in yuan (0 is
free), how long it takes, its opening hours, the notice it needs, how many can
be booked a day, and whether a coordinator approves it first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SKILLS = ("care", "escort", "pharmacy", "delivery", "patrol", "repair", "mediation")


@dataclass(frozen=True)
class Service:
    """One bookable care service."""

    code: str
    name_zh: str
    name_en: str
    skill: str
    price: float
    duration_minutes: int
    opens: int
    closes: int
    notice_minutes: int
    daily_capacity: int
    needs_approval: bool
    asap: bool
    wave_minutes: float | None

    def name(self, language: str) -> str:
        """The service's name in a language."""
        return self.name_zh if language.startswith("zh") else self.name_en

    @property
    def all_day(self) -> bool:
        """Open around the clock."""
        return self.opens == 0 and self.closes == 24

    @staticmethod
    def from_settings(code: str, spec: Mapping[str, Any]) -> Service:
        """Build from a checked settings table."""
        return Service(
            code=code,
            name_zh=spec["name_zh"],
            name_en=spec["name_en"],
            skill=spec["skill"],
            price=float(spec["price"]),
            duration_minutes=int(spec["duration_minutes"]),
            opens=int(spec["opens"]),
            closes=int(spec["closes"]),
            notice_minutes=int(spec["notice_minutes"]),
            daily_capacity=int(spec["daily_capacity"]),
            needs_approval=bool(spec["needs_approval"]),
            asap=bool(spec.get("asap", False)),
            wave_minutes=(float(spec["wave_minutes"]) if spec.get("wave_minutes") else None),
        )


DEFAULT_SERVICES: dict[str, dict[str, Any]] = {
    "home_care": {
        "name_zh": "上门照料",
        "name_en": "Home care visit",
        "skill": "care",
        "price": 0,
        "duration_minutes": 60,
        "opens": 8,
        "closes": 18,
        "notice_minutes": 120,
        "daily_capacity": 12,
        "needs_approval": False,
    },
    "escort": {
        "name_zh": "就医陪护（绿色通道）",
        "name_en": "Hospital escort (green channel)",
        "skill": "escort",
        "price": 20,
        "duration_minutes": 180,
        "opens": 7,
        "closes": 17,
        "notice_minutes": 720,
        "daily_capacity": 6,
        "needs_approval": True,
    },
    "pharmacy": {
        "name_zh": "爱心药房夜间送药",
        "name_en": "Night pharmacy",
        "skill": "pharmacy",
        "price": 0,
        "duration_minutes": 45,
        "opens": 0,
        "closes": 24,
        "notice_minutes": 0,
        "daily_capacity": 30,
        "needs_approval": False,
        "asap": True,
        "wave_minutes": 2,
    },
    "decoction": {
        "name_zh": "代煎中药",
        "name_en": "Herbal medicine decoction",
        "skill": "pharmacy",
        "price": 5,
        "duration_minutes": 90,
        "opens": 0,
        "closes": 24,
        "notice_minutes": 60,
        "daily_capacity": 20,
        "needs_approval": False,
    },
    "repair": {
        "name_zh": "便民维修",
        "name_en": "Home repair",
        "skill": "repair",
        "price": 10,
        "duration_minutes": 90,
        "opens": 8,
        "closes": 18,
        "notice_minutes": 240,
        "daily_capacity": 8,
        "needs_approval": False,
    },
    "mediation": {
        "name_zh": "邻里调解",
        "name_en": "Neighbour mediation",
        "skill": "mediation",
        "price": 0,
        "duration_minutes": 60,
        "opens": 9,
        "closes": 20,
        "notice_minutes": 240,
        "daily_capacity": 4,
        "needs_approval": False,
    },
}

_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "name_zh": str,
    "name_en": str,
    "skill": str,
    "price": (int, float),
    "duration_minutes": int,
    "opens": int,
    "closes": int,
    "notice_minutes": int,
    "daily_capacity": int,
    "needs_approval": bool,
}
_OPTIONAL: dict[str, type | tuple[type, ...]] = {"asap": bool, "wave_minutes": (int, float)}


def check_service(code: str, spec: Any) -> dict[str, Any]:
    """Check one service table; raise ValueError naming the bad key."""
    if not isinstance(spec, Mapping):
        raise ValueError("must be a table")
    for key in spec:
        if key not in _REQUIRED and key not in _OPTIONAL:
            raise ValueError(f"{key}: unknown key")
    for key, kind in _REQUIRED.items():
        if key not in spec:
            raise ValueError(f"{key}: missing")
        if not isinstance(spec[key], kind) or (kind is int and isinstance(spec[key], bool)):
            raise ValueError(f"{key}: wrong type {spec[key]!r}")
    for key, kind in _OPTIONAL.items():
        if key in spec and not isinstance(spec[key], kind):
            raise ValueError(f"{key}: wrong type {spec[key]!r}")
    if spec["skill"] not in SKILLS:
        raise ValueError(f"skill: must be one of {', '.join(SKILLS)}")
    if not 0 <= spec["opens"] < spec["closes"] <= 24:
        raise ValueError("opens/closes: need 0 <= opens < closes <= 24")
    if spec["price"] < 0 or spec["duration_minutes"] <= 0 or spec["daily_capacity"] <= 0:
        raise ValueError("price, duration_minutes and daily_capacity must be positive")
    return dict(spec)


def catalogue(services: Mapping[str, Mapping[str, Any]]) -> dict[str, Service]:
    """Services by code, in settings order."""
    return {code: Service.from_settings(code, spec) for code, spec in services.items()}
