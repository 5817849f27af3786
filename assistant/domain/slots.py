"""Which times a care service can be booked for: pure rules, standard library only.

A service is open from ``opens`` to ``closes`` (local hours, 0–24); a visit
must end by closing time; it needs ``notice_minutes`` of warning; and at most
``daily_capacity`` visits are booked per local day. Slots start on a grid of
``step_minutes`` from opening time. Services marked ``asap`` (the night
pharmacy) can also be booked for "as soon as possible" while they are open.

Every function takes the current time and the community's time zone as
arguments, so the rules can be tested for any moment and any place. Datetimes
are timezone-aware; counts of visits already booked are passed in as a
mapping from local date to number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Rules:
    """The booking rules of one service."""

    opens: int
    closes: int
    duration_minutes: int
    notice_minutes: int
    daily_capacity: int
    asap: bool = False
    step_minutes: int = 60


def local_day(moment: datetime, zone: tzinfo) -> date:
    """The community's calendar date of a moment."""
    return moment.astimezone(zone).date()


def _at(day: date, minutes: int, zone: tzinfo) -> datetime | None:
    """``day`` at ``minutes`` past local midnight, or ``None`` if that wall time does not exist."""
    wall = datetime.combine(day, time(0)) + timedelta(minutes=minutes)
    moment = wall.replace(tzinfo=zone)
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        return None  # skipped by a daylight-saving change
    return moment


def starts_of_day(rules: Rules, day: date, zone: tzinfo) -> list[datetime]:
    """Every slot start of a day, whether free or not; a visit ends by closing time."""
    first = rules.opens * 60
    last = rules.closes * 60 - rules.duration_minutes
    out = []
    for minutes in range(first, last + 1, max(1, rules.step_minutes)):
        moment = _at(day, minutes, zone)
        if moment is not None:
            out.append(moment)
    return out


def earliest_start(rules: Rules, now: datetime) -> datetime:
    """The first moment a visit may start, given the notice the service needs."""
    return now + timedelta(minutes=rules.notice_minutes)


def day_full(rules: Rules, day: date, taken: Mapping[date, int]) -> bool:
    """Whether a day has no place left."""
    return taken.get(day, 0) >= rules.daily_capacity


def free_slots(
    rules: Rules,
    now: datetime,
    zone: tzinfo,
    taken: Mapping[date, int],
    *,
    after: datetime | None = None,
    limit: int = 6,
    per_day: int | None = None,
    days: int = 14,
) -> list[datetime]:
    """The next free slot starts, soonest first, in the community's zone.

    Args:
        rules: the service's rules.
        now: the current time.
        zone: the community's time zone.
        taken: visits already booked per local date.
        after: only slots strictly later than this (for "later times").
        limit: at most this many slots.
        per_day: at most this many slots of one day, so that several days show.
        days: how many local days ahead to look, from today.
    """
    earliest = earliest_start(rules, now)
    today = local_day(now, zone)
    found: list[datetime] = []
    for offset in range(days):
        day = today + timedelta(days=offset)
        if day_full(rules, day, taken):
            continue
        of_day = 0
        for start in starts_of_day(rules, day, zone):
            if start < earliest or (after is not None and start <= after):
                continue
            found.append(start)
            of_day += 1
            if len(found) >= limit:
                return found
            if per_day is not None and of_day >= per_day:
                break
    return found


def is_free(
    rules: Rules, start: datetime, now: datetime, zone: tzinfo, taken: Mapping[date, int]
) -> bool:
    """Whether ``start`` is still a bookable slot: on the grid, with notice, and not full."""
    day = local_day(start, zone)
    if start < earliest_start(rules, now) or day_full(rules, day, taken):
        return False
    return any(candidate == start for candidate in starts_of_day(rules, day, zone))


def open_now(rules: Rules, now: datetime, zone: tzinfo) -> bool:
    """Whether a visit starting now ends within today's opening hours."""
    local = now.astimezone(zone)
    minutes = local.hour * 60 + local.minute
    return rules.opens * 60 <= minutes <= rules.closes * 60 - rules.duration_minutes


