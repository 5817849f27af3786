"""A deadline typed by the coordinator: "12月5日 18:00", "2026-12-05 18:00", "明天下午6点".

Beyond the four offered deadlines a coordinator may type one. :func:`read` turns the
words into a local moment, :func:`check` says whether it can be a deadline (ahead of
now and at most :data:`MAX_DAYS` days away). Both are pure: time comes in as
arguments, so the rules are tested without a clock.

Forms understood (full-width digits and colons too)::

    2026-12-05 18:00   2026/12/5 18:00   2026年12月5日 18:00
    12月5日 18:00      12月5日18点       12月5日 下午6点   12-05 18:00
    今天 20:00         明天下午6点       后天 12:00        明晚8点
    tomorrow 6pm       tonight 8          5 Dec 18:00       Dec 5, 2026 6:30pm
    the day after tomorrow noon

A date without a time is read as 18:00; a date without a year is this year, or next
year when this year's has passed and next year's is within reach (December to January).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

MAX_DAYS = 60
"""A deadline further ahead than this is refused (a typing slip, most likely)."""

DEFAULT_HOUR = 18
_RELATIVE = {"今天": 0, "今日": 0, "今晚": 0, "明天": 1, "明日": 1, "明晚": 1, "后天": 2, "后晚": 2}
_EVENING = ("晚", "晚上", "傍晚", "下午", "今晚", "明晚", "后晚")
_RELATIVE_EN = {"the day after tomorrow": 2, "day after tomorrow": 2, "tomorrow": 1, "today": 0}
_TONIGHT = {"tonight": 0, "tomorrow night": 1, "tomorrow evening": 1, "this evening": 0}
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_EN_DATE = re.compile(
    r"^(?:(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?P<month>[a-z]+)\.?"
    r"|(?P<month2>[a-z]+)\.?\s+(?P<day2>\d{1,2})(?:st|nd|rd|th)?)(?:,?\s+(?P<year>\d{4}))?"
)
_EN_TIME = re.compile(
    r"^(?:at\s+)?(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?P<ampm>am|pm|a\.m\.|p\.m\.)?$"
)
_DATE = re.compile(
    r"^(?:(?P<year>\d{4})\s*[-/.年]\s*)?(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})\s*[日号]?"
)
_TIME = re.compile(
    r"^(?P<part>凌晨|早上|早晨|上午|中午|下午|傍晚|晚上|晚)?\s*"
    r"(?P<hour>\d{1,2})\s*(?:[:点时]\s*(?P<minute>\d{1,2}|半)?\s*分?)?\s*$"
)


class Problem(StrEnum):
    """Why typed words cannot be a deadline (each has its own kind answer)."""

    UNCLEAR = "unclear"
    PAST = "past"
    FAR = "far"


def _plain(text: str) -> str:
    """Full-width digits and colons as ASCII, spaces squeezed."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def read(text: str, now: datetime, zone: ZoneInfo) -> datetime | None:
    """The local moment the words name, or ``None`` when they name none."""
    words = _plain(text)
    today = now.astimezone(zone).date()
    found = _day_of(words, today)
    if found is None:
        return None
    day, rest, hint = found
    at = _time_of(rest, hint)
    if at is None:
        return None
    return datetime.combine(day, at, tzinfo=zone)


def _day_of(words: str, today: date) -> tuple[date, str, str] | None:
    """The day the words start with, what is left, and a part-of-day hint ("明晚")."""
    for word, days in sorted(_RELATIVE.items(), key=lambda item: -len(item[0])):
        if words.startswith(word):
            return today + timedelta(days=days), words[len(word) :].strip(), word
    lowered = words.casefold()
    for table, hint in ((_TONIGHT, "晚"), (_RELATIVE_EN, "")):
        for word, days in sorted(table.items(), key=lambda item: -len(item[0])):
            if lowered == word or lowered.startswith(word + " "):
                return today + timedelta(days=days), lowered[len(word) :].strip(), hint
    english = _EN_DATE.match(lowered)
    if english is not None:
        return _english_day(english, today, lowered[english.end() :].strip())
    match = _DATE.match(words)
    if match is None:
        return None
    try:
        if match["year"]:
            day = date(int(match["year"]), int(match["month"]), int(match["day"]))
        else:
            day = date(today.year, int(match["month"]), int(match["day"]))
            if day < today and (day.replace(year=today.year + 1) - today).days <= MAX_DAYS:
                day = day.replace(year=today.year + 1)
    except ValueError:
        return None
    return day, words[match.end() :].strip(), ""


def _english_day(match: re.Match[str], today: date, rest: str) -> tuple[date, str, str] | None:
    """``5 Dec`` / ``Dec 5, 2026``: the day, what is left, no hint."""
    month = _MONTHS.get(match["month"] or match["month2"] or "")
    if month is None:
        return None
    number = int(match["day"] or match["day2"])
    try:
        day = date(int(match["year"] or today.year), month, number)
        if not match["year"] and day < today:
            later = day.replace(year=today.year + 1)
            day = later if (later - today).days <= MAX_DAYS else day
    except ValueError:
        return None
    return day, rest, ""


def _english_time(rest: str, hint: str) -> time | None:
    """``6pm``, ``6:30 pm``, ``18:00``, ``at 9``, ``noon`` (with "tonight": evening hours)."""
    if rest in ("noon", "midday", "at noon"):
        return time(12)
    match = _EN_TIME.match(rest)
    if match is None:
        return None
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    ampm = (match["ampm"] or "").replace(".", "")
    if ampm and not 1 <= hour <= 12:
        return None
    if ampm == "pm" and hour < 12 or not ampm and hint in _EVENING and 1 <= hour < 12:
        hour += 12
    if ampm == "am" and hour == 12:
        hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)


def _time_of(rest: str, hint: str) -> time | None:  # noqa: PLR0911
    """The time of day of the words after the date (18:00 when none is said)."""
    if not rest:
        return time(DEFAULT_HOUR)
    match = _TIME.match(rest)
    if match is None:
        return _english_time(rest.casefold(), hint)
    hour = int(match["hour"])
    minute = 30 if match["minute"] == "半" else int(match["minute"] or 0)
    part = match["part"] or ""
    if (part in _EVENING or hint in _EVENING) and 1 <= hour < 12:
        hour += 12
    if part == "中午" and hour < 6:
        hour += 12
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)


def check(moment: datetime, now: datetime) -> Problem | None:
    """Why ``moment`` cannot be a deadline now, or ``None`` when it can."""
    if moment <= now:
        return Problem.PAST
    if moment - now > timedelta(days=MAX_DAYS):
        return Problem.FAR
    return None
