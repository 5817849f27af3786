"""Closing the loop of a care visit: rating, the next-day follow-up, and archiving.

After "done" the resident (or the family helper who booked) is asked to
confirm and rate the visit; the next day at ``[dispatch] follow_up_hour``
local time a follow-up asks how they are, and a worrying answer goes to the
coordinator of their micro-grid. A week after the visit the booking leaves the
hot file. Everything later than now is a durable timer, so a restart loses
nothing; every job checks the booking first, so running one twice is harmless.

Jobs (in ``care.JOBS``, registered by the composition root):
    care.follow_up   ask "林奶奶今天身体还好吗？" (args: booking id)
    care.expire      archive a finished booking a week on (args: booking id)
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from assistant.clock import to_iso
from assistant.conversation.buttons import CareChange, ChangeVerb, FollowUpAnswer, Rating
from assistant.conversation.vocabulary import Choice, Reply
from assistant.domain import slots
from assistant.i18n import Translator
from assistant.jobs import timers
from assistant.services import people
from assistant.services.care import notify as care_notify
from assistant.services.care import records as care_records
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

KEEP_FINISHED = timedelta(days=7)
STARS = (1, 2, 3, 4, 5)
FINE, UNWELL, HELP = "ok", "unwell", "help"
ANSWERS = (FINE, UNWELL, HELP)
MAX_COMMENT = 300


class AlreadyAnswered(care_records.CareError):
    """The rating or follow-up was already given (perhaps by the family helper)."""

    key = "care.already_answered"


# -- after the visit ---------------------------------------------------------------


def rating_choices(booking_id: str) -> care_notify.ChoicesFor:
    """Star buttons and "not done" for a booking."""

    def build(tr: Translator) -> tuple[tuple[Choice, ...], ...]:
        stars = tuple(Choice("⭐" * n, Rating(booking_id, n).encode()) for n in STARS)
        return (
            stars[:3],
            stars[3:],
            (Choice(tr.t("care.not_done"), CareChange(ChangeVerb.NOT_DONE, booking_id).encode()),),
        )

    return build


def after_done(tx: Tx, app: App, booking: Doc, now: datetime) -> None:
    """Ask for a rating now; schedule the follow-up and the archiving."""
    care_notify.tell(
        tx, app, booking, "care.ask_rating", now, choices=rating_choices(booking["id"])
    )
    hour = int(app.settings.get("dispatch", "follow_up_hour"))
    _schedule(
        tx, "care.follow_up", booking, slots.next_day_at(now, hour, app.settings.timezone), now
    )
    _schedule(tx, "care.expire", booking, now + KEEP_FINISHED, now)


def after_failed(tx: Tx, app: App, booking: Doc, now: datetime) -> None:
    """Schedule the archiving of a visit that did not happen."""
    _schedule(tx, "care.expire", booking, now + KEEP_FINISHED, now)


def _schedule(tx: Tx, job: str, booking: Doc, due: datetime, now: datetime) -> None:
    """A durable timer for a later job about a booking, once per job and booking."""
    timers.schedule(tx, job, [booking["id"]], due, now, key=timer_key(job, booking["id"]))


def timer_key(job: str, booking_id: str) -> str:
    """The idempotency key of a booking's timer."""
    return f"{job}:{booking_id}"


def _answerer(tx: Tx, app: App, booking_id: str, actor: Doc) -> Doc:
    booking = tx.get(care_records.BOOKINGS, booking_id)
    if booking is None:
        raise care_records.NotChangeable()
    if care_records.relation(tx, app, booking, actor) not in (
        care_records.SELF,
        care_records.BOOKER,
        care_records.PROXY,
    ):
        raise care_records.NotYours()
    return booking


def rateable(tx: Tx, app: App, booking_id: str, actor: Doc) -> Doc:
    """The booking, if the actor may rate it now: done, theirs to answer, not yet rated.

    Raises:
        NotYours: the actor is not the resident or their family helper.
        NotChangeable: the visit is not done.
        AlreadyAnswered: it was rated already.
    """
    booking = _answerer(tx, app, booking_id, actor)
    if booking["status"] != care_records.DONE:
        raise care_records.NotChangeable()
    if booking.get("rating") is not None:
        raise AlreadyAnswered()
    return booking


def rate(tx: Tx, app: App, booking_id: str, actor: Doc, stars: int, now: datetime) -> Doc:
    """Record the rating of a finished visit; the first answer counts."""
    if stars not in STARS:
        raise care_records.NotChangeable()
    booking = rateable(tx, app, booking_id, actor)
    booking["rating"] = stars
    booking["rated_by"] = actor["id"]
    booking["rated_at"] = to_iso(now)
    care_records.save(tx, booking)
    log.info("booking %s rated %d", booking_id, stars)
    return booking


