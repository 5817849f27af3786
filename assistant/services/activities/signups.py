"""Signing up for an activity's session: places taken atomically, a waiting list, attendance.

A session's places are counted on its own document (``activity_sessions``), changed
only inside the unit of work that signs up, cancels or promotes, so two people can
never take the last place (the same rule as care slots; tested with several real
processes). A full session takes people onto its waiting list, in order; a freed
place goes to the first in line, who is told. Reminders go the day before at
``[activities] reminder_hour``; a sign-up can be cancelled in chat until
``cancel_hours`` before the start.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from assistant.clock import from_iso, to_iso
from assistant.conversation.vocabulary import Address, Outbound, Reply
from assistant.domain import slots
from assistant.i18n import Translator, translator
from assistant.jobs import outbox, timers
from assistant.services import people
from assistant.services.activities import eligibility
from assistant.services.activities.records import (
    ACTIVITIES,
    LIVE,
    SESSIONS,
    SIGNUPS,
    Activity,
    AlreadySigned,
    Closed,
    Full,
    Kind,
    NotOrganiser,
    NotYours,
    SignupStatus,
    TooLateToCancel,
    UnknownSession,
    parse_session,
    require_activity,
    session_id,
)
from assistant.store.base import Doc, Tx, new_id

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

REMIND = "activities.remind"
ARCHIVE = "activities.archive_session"


def setting(app: App, key: str) -> Any:
    """One ``[activities]`` setting."""
    return app.settings.get("activities", key)


@dataclass(frozen=True)
class Session:
    """One occurrence of an activity that can still be signed up for."""

    id: str
    activity: Activity
    start: datetime
    taken: int

    @property
    def left(self) -> int:
        """Places still free."""
        return max(0, self.activity.capacity - self.taken)


def open_days(app: App, activity: Activity, now: datetime) -> list[date]:
    """The days one can still sign up for: ahead of the start; the canteen only tomorrow, until the cut-off."""
    zone = app.settings.timezone
    today = slots.local_day(now, zone)
    if activity.kind is Kind.MEAL:
        tomorrow = today + timedelta(days=1)
        before_cutoff = now.astimezone(zone).hour < int(setting(app, "canteen_cutoff_hour"))
        return [tomorrow] if before_cutoff and tomorrow.weekday() in activity.weekdays else []
    days = activity.days(today, int(setting(app, "days_ahead")))
    return [d for d in days if activity.start_on(d, zone) > now]


def sessions(tx: Tx, app: App, activity_id: str, now: datetime) -> list[Session]:
    """The sessions of an activity open for sign-up, soonest first."""
    activity = Activity.from_doc(require_activity(tx, activity_id))
    zone = app.settings.timezone
    found = []
    for day in open_days(app, activity, now):
        sid = session_id(activity.id, day)
        taken = int((tx.get(SESSIONS, sid) or {}).get("count", 0))
        found.append(Session(sid, activity, activity.start_on(day, zone), taken))
    return found


def listed(tx: Tx) -> list[Activity]:
    """Every activity on offer, in the order defined."""
    docs = [a for a in tx.all(ACTIVITIES) if not a.get("retired")]
    return [Activity.from_doc(a) for a in sorted(docs, key=lambda a: a.get("order", 0))]


def _session_of(tx: Tx, app: App, sid: str, now: datetime) -> tuple[Activity, date, Doc]:
    """The activity, day and (possibly new) session document of an open session.

    Raises:
        UnknownSession: no such activity or session.
        Closed: the session is past its cut-off.
    """
    parsed = parse_session(sid)
    if parsed is None:
        raise UnknownSession()
    activity = Activity.from_doc(require_activity(tx, parsed[0]))
    day = parsed[1]
    if day not in open_days(app, activity, now):
        raise Closed()
    start = activity.start_on(day, app.settings.timezone)
    session = tx.get(SESSIONS, sid) or {
        "activity_id": activity.id,
        "day": day.isoformat(),
        "start": to_iso(start),
        "count": 0,
        "waiting": [],
    }
    return activity, day, session


def sign_up(
    tx: Tx, app: App, sid: str, person_id: str, booked_by: str, now: datetime, wait: bool = False
) -> Doc:
    """Take a place at a session (or, with ``wait``, a turn on its waiting list); return the sign-up.

    Raises:
        Full: no place left and ``wait`` was not asked for.
        AgeUnknown, TooYoung: the activity is for elders over an age (:mod:`.eligibility`).
        AlreadySigned: the person already has a place or a turn there.
        Closed, UnknownSession: the session cannot be signed up for.
    """
    activity, _, session = _session_of(tx, app, sid, now)
    if any(s["status"] in LIVE for s in tx.find(SIGNUPS, session_id=sid, person_id=person_id)):
        raise AlreadySigned()
    eligibility.check(tx, app, activity, person_id, booked_by, now)
    signup_id = new_id("su")
    if int(session["count"]) < activity.capacity:
        status = SignupStatus.BOOKED
        session["count"] = int(session["count"]) + 1
    elif wait:
        status = SignupStatus.WAITING
        session["waiting"] = [*session["waiting"], signup_id]
    else:
        raise Full()
    signup: Doc = {
        "activity_id": activity.id,
        "session_id": sid,
        "start": session["start"],
        "person_id": person_id,
        "booked_by": booked_by,
        "status": status.value,
        "created_at": to_iso(now),
    }
    tx.put(SESSIONS, sid, session)
    tx.put(SIGNUPS, signup_id, signup)
    signup["id"] = signup_id
    if status is SignupStatus.BOOKED:
        _schedule_reminder(tx, app, signup, now)
    keep = timedelta(days=float(setting(app, "keep_days")))
    at = from_iso(session["start"]) + keep
    timers.schedule(tx, ARCHIVE, [sid], at, now, key=f"act-archive:{sid}")
    log.info("sign-up %s for %s: %s", signup_id, sid, status.value)
    return signup


def archive_session_job(tx: Tx, app: App, sid: str) -> int:
    """``activities.archive_session``: a session long past and its sign-ups leave the hot files.

    ``[activities] keep_days`` after it began; attendance and payment are marked before
    that, and the attendance export reads the archive too. How many sign-ups moved.
    """
    moved = 0
    for signup in tx.find(SIGNUPS, session_id=sid):
        if signup["status"] in LIVE:  # a session that has not happened: never archived early
            start = from_iso(signup["start"])
            if start + timedelta(days=float(setting(app, "keep_days"))) > app.clock.now():
                return 0
        tx.archive(SIGNUPS, signup["id"])
        moved += 1
    if tx.get(SESSIONS, sid) is not None:
        tx.archive(SESSIONS, sid)
    log.info("session %s archived with %d sign-ups", sid, moved)
    return moved


def _schedule_reminder(tx: Tx, app: App, signup: Doc, now: datetime) -> None:
    zone = app.settings.timezone
    day = slots.local_day(from_iso(signup["start"]), zone) - timedelta(days=1)
    at = datetime.combine(day, time(int(setting(app, "reminder_hour"))), tzinfo=zone)
    if at > now:
        timers.schedule(tx, REMIND, [signup["id"]], at, now, key=f"act-remind:{signup['id']}")


def may_change(app: App, signup: Doc, actor: Doc) -> bool:
    """Whether ``actor`` may cancel this sign-up: its person, who booked it, or a coordinator."""
    return actor["id"] in (signup["person_id"], signup["booked_by"]) or people.has_role(
        app, actor, people.COORDINATOR
    )


def cancel(tx: Tx, app: App, signup_id: str, actor: Doc, now: datetime) -> Doc | None:
    """Cancel a sign-up; the freed place goes to the first in line. Return whom it went to.

    Raises:
        NotYours: the actor may not change it.
        Closed: it is no longer live.
        TooLateToCancel: less than ``cancel_hours`` before the start (coordinators may).
    """
    signup = tx.get(SIGNUPS, signup_id)
    if signup is None:
        raise UnknownSession()
    if not may_change(app, signup, actor):
        raise NotYours()
    if signup["status"] not in LIVE:
        raise Closed()
    start = from_iso(signup["start"])
    late = now > start - timedelta(hours=float(setting(app, "cancel_hours")))
    if late and not people.has_role(app, actor, people.COORDINATOR):
        raise TooLateToCancel()
    session = tx.require(SESSIONS, signup["session_id"])
    was = signup["status"]
    signup.update(
        status=SignupStatus.CANCELLED.value, cancelled_at=to_iso(now), cancelled_by=actor["id"]
    )
    tx.put(SIGNUPS, signup_id, signup)
    timers.cancel(tx, f"act-remind:{signup_id}")
    session["waiting"] = [w for w in session["waiting"] if w != signup_id]
    promoted = None
    if was == SignupStatus.BOOKED:
        session["count"] = max(0, int(session["count"]) - 1)
        promoted = _promote(tx, app, session, now)
    tx.put(SESSIONS, signup["session_id"], session)
    return promoted


def _promote(tx: Tx, app: App, session: Doc, now: datetime) -> Doc | None:
    """Give a freed place to the first on the waiting list, and tell them."""
    activity = Activity.from_doc(tx.require(ACTIVITIES, session["activity_id"]))
    while session["waiting"] and int(session["count"]) < activity.capacity:
        first = tx.get(SIGNUPS, session["waiting"].pop(0))
        if first is None or first["status"] != SignupStatus.WAITING:
            continue
        first["status"] = SignupStatus.BOOKED.value
        first["promoted_at"] = to_iso(now)
        tx.put(SIGNUPS, first["id"], first)
        session["count"] = int(session["count"]) + 1
        _schedule_reminder(tx, app, first, now)
        tell(
            tx,
            app,
            first,
            lambda tr, signup=first: Reply(  # type: ignore[misc]
                tr.t("activity.promoted", **words(app, tr, activity, signup))
            ),
            now,
        )
        return first
    return None


def words(app: App, tr: Translator, activity: Activity, signup: Doc) -> dict[str, str]:
    """The activity's name, time and place for a message."""
    start = from_iso(signup["start"])
    return {
        "name": activity.name(tr.language),
        "when": slots.dated(start, app.settings.timezone, tr.is_chinese),
        "place": activity.place,
    }


