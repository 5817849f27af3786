"""Door-knock rounds (敲门行动): the households a notice did not reach, visited by building.

At the deadline (:func:`deadline_job`) the silent households of each building become
one round, opened with dispatch as the task kind "door-knock round" (``knock``):
offers in waves to the grid's volunteers, first accept wins, and the building and
rooms only in the private part, for the one who accepts. On ``assigned`` the
listener (:func:`heard`) sends that volunteer one card per household with the
checks: all well / not home / needs help / told the notice.

* all well, told: the household counts as told, in person;
* not home: the card comes back the next day at ``knock_hour``, at most
  ``knock_retries`` times; after the last try the coordinators are told;
* needs help → which help: a care visit (booked at once by the volunteer for the
  household, as the resident's helper), the night pharmacy, or supplies; the
  coordinators are alerted at once, with the address and what was booked.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from assistant.clock import from_iso, to_iso
from assistant.conversation.buttons import KnockCheck, KnockVerb
from assistant.conversation.vocabulary import Address, Choice, Outbound, Reply, rows
from assistant.domain import slots
from assistant.i18n import Translator, translator
from assistant.jobs import outbox, timers
from assistant.services import care, people
from assistant.services.notices.acks import describe, mark, silent
from assistant.services.notices.records import (
    HOUSEHOLDS,
    KIND,
    NOTICES,
    REACHED,
    ROUNDS,
    Check,
    NoticeGone,
    NoticeStatus,
    NotYourRound,
    households_doc_id,
)
from assistant.services.notices.sending import DEADLINE, deadline_words, setting
from assistant.services.people import community
from assistant.store.base import Doc, Tx, new_id

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

AGAIN = "notices.knock_again"
ROUND_MINUTES = 120
HELP_KINDS = {
    KnockVerb.HELP_CARE: "care",
    KnockVerb.HELP_PHARMACY: "pharmacy",
    KnockVerb.HELP_SUPPLIES: "supplies",
}


# -- at the deadline --------------------------------------------------------------------------


def deadline_job(tx: Tx, app: App, notice_id: str) -> None:
    """The deadline: silent households become door-knock rounds, one per building."""
    notice = tx.get(NOTICES, notice_id)
    if notice is None or notice["status"] not in (NoticeStatus.SENT, NoticeStatus.SENDING):
        return
    now = app.clock.now()
    if notice["status"] == NoticeStatus.SENDING:  # still going out: look again in a minute
        later = now + timedelta(minutes=1)
        timers.schedule(
            tx,
            DEADLINE,
            [notice_id],
            later,
            now,
            key=f"nt-deadline-again:{to_iso(later)}:{notice_id}",
        )
        return
    buildings: dict[tuple[str, str], list[tuple[str, Doc]]] = defaultdict(list)
    homeless: list[Doc] = []
    for grid_id, key, household in silent(tx, notice):
        home = household.get("home")
        if home:
            buildings[(grid_id, f"{home['complex']}|{home.get('building', '')}")].append(
                (key, household)
            )
        else:
            homeless.append(household)
    opened = [
        open_round(tx, app, notice, grid_id, building, found, now)["id"]
        for (grid_id, building), found in sorted(buildings.items())
    ]
    notice["status"] = NoticeStatus.CLOSED.value
    notice["closed_at"] = to_iso(now)
    notice["rounds"] = opened
    tx.put(NOTICES, notice_id, notice)
    silent_count = sum(len(found) for found in buildings.values()) + len(homeless)
    _tell(
        tx,
        app,
        notice["author_id"],
        lambda tr: _deadline_reply(tx, tr, silent_count, len(opened), homeless),
        now,
    )
    log.info(
        "notice %s closed: %d silent households, %d rounds", notice_id, silent_count, len(opened)
    )


def _deadline_reply(
    tx: Tx, tr: Translator, silent_count: int, rounds: int, homeless: list[Doc]
) -> Reply:
    if not silent_count:
        return Reply(tr.t("notice.deadline_all"))
    lines = [tr.t("notice.deadline_rounds", silent=silent_count, rounds=rounds)]
    if homeless:
        names = [describe(tx, h, tr.is_chinese, full=True) for h in homeless]
        lines.append(
            tr.t("notice.deadline_call", names=("、" if tr.is_chinese else ", ").join(names))
        )
    return Reply("\n".join(lines))


def open_round(
    tx: Tx,
    app: App,
    notice: Doc,
    grid_id: str,
    building: str,
    households: list[tuple[str, Doc]],
    now: datetime,
) -> Doc:
    """One building's round, dispatched to volunteers as a "door-knock round" task."""
    round_id = new_id("kr")
    entries = [
        {
            "key": key,
            "home": h["home"],
            "members": list(h["members"]),
            "check": Check.PENDING.value,
            "tries": 0,
        }
        for key, h in households
    ]
    complex_name, _, number = building.partition("|")
    rooms = ", ".join(_room_words(e["home"]) for e in entries)
    count = len(entries)
    task_id = app.dispatch.open_task(
        tx,
        app,
        kind=KIND,
        ref=round_id,
        skill=str(setting(app, "knock_skill")),
        grid_id=grid_id,
        starts_at=now,
        duration_minutes=ROUND_MINUTES,
        summary={
            "title_zh": f"敲门行动（{count}户）",
            "title_en": f"Door-knock check ({count} households)",
            "grid_name": community.grid_name(tx, grid_id),
            "place": complex_name,
        },
        private={
            "name": rooms,
            "address_zh": f"{complex_name} {number}栋",
            "address_en": f"{complex_name}, building {number}",
            "phone": "",
            "notes": "",
        },
        requester_id=str(notice["author_id"]),
        payload={"notice_id": notice["id"]},
    )
    found: Doc = {
        "notice_id": notice["id"],
        "grid_id": grid_id,
        "building": building,
        "households": entries,
        "task_id": task_id,
        "assignee_id": None,
        "status": "open",
        "created_at": to_iso(now),
        "author_id": notice["author_id"],
    }
    tx.put(ROUNDS, round_id, found)
    found["id"] = round_id
    return found


