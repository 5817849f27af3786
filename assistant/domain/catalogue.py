"""The care service catalogue: what the centre offers, in both languages.

Each service names the volunteer skill it needs, its price in yuan (0 is
free), how long it takes, its opening hours, the notice it needs, how many can
be booked a day, and whether a coordinator approves it first. It also asks
its own question for the notes the volunteer reads (a repair asks what is
broken, the pharmacy which medicine) and names them in the summary with its
own label; a service that sets none asks the general question.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SKILLS = ("care", "escort", "pharmacy", "delivery", "patrol", "repair", "mediation")
NOTES_KEYS = ("notes_question_zh", "notes_question_en", "notes_label_zh", "notes_label_en")


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
    notes_question_zh: str = ""
    notes_question_en: str = ""
    notes_label_zh: str = ""
    notes_label_en: str = ""

    def name(self, language: str) -> str:
        """The service's name in a language."""
        return self.name_zh if language.startswith("zh") else self.name_en

    def notes_question(self, language: str) -> str:
        """The service's own question for the notes, or ``""`` for the general one."""
        return self.notes_question_zh if language.startswith("zh") else self.notes_question_en

    def notes_label(self, language: str) -> str:
        """How the summary names the notes, or ``""`` for the general label."""
        return self.notes_label_zh if language.startswith("zh") else self.notes_label_en

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
            notes_question_zh=str(spec.get("notes_question_zh", "")),
            notes_question_en=str(spec.get("notes_question_en", "")),
            notes_label_zh=str(spec.get("notes_label_zh", "")),
            notes_label_en=str(spec.get("notes_label_en", "")),
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
        "notes_question_zh": "有没有要告诉志愿者的身体情况？比如行动不便、过敏。",
        "notes_question_en": "Anything the volunteer should know about health? For example trouble walking, or allergies.",
        "notes_label_zh": "身体情况",
        "notes_label_en": "Health notes",
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
        "notes_question_zh": "去哪家医院、看哪个科？行动方便吗，要带病历吗？",
        "notes_question_en": "Which hospital and department? Can you walk well, and are there papers to bring?",
        "notes_label_zh": "看病安排",
        "notes_label_en": "Hospital visit",
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
        "notes_question_zh": "需要什么药？有处方或药盒的话，也请说一下。",
        "notes_question_en": "Which medicine do you need? Please mention a prescription or the box if you have one.",
        "notes_label_zh": "要的药",
        "notes_label_en": "Medicine",
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
        "notes_question_zh": "要煎的是什么药方、几副？什么时候要用？",
        "notes_question_en": "Which prescription, and how many doses? When do you need it?",
        "notes_label_zh": "药方",
        "notes_label_en": "Prescription",
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
        "notes_question_zh": "哪里要修？比如厨房水龙头漏水、灯不亮。",
        "notes_question_en": "What needs fixing? For example a leaking kitchen tap, or a light that does not work.",
        "notes_label_zh": "要修的",
        "notes_label_en": "To fix",
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
        "notes_question_zh": "大概是什么事？简单说几句就好。",
        "notes_question_en": "What is it about? A few words are enough.",
        "notes_label_zh": "事情",
        "notes_label_en": "What it is about",
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
_OPTIONAL: dict[str, type | tuple[type, ...]] = {
    "asap": bool,
    "wave_minutes": (int, float),
    **{key: str for key in NOTES_KEYS},
}


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