def tell(
    tx: Tx, app: App, signup: Doc, build: Callable[[Translator], Reply], now: datetime
) -> None:
    """Tell the person signed up, and who signed them up when that was someone else."""
    ids = dict.fromkeys((signup["person_id"], signup["booked_by"]))
    for person_id in ids:
        person = tx.get(people.PEOPLE, person_id)
        if person is None or person.get("forgotten"):
            continue
        tr = translator(person.get("language") or "zh_CN")
        reply = build(tr)
        for address in people.reachable_addresses(tx, person):
            outbox.post(tx, Outbound(Address(address), reply, tr.language), now)


def remind_job(tx: Tx, app: App, signup_id: str) -> None:
    """The day before: a reminder to whoever is still booked."""
    signup = tx.get(SIGNUPS, signup_id)
    if signup is None or signup["status"] != SignupStatus.BOOKED or signup.get("reminded_at"):
        return
    activity = Activity.from_doc(tx.require(ACTIVITIES, signup["activity_id"]))
    now = app.clock.now()
    signup["reminded_at"] = to_iso(now)
    tx.put(SIGNUPS, signup_id, signup)
    tell(
        tx,
        app,
        signup,
        lambda tr: Reply(tr.t("activity.reminder", **words(app, tr, activity, signup))),
        now,
    )