def _room_words(home: dict[str, Any]) -> str:
    """``1-302``: unit and room, the same in every language."""
    return f"{home.get('unit', '')}-{home.get('room', '')}".strip("-")


# -- the task's events --------------------------------------------------------------------------


def heard(tx: Tx, app: App, round_id: str, event: str, task: dict[str, Any]) -> None:
    """The "door-knock round" listener: follow the task; the assignee gets the household cards."""
    found = tx.get(ROUNDS, round_id)
    if found is None:
        return
    now = app.clock.now()
    if event == "assigned":
        assignee = str(task.get("assignee_id") or "")
        if not assignee or found.get("assignee_id") == assignee:
            return
        found.update(assignee_id=assignee, status="assigned")
        tx.put(ROUNDS, round_id, found)
        for index, entry in enumerate(found["households"]):
            if entry["check"] == Check.PENDING:
                post_card(tx, app, found, index, now)
    elif event == "dropped":
        found.update(assignee_id=None, status="open")
        tx.put(ROUNDS, round_id, found)
    elif event in ("done", "failed") and found["status"] != "done":
        found["status"] = "done"
        found["done_at"] = to_iso(now)
        tx.put(ROUNDS, round_id, found)
        _tell(tx, app, found["author_id"], lambda tr: round_summary(tx, tr, found), now)


def post_card(tx: Tx, app: App, found: Doc, index: int, now: datetime) -> None:
    """One household's card to the round's volunteer: the address, the names, four checks."""
    volunteer = tx.get(people.PEOPLE, str(found.get("assignee_id") or ""))
    if volunteer is None:
        return
    tr = translator(volunteer.get("language") or "zh_CN")
    entry = found["households"][index]
    place = describe(tx, entry, tr.is_chinese, full=True)
    text = tr.t("knock.card", number=index + 1, total=len(found["households"]), place=place)
    if entry["tries"]:
        text += "\n" + tr.t("knock.card_again", tries=entry["tries"])
    reply = Reply(
        text, choices=card_choices(tr, found["id"], index), key=card_key(found["id"], index)
    )
    for address in people.reachable_addresses(tx, volunteer):
        outbox.post(tx, Outbound(Address(address), reply, tr.language), now)


def card_key(round_id: str, index: int) -> str:
    """The key of a household's card, so the record can replace its buttons."""
    return f"knock:{round_id}:{index}"


def card_choices(tr: Translator, round_id: str, index: int) -> tuple[tuple[Choice, ...], ...]:
    """All well / not home / needs help / told the notice."""
    verbs = (
        (KnockVerb.WELL, "knock.well"),
        (KnockVerb.AWAY, "knock.away"),
        (KnockVerb.HELP, "knock.help"),
        (KnockVerb.TOLD, "knock.told"),
    )
    buttons = [
        Choice(tr.t(label), KnockCheck(verb, round_id, index).encode()) for verb, label in verbs
    ]
    return rows(*buttons, width=2)