def comment(tx: Tx, app: App, booking_id: str, actor: Doc, text: str, now: datetime) -> Doc:
    """Keep the optional comment of the person who rated."""
    booking = _answerer(tx, app, booking_id, actor)
    if booking.get("rated_by") != actor["id"] or booking.get("comment"):
        raise AlreadyAnswered()
    booking["comment"] = text[:MAX_COMMENT]
    booking["commented_at"] = to_iso(now)
    care_records.save(tx, booking)
    return booking


def not_done(tx: Tx, app: App, booking_id: str, actor: Doc, now: datetime) -> Doc:
    """The resident says the visit did not happen: tell the coordinators of the grid."""
    booking = _answerer(tx, app, booking_id, actor)
    if booking["status"] != care_records.DONE:
        raise care_records.NotChangeable()
    if booking.get("rating") is not None or booking.get("disputed_at"):
        raise AlreadyAnswered()
    booking["disputed_at"] = to_iso(now)
    care_records.save(tx, booking)
    log.warning("booking %s: resident says the visit was not done", booking_id)
    _to_coordinators(tx, app, booking, "care.coordinator_not_done", now)
    return booking


# -- the next day ---------------------------------------------------------------------


def follow_up_job(tx: Tx, app: App, booking_id: str) -> None:
    """Ask how the resident is, the day after the visit; once."""
    now = app.clock.now()
    booking = tx.get(care_records.BOOKINGS, booking_id)
    if (
        booking is None
        or booking["status"] != care_records.DONE
        or booking.get("follow_up_sent_at")
    ):
        return
    booking["follow_up_sent_at"] = to_iso(now)
    person = tx.get(people.PEOPLE, booking["person_id"]) or {}
    name = str(person.get("name", ""))

    def choices(tr: Translator) -> tuple[tuple[Choice, ...], ...]:
        return (
            tuple(
                Choice(tr.t(f"care.fu_{answer}"), FollowUpAnswer(booking_id, answer).encode())
                for answer in ANSWERS
            ),
        )

    care_notify.tell(tx, app, booking, "care.follow_up_ask", now, choices=choices, name=name)
    if not care_notify.recipients(tx, booking):
        _to_coordinators(tx, app, booking, "care.coordinator_call", now)
    care_records.save(tx, booking)
    log.info("booking %s: follow-up sent", booking_id)


def answer_follow_up(
    tx: Tx, app: App, booking_id: str, actor: Doc, answer: str, now: datetime
) -> Doc:
    """Record how the resident is; a worrying answer goes to the grid's coordinator."""
    booking = _answerer(tx, app, booking_id, actor)
    if answer not in ANSWERS or not booking.get("follow_up_sent_at"):
        raise care_records.NotChangeable()
    if booking.get("follow_up_answer"):
        raise AlreadyAnswered()
    booking["follow_up_answer"] = answer
    booking["follow_up_answered_at"] = to_iso(now)
    care_records.save(tx, booking)
    if answer == FINE:
        return booking
    log.warning("booking %s: follow-up answer %s routed to a coordinator", booking_id, answer)
    _to_coordinators(tx, app, booking, "care.coordinator_worry", now)
    return booking


def _to_coordinators(tx: Tx, app: App, booking: Doc, key: str, now: datetime) -> None:
    person = tx.get(people.PEOPLE, booking["person_id"]) or {}
    answer = str(booking.get("follow_up_answer") or FINE)

    def build(tr: Translator) -> Reply:
        return Reply(
            tr.t(
                key,
                name=person.get("name", ""),
                service=care_notify.service_name(app, booking["service"], tr),
                when=care_notify.when_text(app, booking, tr, now, dated=True),
                place=care_notify.describe_address(booking.get("household"), tr.is_chinese),
                phone=person.get("phone") or tr.t("care.no_phone"),
                answer=tr.t(f"care.fu_{answer}"),
            )
        )

    for coordinator in people.coordinators_for(tx, booking.get("grid_id")):
        care_notify.post_to(tx, coordinator, build, now)


def expire_job(tx: Tx, app: App, booking_id: str) -> None:
    """A week after the visit, the booking leaves the hot file."""
    booking = tx.get(care_records.BOOKINGS, booking_id)
    if booking is None or booking["status"] not in (care_records.DONE, care_records.FAILED):
        return
    booking["expired"] = True
    care_records.save(tx, booking)
