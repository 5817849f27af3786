"""The centre's activities as ``settings.toml`` lists them (``[[activities.programme]]``), checked.

Pure: the settings loader calls :func:`check` and turns its ``ValueError`` into a start-up
error naming the table and the key; :mod:`assistant.services.activities.configured` writes
the checked tables as activity records at start-up (created or updated by ``code``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

KINDS = ("recurring", "once", "meal")
WHO = ("anyone", "children", "elders")
FIELDS = (
    "name_zh",
    "name_en",
    "kind",
    "weekdays",
    "day",
    "at",
    "place",
    "capacity",
    "who",
    "min_age",
    "price",
    "duration_minutes",
)
"""What an activity of the programme says of itself, besides its ``code``."""
KEYS = frozenset({"code", *FIELDS})
MAX_CAPACITY = 500
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def check(specs: Sequence[Any]) -> list[dict[str, Any]]:
    """Every table checked and completed with its defaults.

    Raises:
        ValueError: the first problem, naming the table (by number and code) and the key.
    """
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, spec in enumerate(specs, start=1):
        if not isinstance(spec, Mapping):
            raise ValueError(f"#{number}: must be a table")
        checked = _one(spec, f"#{number}")
        if checked["code"] in seen:
            raise ValueError(f"#{number} code: {checked['code']!r} appears twice")
        seen.add(checked["code"])
        out.append(checked)
    return out


def _one(spec: Mapping[str, Any], where: str) -> dict[str, Any]:  # noqa: PLR0912
    unknown = sorted(set(spec) - KEYS)
    if unknown:
        raise ValueError(f"{where} {unknown[0]}: unknown key")
    code = spec.get("code")
    if not isinstance(code, str) or not _CODE.match(code):
        raise ValueError(f"{where} code: a short code of a-z, 0-9, - or _ is needed")
    where = f"{where} ({code})"
    name_zh = _text(spec, "name_zh", where, needed=True)
    kind = spec.get("kind", "recurring")
    if kind not in KINDS:
        raise ValueError(f"{where} kind: must be one of {', '.join(KINDS)}")
    weekdays = spec.get("weekdays", [])
    if not isinstance(weekdays, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in weekdays
    ):
        raise ValueError(f"{where} weekdays: a list of 0 (Monday) to 6 (Sunday)")
    day = spec.get("day", "")
    if isinstance(day, date):
        day = day.isoformat()
    if kind == "once":
        try:
            date.fromisoformat(str(day))
        except ValueError:
            raise ValueError(
                f"{where} day: a one-off activity needs its date, 2026-06-20"
            ) from None
    elif not weekdays:
        raise ValueError(f"{where} weekdays: a {kind} activity needs its weekdays")
    at = spec.get("at", "09:00")
    if not isinstance(at, str) or not _TIME.match(at):
        raise ValueError(f'{where} at: a time like "09:30"')
    capacity = _whole(spec, "capacity", where, 1, MAX_CAPACITY, None)
    who = spec.get("who", "anyone")
    if who not in WHO:
        raise ValueError(f"{where} who: must be one of {', '.join(WHO)}")
    min_age = _whole(spec, "min_age", where, 0, 120, 0)
    if min_age and who != "elders":
        raise ValueError(f'{where} min_age: only for who = "elders"')
    return {
        "code": code,
        "name_zh": name_zh,
        "name_en": _text(spec, "name_en", where) or name_zh,
        "kind": kind,
        "weekdays": sorted(set(weekdays)),
        "day": str(day) if kind == "once" else "",
        "at": f"{int(at.split(':')[0]):02}:{at.split(':')[1]}",
        "place": _text(spec, "place", where),
        "capacity": capacity,
        "who": who,
        "min_age": min_age,
        "price": _price(spec, where),
        "duration_minutes": _whole(spec, "duration_minutes", where, 1, 24 * 60, 90),
    }


def _text(spec: Mapping[str, Any], key: str, where: str, needed: bool = False) -> str:
    value = spec.get(key, "")
    if not isinstance(value, str) or (needed and not value.strip()):
        raise ValueError(f"{where} {key}: {'text is needed' if needed else 'must be text'}")
    return value.strip()


def _whole(
    spec: Mapping[str, Any], key: str, where: str, low: int, high: int, default: int | None
) -> int:
    value = spec.get(key, default)
    if value is None:
        raise ValueError(f"{where} {key}: a whole number is needed")
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{where} {key}: a whole number from {low} to {high}")
    return value


def _price(spec: Mapping[str, Any], where: str) -> str:
    """The price as a decimal string ("15.00"); a TOML float is refused, never rounded."""
    value = spec.get("price", "0")
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValueError(f'{where} price: write it as text, like price = "15.00"')
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f'{where} price: {value!r} is not an amount, like "15.00"') from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f'{where} price: {value!r} is not an amount, like "15.00"')
    return str(amount.quantize(Decimal("0.01")))