def mine(tx: Tx, person_id: str) -> list[Doc]:
    """Live sign-ups of a person, or made by them for a relative, soonest first."""
    found = [
        s
        for s in tx.all(SIGNUPS)
        if s["status"] in LIVE and person_id in (s["person_id"], s["booked_by"])
    ]
    return sorted(found, key=lambda s: s["start"])


# -- the organiser ------------------------------------------------------------------------------


def require_organiser(app: App, actor: Doc | None) -> Doc:
    """The actor, if a coordinator or admin.

    Raises:
        NotOrganiser: anybody else.
    """
    if actor is None or not people.has_role(app, actor, people.COORDINATOR):
        raise NotOrganiser()
    return actor


def roster(tx: Tx, sid: str) -> list[Doc]:
    """The sign-ups of a session that hold a place (booked, attended, absent), in order."""
    held = (SignupStatus.BOOKED, SignupStatus.ATTENDED, SignupStatus.ABSENT)
    found = [s for s in tx.find(SIGNUPS, session_id=sid) if s["status"] in held]
    return sorted(found, key=lambda s: s["created_at"])


def mark(tx: Tx, app: App, signup_id: str, present: bool, actor: Doc, now: datetime) -> Doc:
    """The organiser marks someone present or absent."""
    require_organiser(app, actor)
    signup = tx.get(SIGNUPS, signup_id)
    if signup is None or signup["status"] not in (
        SignupStatus.BOOKED,
        SignupStatus.ATTENDED,
        SignupStatus.ABSENT,
    ):
        raise UnknownSession()
    signup["status"] = (SignupStatus.ATTENDED if present else SignupStatus.ABSENT).value
    signup["marked_by"] = actor["id"]
    signup["marked_at"] = to_iso(now)
    tx.put(SIGNUPS, signup_id, signup)
    return signup


