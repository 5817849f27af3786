"""Who may sign up: "elders over an age" checked by birth year, inside the sign-up's unit of work.

People have no birth date; a person may carry an optional ``birth_year`` (asked nowhere
by default; set in ``/me`` or by the volunteers import's ``birth_year`` column). An
activity with ``min_age`` takes someone whose age this year (the year now minus the
birth year) is at least ``min_age``. When the year is unknown the answer says how to
give it (``/me``); a coordinator signing someone up is trusted to have checked at the
door, so their sign-ups skip the check (the override). Decided in the same
transaction as the place is taken, so a right is never checked on stale data.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from assistant.services import people
from assistant.services.activities.records import Activity, AgeUnknown, TooYoung
from assistant.store.base import Tx

if TYPE_CHECKING:
    from assistant.app import App

EARLIEST_YEAR = 1900


def valid_birth_year(year: int, now: datetime) -> bool:
    """Whether a typed birth year can be someone's (1900 up to this year)."""
    return EARLIEST_YEAR <= year <= now.year


def check(
    tx: Tx, app: App, activity: Activity, person_id: str, booked_by: str, now: datetime
) -> None:
    """Refuse a sign-up the activity's age rule does not allow.

    Raises:
        AgeUnknown: the rule needs the person's birth year, which is not on record.
        TooYoung: the person has not reached the age this year.
    """
    if activity.min_age <= 0:
        return
    booker = tx.get(people.PEOPLE, booked_by)
    if booker is not None and people.has_role(app, booker, people.COORDINATOR):
        return  # a coordinator's sign-up: checked at the door (the override)
    person = tx.get(people.PEOPLE, person_id) or {}
    year = person.get("birth_year")
    if not isinstance(year, int):
        raise AgeUnknown(age=activity.min_age)
    if now.year - year < activity.min_age:
        raise TooYoung(age=activity.min_age)