def asap_free(rules: Rules, now: datetime, zone: tzinfo, taken: Mapping[date, int]) -> bool:
    """Whether "as soon as possible" can be offered now."""
    if not rules.asap or not open_now(rules, now, zone):
        return False
    return not day_full(rules, local_day(now, zone), taken)


def next_day_at(moment: datetime, hour: int, zone: tzinfo) -> datetime:
    """The next local day after ``moment``, at ``hour`` o'clock (for follow-ups)."""
    day = local_day(moment, zone) + timedelta(days=1)
    wall = _at(day, min(max(hour, 0), 23) * 60, zone)
    return wall if wall is not None else _at_or_later(day, hour, zone)


def _at_or_later(day: date, hour: int, zone: tzinfo) -> datetime:
    for extra in range(1, 4):
        moment = _at(day, (hour + extra) * 60, zone)
        if moment is not None:
            return moment
    return datetime.combine(day, time(12), tzinfo=zone)


def date_words(day: date, chinese: bool) -> str:
    """A calendar day with its weekday: ``12月3日 周四`` / ``Thu 3 Dec``."""
    if chinese:
        return f"{day.month}月{day.day}日 {WEEKDAYS_ZH[day.weekday()]}"
    return f"{WEEKDAYS_EN[day.weekday()]} {day.day} {MONTHS_EN[day.month - 1]}"


def day_label(day: date, today: date, chinese: bool) -> str:
    """A day as a resident reads it: ``今天``, ``明天``, ``后天``, else ``6月4日 周四``."""
    offset = (day - today).days
    near = ({0: "今天", 1: "明天", 2: "后天"} if chinese else {0: "Today", 1: "Tomorrow"}).get(
        offset
    )
    return near or date_words(day, chinese)


def clock_words(moment: datetime, zone: tzinfo) -> str:
    """The local time of day, ``09:00``."""
    local = moment.astimezone(zone)
    return f"{local.hour:02d}:{local.minute:02d}"


def label(start: datetime, now: datetime, zone: tzinfo, chinese: bool) -> str:
    """A slot as a resident reads it: ``今天 14:00``, ``明天 09:00``, ``6月3日 周三 09:00``."""
    day = day_label(local_day(start, zone), local_day(now, zone), chinese)
    return f"{day} {clock_words(start, zone)}"


def dated(start: datetime, zone: tzinfo, chinese: bool) -> str:
    """A time with its date, for messages read later: ``12月3日 周四 09:00``."""
    return f"{date_words(local_day(start, zone), chinese)} {clock_words(start, zone)}"


# -- choosing a time: a day first, then the free times of that day ---------------------------


def free_starts_of_day(
    rules: Rules, day: date, now: datetime, zone: tzinfo, taken: Mapping[date, int]
) -> list[datetime]:
    """Every free slot start of one day, soonest first (none when the day is full)."""
    if day_full(rules, day, taken):
        return []
    earliest = earliest_start(rules, now)
    return [start for start in starts_of_day(rules, day, zone) if start >= earliest]


def free_days(
    rules: Rules, now: datetime, zone: tzinfo, taken: Mapping[date, int], days: int = 14
) -> list[date]:
    """The local days, from today and ``days`` ahead, that have at least one free slot."""
    today = local_day(now, zone)
    ahead = (today + timedelta(days=offset) for offset in range(days))
    return [day for day in ahead if free_starts_of_day(rules, day, now, zone, taken)]


@dataclass(frozen=True)
class Page:
    """One page of a day's free times, and whether there are earlier or later ones."""

    starts: tuple[datetime, ...]
    number: int
    earlier: bool
    later: bool


def page_of(starts: list[datetime], number: int, size: int) -> Page:
    """Page ``number`` (from 0, clamped) of ``starts``, ``size`` at a time; pages never overlap."""
    size = max(1, size)
    last = max(0, (len(starts) - 1) // size)
    number = min(max(0, number), last)
    shown = tuple(starts[number * size : (number + 1) * size])
    return Page(shown, number, earlier=number > 0, later=number < last)