def sessions_on(tx: Tx, day: date) -> list[Doc]:
    """Every session (with sign-ups) of one local day."""
    return sorted(
        (s for s in tx.all(SESSIONS) if s["day"] == day.isoformat()), key=lambda s: s["start"]
    )


def meal_counts(tx: Tx, activity_id: str) -> dict[str, int]:
    """Meals booked per day, for the kitchen."""
    past = (s for s in tx.archived(SESSIONS) if s.get("activity_id") == activity_id)
    found = [*tx.find(SESSIONS, activity_id=activity_id), *past]
    return {s["day"]: int(s["count"]) for s in sorted(found, key=lambda s: s["day"])}


CSV_COLUMNS = (
    "activity",
    "date",
    "time",
    "name",
    "status",
    "booked_by",
    "signed_up_at",
    "price",
    "paid",
)


def export_csv(tx: Tx, app: App, activity_id: str, day: date | None = None) -> str:
    """The attendance list of an activity (one day, or all) as CSV, for the organiser."""
    activity = Activity.from_doc(require_activity(tx, activity_id))
    zone = app.settings.timezone
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    rows = [s for s in [*tx.all(SIGNUPS), *tx.archived(SIGNUPS)] if s["activity_id"] == activity_id]
    for signup in sorted(rows, key=lambda s: (s["start"], s["created_at"])):
        start = from_iso(signup["start"]).astimezone(zone)
        if day is not None and start.date() != day:
            continue
        writer.writerow(
            (
                activity.name_zh,
                start.date().isoformat(),
                start.strftime("%H:%M"),
                _name(tx, signup["person_id"]),
                signup["status"],
                _name(tx, signup["booked_by"])
                if signup["booked_by"] != signup["person_id"]
                else "",
                signup["created_at"],
                str(activity.price) if activity.price > 0 else "",
                str(signup.get("paid") or ""),
            )
        )
    return out.getvalue()


def _name(tx: Tx, person_id: str) -> str:
    person = tx.get(people.PEOPLE, person_id)
    return str(person.get("name", "")) if person else ""