def help_choices(tr: Translator, round_id: str, index: int) -> tuple[tuple[Choice, ...], ...]:
    """Which help: a care visit, the night pharmacy, supplies."""
    verbs = (
        (KnockVerb.HELP_CARE, "knock.help_care"),
        (KnockVerb.HELP_PHARMACY, "knock.help_pharmacy"),
        (KnockVerb.HELP_SUPPLIES, "knock.help_supplies"),
    )
    return tuple(
        (Choice(tr.t(label), KnockCheck(verb, round_id, index).encode()),) for verb, label in verbs
    )


# -- the volunteer's checks ---------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """What a check changed: the message for the volunteer and its values."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)
    left: int = 0
    """Households of the round still to visit (now or on a later try)."""


def entry_of(tx: Tx, round_id: str, index: int, volunteer: Doc) -> tuple[Doc, Doc]:
    """The round and one of its households, if the presser is the round's volunteer.

    Raises:
        NoticeGone: no such round or household.
        NotYourRound: someone else took the round (or nobody yet).
    """
    found = tx.get(ROUNDS, round_id)
    if found is None or not 0 <= index < len(found["households"]):
        raise NoticeGone()
    if found.get("assignee_id") != volunteer["id"]:
        raise NotYourRound()
    return found, found["households"][index]


def record(
    tx: Tx, app: App, round_id: str, index: int, verb: KnockVerb, volunteer: Doc, now: datetime
) -> Recorded:
    """Record what the volunteer found at one door (``help`` itself only asks which help)."""
    found, entry = entry_of(tx, round_id, index, volunteer)
    if verb in (KnockVerb.WELL, KnockVerb.TOLD):
        entry["check"] = Check(verb.value).value
        _reached(tx, found, entry, volunteer, now)
        result = Recorded(f"knock.recorded_{verb.value}")
    elif verb is KnockVerb.AWAY:
        result = _away(tx, app, found, index, entry, now)
    else:
        result = _help(tx, app, found, entry, verb, volunteer, now)
    entry.setdefault("history", []).append({"check": verb.value, "at": to_iso(now)})
    tx.put(ROUNDS, round_id, found)
    return Recorded(result.key, result.values, left=_left(app, found))


def _left(app: App, found: Doc) -> int:
    retries = int(setting(app, "knock_retries"))
    return sum(
        1
        for e in found["households"]
        if e["check"] == Check.PENDING or (e["check"] == Check.AWAY and e["tries"] <= retries)
    )


def _reached(tx: Tx, found: Doc, entry: Doc, volunteer: Doc, now: datetime) -> None:
    """The household was told in person: it counts on the notice as acknowledged."""
    doc = tx.get(HOUSEHOLDS, households_doc_id(found["notice_id"], found["grid_id"]))
    if doc is not None and entry["key"] in doc["households"]:
        mark(tx, doc, entry["key"], str(volunteer["id"]), "door", now)


def _away(tx: Tx, app: App, found: Doc, index: int, entry: Doc, now: datetime) -> Recorded:
    """Nobody home: again tomorrow, or — after the last try — the coordinators are told."""
    entry["check"] = Check.AWAY.value
    entry["tries"] = int(entry["tries"]) + 1
    if entry["tries"] <= int(setting(app, "knock_retries")):
        again = slots.next_day_at(now, int(setting(app, "knock_hour")), app.settings.timezone)
        timers.schedule(
            tx,
            AGAIN,
            [found["id"], index, entry["tries"]],
            again,
            now,
            key=f"knock-again:{found['id']}:{index}:{entry['tries']}",
        )
        return Recorded("knock.recorded_away", {"at": to_iso(again)})
    _alert(tx, app, found, entry, "knock.alert_away", now)
    return Recorded("knock.recorded_away_last")


def _help(
    tx: Tx, app: App, found: Doc, entry: Doc, verb: KnockVerb, volunteer: Doc, now: datetime
) -> Recorded:
    """Needs help: record which, book a care visit when that is the help, alert at once."""
    kind = HELP_KINDS[verb]
    entry["check"] = Check.HELP.value
    entry["help"] = kind
    _reached(tx, found, entry, volunteer, now)
    booking = _book_care(tx, app, entry, volunteer, now) if kind == "care" else None
    if booking is not None:
        entry["booking_id"] = booking["id"]
    _alert(tx, app, found, entry, f"knock.alert_{kind}", now, booking=booking, volunteer=volunteer)
    if kind == "care":
        return Recorded("knock.recorded_care" if booking else "knock.recorded_care_failed")
    return Recorded("knock.recorded_help")


