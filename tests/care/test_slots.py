"""The slot rules: opening hours, notice, daily capacity, time zones and "as soon as possible"."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from assistant.domain.slots import (
    Rules,
    asap_free,
    dated,
    day_label,
    free_days,
    free_slots,
    free_starts_of_day,
    is_free,
    label,
    local_day,
    next_day_at,
    page_of,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOME_CARE = Rules(opens=8, closes=18, duration_minutes=60, notice_minutes=120, daily_capacity=12)
PHARMACY = Rules(
    opens=0, closes=24, duration_minutes=45, notice_minutes=0, daily_capacity=30, asap=True
)


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)  # type: ignore[misc]


def hours(slots: list[datetime]) -> list[str]:
    return [s.astimezone(SHANGHAI).strftime("%d %H:%M") for s in slots]


def test_slots_fall_inside_opening_hours_and_end_by_closing_time() -> None:
    # Given it is 06:00 local on 1 June
    now = local(2026, 6, 1, 6, 0)
    # When we ask for a whole day of slots
    slots = free_slots(HOME_CARE, now, SHANGHAI, {}, limit=20)
    # Then they start at opening (with two hours' notice, 08:00 is fine) and the last ends at 18:00
    assert hours(slots)[:10] == [f"01 {h:02d}:00" for h in range(8, 18)]
    assert hours(slots)[10] == "02 08:00"


def test_slots_too_soon_for_the_notice_are_not_offered() -> None:
    # Given it is 10:30 and the service needs two hours' notice
    now = local(2026, 6, 1, 10, 30)
    slots = free_slots(HOME_CARE, now, SHANGHAI, {}, limit=3)
    # Then the first slot is 13:00, not 11:00 or 12:00
    assert hours(slots) == ["01 13:00", "01 14:00", "01 15:00"]


def test_after_closing_the_next_slots_are_tomorrow() -> None:
    now = local(2026, 6, 1, 17, 0)
    assert hours(free_slots(HOME_CARE, now, SHANGHAI, {}, limit=2)) == ["02 08:00", "02 09:00"]


def test_a_full_day_is_skipped_entirely() -> None:
    # Given tomorrow already has twelve visits booked
    now = local(2026, 6, 1, 17, 0)
    taken = {date(2026, 6, 2): 12, date(2026, 6, 3): 11}
    # Then no slot of tomorrow is offered, and the day after still has its places
    slots = free_slots(HOME_CARE, now, SHANGHAI, taken, limit=2)
    assert hours(slots) == ["03 08:00", "03 09:00"]


def test_later_times_page_on_after_the_last_shown_slot() -> None:
    now = local(2026, 6, 1, 6, 0)
    first = free_slots(HOME_CARE, now, SHANGHAI, {}, limit=6)
    second = free_slots(HOME_CARE, now, SHANGHAI, {}, after=first[-1], limit=6)
    assert hours(second)[0] == "01 14:00" and not set(first) & set(second)


def test_slots_are_computed_in_the_community_time_zone() -> None:
    # Given 23:30 UTC, which is already 07:30 the next morning in Shanghai
    now = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)
    slots = free_slots(HOME_CARE, now, SHANGHAI, {}, limit=1)
    # Then the first slot is 10:00 Shanghai time on 2 June (02:00 UTC)
    assert slots[0] == datetime(2026, 6, 2, 2, 0, tzinfo=UTC)
    assert local_day(now, SHANGHAI) == date(2026, 6, 2)
    # And capacity is counted by the local day, not the UTC one
    assert free_slots(HOME_CARE, now, SHANGHAI, {date(2026, 6, 2): 12}, limit=1)[0].day == 3


def test_a_day_with_a_daylight_saving_jump_skips_the_missing_hour() -> None:
    # Given a 24-hour service in a zone that skips 01:00–02:00 on 29 March 2026
    london = ZoneInfo("Europe/London")
    now = datetime(2026, 3, 29, 0, 0, tzinfo=london)
    slots = free_slots(PHARMACY, now, london, {}, limit=4)
    local_hours = [s.astimezone(london).hour for s in slots]
    # Then the missing 01:00 is not offered, and 00:00 and 02:00 are one real hour apart
    assert local_hours == [0, 2, 3, 4]
    assert slots[1].astimezone(UTC) - slots[0].astimezone(UTC) == timedelta(hours=1)


def test_is_free_checks_the_grid_the_notice_and_capacity_again() -> None:
    now = local(2026, 6, 1, 6, 0)
    assert is_free(HOME_CARE, local(2026, 6, 1, 9, 0), now, SHANGHAI, {})
    assert not is_free(HOME_CARE, local(2026, 6, 1, 9, 30), now, SHANGHAI, {})  # off the grid
    assert not is_free(HOME_CARE, local(2026, 6, 1, 7, 0), now, SHANGHAI, {})  # before opening
    assert not is_free(HOME_CARE, local(2026, 6, 1, 18, 0), now, SHANGHAI, {})  # ends too late
    later = local(2026, 6, 1, 7, 30)
    assert not is_free(HOME_CARE, local(2026, 6, 1, 9, 0), later, SHANGHAI, {})  # notice lapsed
    full = {date(2026, 6, 1): 12}
    assert not is_free(HOME_CARE, local(2026, 6, 1, 9, 0), now, SHANGHAI, full)


def test_as_soon_as_possible_only_for_asap_services_that_are_open_and_not_full() -> None:
    midnight = local(2026, 6, 1, 0, 30)
    assert asap_free(PHARMACY, midnight, SHANGHAI, {})
    assert not asap_free(PHARMACY, midnight, SHANGHAI, {date(2026, 6, 1): 30})
    assert not asap_free(HOME_CARE, local(2026, 6, 1, 10, 0), SHANGHAI, {})
    late_shop = Rules(
        opens=8, closes=22, duration_minutes=45, notice_minutes=0, daily_capacity=5, asap=True
    )
    assert not asap_free(late_shop, local(2026, 6, 1, 21, 30), SHANGHAI, {})
    assert asap_free(late_shop, local(2026, 6, 1, 21, 10), SHANGHAI, {})


def test_the_follow_up_is_the_next_local_day_at_the_set_hour() -> None:
    # Given a visit done at 23:30 local (15:30 UTC)
    done = datetime(2026, 6, 1, 15, 30, tzinfo=UTC)
    # Then the follow-up is at 10:00 local on 2 June, not on 3 June
    assert next_day_at(done, 10, SHANGHAI) == local(2026, 6, 2, 10, 0)
    # And a visit done at 00:30 local on 2 June is followed up on 3 June
    assert next_day_at(local(2026, 6, 2, 0, 30), 10, SHANGHAI) == local(2026, 6, 3, 10, 0)


def test_labels_say_today_and_tomorrow_in_both_languages() -> None:
    now = local(2026, 6, 1, 6, 0)  # a Monday
    assert label(local(2026, 6, 1, 14, 0), now, SHANGHAI, True) == "今天 14:00"
    assert label(local(2026, 6, 2, 9, 0), now, SHANGHAI, True) == "明天 09:00"
    assert label(local(2026, 6, 4, 9, 0), now, SHANGHAI, True) == "6月4日 周四 09:00"
    assert label(local(2026, 6, 2, 9, 0), now, SHANGHAI, False) == "Tomorrow 09:00"
    assert label(local(2026, 6, 4, 9, 0), now, SHANGHAI, False) == "Thu 4 Jun 09:00"


def test_a_few_slots_per_day_so_that_several_days_show() -> None:
    now = local(2026, 6, 1, 6, 0)
    slots = free_slots(HOME_CARE, now, SHANGHAI, {}, limit=6, per_day=2)
    assert hours(slots) == ["01 08:00", "01 09:00", "02 08:00", "02 09:00", "03 08:00", "03 09:00"]
    later = free_slots(HOME_CARE, now, SHANGHAI, {}, after=slots[-1], limit=2, per_day=2)
    assert hours(later) == ["03 10:00", "03 11:00"]


# -- a day first, then that day's times ---------------------------------------------------------


def test_every_free_slot_of_the_next_days_is_on_some_page() -> None:
    # Given home care at 09:00 on a Monday, with two hours' notice
    now = local(2026, 6, 1, 9, 0)
    # When a resident goes through every day and every page of its times
    shown: list[datetime] = []
    for day in free_days(HOME_CARE, now, SHANGHAI, {}):
        starts = free_starts_of_day(HOME_CARE, day, now, SHANGHAI, {})
        number = 0
        while True:
            page = page_of(starts, number, 8)
            shown += page.starts
            if not page.later:
                break
            number += 1
    # Then they saw every bookable slot of the next two weeks, once each, in order
    every = free_slots(HOME_CARE, now, SHANGHAI, {}, limit=1000)
    assert shown == every and len(set(shown)) == len(shown)
    # Including tomorrow afternoon, 16:00 and 17:00
    assert {"02 14:00", "02 16:00", "02 17:00"} <= set(hours(shown))


def test_the_night_pharmacy_offers_every_hour_of_the_night() -> None:
    now = local(2026, 6, 1, 19, 30)
    today = free_starts_of_day(PHARMACY, date(2026, 6, 1), now, SHANGHAI, {})
    assert hours(today) == ["01 20:00", "01 21:00", "01 22:00", "01 23:00"]
    tomorrow = free_starts_of_day(PHARMACY, date(2026, 6, 2), now, SHANGHAI, {})
    assert len(tomorrow) == 24 and hours(tomorrow)[0] == "02 00:00"


def test_pages_go_back_and_forth_without_gaps_or_overlaps() -> None:
    starts = free_starts_of_day(PHARMACY, date(2026, 6, 2), local(2026, 6, 1, 9, 0), SHANGHAI, {})
    first, second, third = (page_of(starts, n, 8) for n in range(3))
    assert not first.earlier and first.later and second.earlier and second.later
    assert third.earlier and not third.later
    assert first.starts + second.starts + third.starts == tuple(starts)
    assert page_of(starts, 99, 8) == third and page_of([], 0, 8).starts == ()


def test_a_full_day_offers_no_times_and_is_not_offered() -> None:
    now = local(2026, 6, 1, 9, 0)
    taken = {date(2026, 6, 2): 12}
    assert free_starts_of_day(HOME_CARE, date(2026, 6, 2), now, SHANGHAI, taken) == []
    assert date(2026, 6, 2) not in free_days(HOME_CARE, now, SHANGHAI, taken)
    # After closing, today is not offered either
    late = local(2026, 6, 1, 17, 30)
    assert free_days(HOME_CARE, late, SHANGHAI, {})[0] == date(2026, 6, 2)


def test_days_and_dates_as_people_read_them() -> None:
    monday = date(2026, 6, 1)
    assert day_label(monday, monday, True) == "今天"
    assert day_label(date(2026, 6, 3), monday, True) == "后天"
    assert day_label(date(2026, 6, 3), monday, False) == "Wed 3 Jun"
    assert day_label(date(2026, 6, 4), monday, True) == "6月4日 周四"
    assert dated(local(2026, 12, 3, 9, 0), SHANGHAI, True) == "12月3日 周四 09:00"
    assert dated(local(2026, 12, 3, 9, 0), SHANGHAI, False) == "Thu 3 Dec 09:00"
