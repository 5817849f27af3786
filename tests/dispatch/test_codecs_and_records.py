"""Button codecs keep every value of before; typed records round-trip; refusals are logged once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from dispatch_world import (
    SECRETS,
    add_coordinator,
    add_grids,
    add_volunteer,
    button,
    delivery,
    engine,
    make_app,
    open_care_task,
    press,
    sent_to,
    settle,
    task,
)

from assistant.conversation import buttons as b
from assistant.jobs import timers
from assistant.services import dispatch
from assistant.services.care.records import Booking, BookingStatus
from assistant.services.dispatch.model import Offer, OfferStatus, Task, TaskStatus

OLD_VALUES = [
    (b.OfferAnswer(b.OfferVerb.ACCEPT, "of-1"), "a:offer:accept:of-1"),
    (b.OfferAnswer(b.OfferVerb.DECLINE, "of-1"), "a:offer:decline:of-1"),
    (b.TaskStep(b.StepVerb.ON_WAY, "tk-1"), "a:task:on_way:tk-1"),
    (b.TaskStep(b.StepVerb.ARRIVED, "tk-1"), "a:task:arrived:tk-1"),
    (b.TaskStep(b.StepVerb.DONE, "tk-1"), "a:task:done:tk-1"),
    (b.TaskStep(b.StepVerb.FAIL, "tk-1"), "a:task:fail:tk-1"),
    (b.TaskStep(b.StepVerb.FAIL_WHY, "tk-1", "not_home"), "a:task:failwhy:tk-1:not_home"),
    (b.TaskStep(b.StepVerb.DROP, "tk-1"), "a:task:drop:tk-1"),
    (b.TaskStep(b.StepVerb.DROP_YES, "tk-1"), "a:task:dropyes:tk-1"),
    (b.TaskStep(b.StepVerb.KEEP, "tk-1"), "a:task:keep:tk-1"),
    (b.TaskStep(b.StepVerb.HELP, "tk-1"), "a:task:help:tk-1"),
    (b.TaskStep(b.StepVerb.TAKE, "tk-1"), "a:task:take:tk-1"),
    (b.Assign("tk-1", "p-2"), "a:assign:tk-1:p-2"),
    (b.VolunteerDecision(True, "p-2"), "a:vol:yes:p-2"),
    (b.VolunteerDecision(False, "p-2"), "a:vol:no:p-2"),
    (b.ProxyDecision(True, "px-1"), "a:proxy:yes:px-1"),
    (b.ProxyDecision(False, "px-1"), "a:proxy:no:px-1"),
    (b.CareDecision(True, "bk-1"), "a:care:approve:bk-1"),
    (b.CareDecision(False, "bk-1"), "a:care:decline:bk-1"),
    (b.CareChange(b.ChangeVerb.CANCEL, "bk-1"), "a:care:cancel:bk-1"),
    (b.CareChange(b.ChangeVerb.CANCEL_YES, "bk-1"), "a:care:cancelyes:bk-1"),
    (b.CareChange(b.ChangeVerb.MOVE, "bk-1"), "a:care:move:bk-1"),
    (b.CareChange(b.ChangeVerb.STARS, "bk-1"), "a:care:stars:bk-1"),
    (b.CareChange(b.ChangeVerb.NOT_DONE, "bk-1"), "a:care:notdone:bk-1"),
    (b.Rating("bk-1", 4), "a:care:rate:bk-1:4"),
    (b.FollowUpAnswer("bk-1", "unwell"), "a:care:fu:bk-1:unwell"),
    (b.Guess("care"), "a:guess:care"),
    (b.Language("zh_CN"), "a:lang:zh_CN"),
]
PARSERS = {
    b.OfferAnswer: b.OfferAnswer.parse,
    b.TaskStep: b.TaskStep.parse,
    b.Assign: b.Assign.parse,
    b.VolunteerDecision: b.VolunteerDecision.parse,
    b.ProxyDecision: b.ProxyDecision.parse,
    b.CareDecision: b.care_button,
    b.CareChange: b.care_button,
    b.Rating: b.care_button,
    b.FollowUpAnswer: b.care_button,
    b.Guess: b.Guess.parse,
    b.Language: b.Language.parse,
}


@pytest.mark.parametrize(("codec", "old"), OLD_VALUES, ids=[old for _, old in OLD_VALUES])
def test_every_button_keeps_its_value_and_reads_back(codec: object, old: str) -> None:
    # Given a button as its codec builds it
    value = codec.encode()  # type: ignore[attr-defined]
    # Then it is byte for byte the value of before (buttons already sent keep working)
    assert value == old
    # And the action that receives its parts reads the same button back
    split = b.split(value)
    assert split is not None and split[0] == type(codec).ACTION  # type: ignore[attr-defined]
    assert PARSERS[type(codec)](split[1]) == codec  # type: ignore[index]


@pytest.mark.parametrize(
    ("parse", "parts"),
    [
        (b.OfferAnswer.parse, ["accept"]),
        (b.OfferAnswer.parse, ["grab", "of-1"]),
        (b.OfferAnswer.parse, ["accept", ""]),
        (b.TaskStep.parse, []),
        (b.TaskStep.parse, ["fly", "tk-1"]),
        (b.TaskStep.parse, ["failwhy", "tk-1"]),
        (b.TaskStep.parse, ["done", "tk-1", "extra"]),
        (b.Assign.parse, ["tk-1"]),
        (b.VolunteerDecision.parse, ["maybe", "p-2"]),
        (b.ProxyDecision.parse, ["yes"]),
        (b.care_button, ["rate", "bk-1", "five"]),
        (b.care_button, ["fu", "bk-1"]),
        (b.care_button, ["explode", "bk-1"]),
        (b.Guess.parse, []),
        (b.Language.parse, [""]),
    ],
)
def test_a_malformed_press_reads_as_nothing(parse: object, parts: list[str]) -> None:
    assert parse(parts) is None  # type: ignore[operator]


def test_a_part_that_would_break_the_grammar_is_refused_when_building() -> None:
    with pytest.raises(ValueError):
        b.Assign("tk:1", "p-2").encode()


def test_statuses_are_the_stored_strings() -> None:
    assert dispatch.OPEN == "open" and f"{dispatch.OFFER_WITHDRAWN}" == "withdrawn"
    assert BookingStatus.AWAITING == "awaiting_approval" and timers.DEAD == "dead"


def test_a_stored_task_and_its_offers_round_trip_through_their_records() -> None:
    # Given a task opened (and offered) the real way
    app = make_app(wave_size=2, waves=1)
    add_grids(app)
    with app.unit() as tx:
        add_volunteer(tx, "chen", "g1")
    task_id = open_care_task(app)
    settle(app)
    stored = task(app, task_id)
    with app.store.snapshot() as tx:
        offers = tx.find(dispatch.OFFERS, task_id=task_id)
        timer_docs = tx.all(timers.TIMERS)
    # Then each document is its record, and the record gives the same document back
    record = Task.from_doc(stored)
    assert record.status is TaskStatus.OPEN and record.wave == 1
    assert record.to_doc() == stored
    assert offers and all(Offer.from_doc(o).to_doc() == o for o in offers)
    assert Offer.from_doc(offers[0]).status is OfferStatus.OPEN
    assert timer_docs and all(timers.Timer.from_doc(t).to_doc() == t for t in timer_docs)


def test_a_booking_document_round_trips_through_its_record() -> None:
    doc = {
        "id": "bk-1",
        "service": "home_care",
        "person_id": "p-1",
        "booked_by": "p-1",
        "via": "chat",
        "start": "2026-12-04T02:00:00+00:00",
        "asap": False,
        "status": "open",
        "household": {"complex": "锦绣家园", "building": "1", "unit": "2", "room": "302"},
        "grid_id": "g1",
        "notes": "",
        "price": 0.0,
        "task_id": "tk-1",
        "rating": None,
        "comment": "",
        "created_at": "2026-12-01T02:00:00+00:00",
        "updated_at": "2026-12-01T02:00:00+00:00",
        "history": [{"status": "open", "at": "2026-12-01T02:00:00+00:00"}],
        "done_at": None,
    }
    booking = Booking.from_doc(doc)
    assert booking.start == datetime(2026, 12, 4, 2, tzinfo=UTC)
    assert booking.status is BookingStatus.OPEN and booking.extra == {"done_at": None}
    assert booking.to_doc() == doc


async def test_a_refusal_is_answered_once_and_logged_by_its_class_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given an offer to chen for a task that huang already took
    app = make_app(wave_size=2, waves=1)
    add_grids(app)
    with app.unit() as tx:
        add_volunteer(tx, "chen", "g1")
        add_volunteer(tx, "huang", "g1")
        add_coordinator(tx)
    open_care_task(app)
    settle(app)
    sent = delivery(app).take()
    eng = engine(app)
    await press(eng, "console:huang", button(sent_to(sent, "console:huang"), "a:offer:accept:"))
    # When chen accepts too
    with caplog.at_level(logging.INFO, logger="assistant.conversation.engine"):
        replies = await press(eng, "console:chen", button(sent_to(sent, "console:chen"), "a:"))
    # Then the engine answers the refusal (no handler catches it first) …
    assert len(replies) == 1 and "dispatch" not in replies[0].reply.text
    # … and logged it first, by its class, with nothing personal
    refused = [r for r in caplog.records if r.getMessage().startswith("refused:")]
    assert [r.getMessage() for r in refused] == ["refused: AlreadyTaken"]
    assert refused[0].levelno == logging.INFO
    assert not any(secret in r.getMessage() for r in caplog.records for secret in SECRETS)