def _book_care(tx: Tx, app: App, entry: Doc, volunteer: Doc, now: datetime) -> Doc | None:
    """A care visit for the household, booked by the volunteer; ``None`` when none is free."""
    code = str(setting(app, "help_service"))
    member = next(
        (
            p
            for p in (tx.get(people.PEOPLE, pid) for pid in entry["members"])
            if p and not p.get("forgotten")
        ),
        None,
    )
    if code not in app.services or member is None:
        return None
    asap, days = care.offer(tx, app, code, now)
    if asap:
        start = care.ASAP
    elif days:
        starts = care.starts_on(tx, app, code, days[0], now)
        if not starts:
            return None
        start = to_iso(starts[0])
    else:
        return None
    draft = care.Draft(
        code, str(member["id"]), str(volunteer["id"]), care.CHAT, start, entry.get("home")
    )
    try:
        return care.book(tx, app, draft, now)
    except care.CareError as refusal:
        log.info("door-knock care booking refused: %s", type(refusal).__name__)
        return None


def _alert(
    tx: Tx,
    app: App,
    found: Doc,
    entry: Doc,
    message: str,
    now: datetime,
    booking: Doc | None = None,
    volunteer: Doc | None = None,
) -> None:
    """The grid's coordinators, at once: the full address, the names, and what was done."""
    for coordinator in people.coordinators_for(tx, found["grid_id"]):
        tr = translator(coordinator.get("language") or "zh_CN")
        lines = [
            tr.t(
                message,
                place=describe(tx, entry, tr.is_chinese, full=True),
                volunteer=str((volunteer or {}).get("name", "")),
            )
        ]
        if booking is not None:
            when = (
                "" if booking.get("asap") else deadline_words(app, tr, from_iso(booking["start"]))
            )
            lines.append(tr.t("knock.alert_booked", when=when or tr.t("knock.asap")))
        elif message == "knock.alert_care":
            lines.append(tr.t("knock.alert_not_booked"))
        reply = Reply("\n".join(lines))
        for address in people.reachable_addresses(tx, coordinator):
            outbox.post(tx, Outbound(Address(address), reply, tr.language), now)


def again_job(tx: Tx, app: App, round_id: str, index: int, tries: int) -> None:
    """The next day's try: the household's card to the round's volunteer again."""
    found = tx.get(ROUNDS, round_id)
    if found is None or not 0 <= index < len(found["households"]):
        return
    entry = found["households"][index]
    if entry["check"] != Check.AWAY or int(entry["tries"]) != int(tries):
        return
    post_card(tx, app, found, index, app.clock.now())


def round_summary(tx: Tx, tr: Translator, found: Doc) -> Reply:
    """A round's outcome for its notice's author."""
    counts = {check: 0 for check in Check}
    for entry in found["households"]:
        counts[Check(entry["check"])] += 1
    complex_name, _, number = found["building"].partition("|")
    place = f"{complex_name} {number}栋" if tr.is_chinese else f"{complex_name}, building {number}"
    return Reply(
        tr.t(
            "knock.summary",
            place=place,
            well=counts[Check.WELL] + counts[Check.TOLD],
            away=counts[Check.AWAY],
            help=counts[Check.HELP],
            pending=counts[Check.PENDING],
        )
    )


def progress(found: Doc) -> tuple[int, int]:
    """Households of a round visited (reached or found away), and how many it has."""
    done = sum(1 for e in found["households"] if e["check"] != Check.PENDING)
    return done, len(found["households"])


def reached_count(found: Doc) -> int:
    """Households of a round told in person."""
    return sum(1 for e in found["households"] if Check(e["check"]) in REACHED)


def _tell(tx: Tx, app: App, person_id: str, build: Any, now: datetime) -> None:
    person = tx.get(people.PEOPLE, person_id)
    if person is None:
        return
    tr = translator(person.get("language") or "zh_CN")
    reply = build(tr)
    for address in people.reachable_addresses(tx, person):
        outbox.post(tx, Outbound(Address(address), reply, tr.language), now)
