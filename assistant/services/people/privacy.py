"""A person's own data: what is kept about them, in plain words, and forgetting them.

``/forget`` promises that a person's name, home, phone and health notes are
gone. Those are copied into several records as a person uses the service: the
profile and its chat addresses, the household copy, notes and comments of
their bookings, the private part of the tasks opened for them, family-helper
requests, invitations, conversation drafts (theirs and a coordinator's who was
booking for them), and messages still waiting in the outbox. :func:`forget`
finds every one of them, hot or archived, in one unit of work:

1. what is still to come is cancelled: live bookings free their place and
   withdraw their task (the assigned volunteer is told, with the task's public
   words only), and the grid's coordinators hear of it without the person's
   details; a volunteer's open offers are withdrawn and accepted tasks handed
   back to dispatch;
2. every record keeps only an anonymous placeholder, through
   :meth:`~assistant.store.base.Tx.purge`, so no earlier version survives in
   the archive files either;
3. messages waiting to go to the person are cancelled, and the person's words
   are cut out of those still waiting to go to others.

Sent messages keep no body anyway (see :mod:`assistant.jobs.outbox`), and
Redis never holds message bodies, so nothing of the person is left on disk.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.conversation.vocabulary import Reply
from assistant.i18n import Translator
from assistant.jobs import timers
from assistant.services import people
from assistant.services.people import community, linking, volunteers
from assistant.store.base import Doc, NotFound, Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

BOOKINGS = "bookings"
TASKS = "tasks"
INVITES = "invitations"
MEDIA = "media"
"""Photos and voice notes people sent (the channels' media port keeps them there)."""
CONVERSATIONS = "conversations"
OUTBOX_JOB = "outbox.deliver"
REDACTED = "—"
NETWORK_NAMES = {"telegram": "Telegram", "matrix": "Matrix"}
"""Names of chat networks, the same in every language (the terminal's is translated)."""
MIN_SECRET = 2
"""Shorter strings (a lone digit, one character) are not cut out of other people's messages."""

# -- forgetting ---------------------------------------------------------------------------------


def forget(app: App, person_id: str) -> None:
    """Forget a person everywhere in one unit of work, then send what it queued.

    Raises:
        NotFound: there is no such person.
    """
    with app.unit() as tx:
        forget_in(tx, app, person_id, app.clock.now())
    log.info("person %s asked to be forgotten; personal data deleted", person_id)


def forget_in(tx: Tx, app: App, person_id: str, now: datetime) -> None:
    """:func:`forget` inside the caller's unit of work."""
    person = tx.get(people.PEOPLE, person_id)
    if person is None:
        raise NotFound(person_id)
    secrets = personal_strings(tx, person)
    addresses = set(person.get("addresses", [])) | linking.former_addresses(tx, person)
    _cancel_what_is_to_come(tx, app, person, now)
    _scrub_bookings(tx, person_id)
    _scrub_tasks(tx, person_id)
    _scrub_links(tx, person)
    _scrub_conversations(tx, person_id, addresses, secrets)
    for forget_in_context in app.forgetters:
        forget_in_context(tx, app, person_id, frozenset(addresses), now)
    _scrub_outbox(tx, person_id, addresses, secrets)
    for address in addresses:
        tx.purge(people.ADDRESSES, address)
    tx.purge(
        people.PEOPLE,
        person_id,
        {
            "name": people.FORGOTTEN_NAME,
            "forgotten": True,
            "forgotten_at": person.get("forgotten_at") or _iso(now),
            "addresses": [],
            "roles": [],
        },
    )


def personal_strings(tx: Tx, person: Doc) -> set[str]:
    """Every distinctive string of a person that other records may have copied as text.

    Chat addresses are not among them: they are matched whole, never as text
    (``console:li`` is part of ``console:liu``).
    """
    found: set[str] = {str(person.get(field) or "") for field in ("name", "phone")}
    households = [person.get("household")]
    for booking in _bookings_of(tx, person["id"]):
        households.append(booking.get("household"))
        found |= {str(booking.get("notes") or ""), str(booking.get("comment") or "")}
    for household in households:
        if household:
            found |= {_address(household, True), _address(household, False)}
    for link in tx.find(people.PROXIES, helper_id=person["id"]):
        found.add(str(link.get("relative_name") or ""))
    return {text.strip() for text in found if len(text.strip()) >= MIN_SECRET}


def _cancel_what_is_to_come(tx: Tx, app: App, person: Doc, now: datetime) -> None:
    """Cancel the person's live bookings and, for a volunteer, their offers and tasks."""
    from assistant.services import dispatch
    from assistant.services.care import records as care_records

    for booking in care_records.live_for(tx, person["id"]):
        _cancel_booking(tx, app, booking, now)
    dispatch.withdraw_volunteer(tx, app, person["id"], "forgotten")


def _cancel_booking(tx: Tx, app: App, booking: Doc, now: datetime) -> None:
    """Cancel one live booking: free its place, withdraw its task, tell the coordinators."""
    from assistant.services.care import capacity as care_capacity
    from assistant.services.care import records as care_records
    from assistant.services.dispatch.messages import when

    care_records.set_status(booking, care_records.CANCELLED, now)
    booking["cancelled_by"] = booking["person_id"]
    care_capacity.release(tx, app, booking)
    if booking.get("task_id"):
        app.dispatch.cancel_task(tx, app, booking["task_id"], "forgotten")
    service = app.services.get(booking["service"])

    def notice(tr: Translator) -> Reply:
        name = service.name(tr.language) if service else booking["service"]
        moment = tr.t("privacy.asap") if booking.get("asap") else when(app, tr, booking["start"])
        return Reply(tr.t("privacy.booking_cancelled", service=name, when=moment))

    for coordinator in people.coordinators_for(tx, booking.get("grid_id")):
        if coordinator["id"] != booking["person_id"]:
            volunteers.tell(tx, app, coordinator, notice, now)
    tx.put(BOOKINGS, booking["id"], booking)


def _scrub_bookings(tx: Tx, person_id: str) -> None:
    """Bookings for the person keep their service, time and status, nothing personal."""
    for booking in _bookings_of(tx, person_id):
        booking.update(household=None, notes="", comment="", forgotten=True)
        tx.purge(BOOKINGS, booking["id"], booking)


def _scrub_tasks(tx: Tx, person_id: str) -> None:
    """Tasks opened for the person lose their private part (name, address, phone, notes)."""
    for task in _everywhere(tx, TASKS):
        if task.get("requester_id") == person_id and task.get("private"):
            task.update(private={}, forgotten=True)
            tx.purge(TASKS, task["id"], task)


def _scrub_links(tx: Tx, person: Doc) -> None:
    """Family-helper requests, invitations and the photos and voice notes they sent go."""
    for link in _everywhere(tx, people.PROXIES):
        if person["id"] in (link.get("helper_id"), link.get("relative_id")):
            tx.purge(people.PROXIES, link["id"])
    for invite in _everywhere(tx, INVITES):
        if invite.get("person_id") == person["id"]:
            tx.purge(INVITES, invite["id"])
    addresses = set(person.get("addresses", []))
    for media in _everywhere(tx, MEDIA):
        if media.get("owner") in addresses:
            tx.purge(MEDIA, media["id"])


def _scrub_conversations(tx: Tx, person_id: str, addresses: set[str], secrets: set[str]) -> None:
    """The person's conversations go; other people's drafts about them are dropped."""
    for address in addresses:
        tx.purge(CONVERSATIONS, address)
    for conversation in tx.all(CONVERSATIONS):
        if conversation["id"] in addresses:
            continue
        if _mentions(conversation.get("data"), secrets | {person_id}):
            language = conversation.get("language", "")
            tx.purge(CONVERSATIONS, conversation["id"], {"state": None, "language": language})


def _scrub_outbox(tx: Tx, person_id: str, addresses: set[str], secrets: set[str]) -> None:
    """Messages waiting for the person are cancelled; others' lose the person's words.

    Sent messages were archived with no body; their recipient address becomes
    the anonymous person id, so the audit still counts who was told what, when.
    """
    cuts = dict.fromkeys(secrets, REDACTED)
    for timer in tx.find(timers.TIMERS, job=OUTBOX_JOB):
        if timer["status"] not in (timers.PENDING, timers.ENQUEUED, timers.DEAD):
            continue  # a dead message still holds its body: it is scrubbed like a waiting one
        if _recipient(timer) in addresses:
            timer["status"] = timers.CANCELLED
            timer["args"] = _readdressed(redact(timer["args"], cuts), addresses, person_id)
            timers.close(tx, timer)
        elif _mentions(timer.get("args"), secrets):
            timer["args"] = redact(timer["args"], cuts)
            tx.put(timers.TIMERS, timer["id"], timer)
    for timer in list(tx.archived(timers.TIMERS)):
        if timer.get("job") != OUTBOX_JOB:
            continue
        if _recipient(timer) in addresses or _mentions(timer.get("args"), secrets):
            args = _readdressed(redact(timer["args"], cuts), addresses, person_id)
            tx.purge(timers.TIMERS, timer["id"], {**timer, "args": args})


def _recipient(timer: Doc) -> str:
    """The address an outbox timer's message goes (or went) to."""
    args = timer.get("args") or [{}]
    payload = args[0] if isinstance(args[0], dict) else {}
    return str(payload.get("to", ""))


def _readdressed(args: list[Any], addresses: set[str], person_id: str) -> list[Any]:
    """Outbox arguments whose recipient, if it is one of ``addresses``, is now the person's id."""
    return [
        {**payload, "to": person_id}
        if isinstance(payload, dict) and payload.get("to") in addresses
        else payload
        for payload in args
    ]


def redact(value: Any, cuts: Mapping[str, str]) -> Any:
    """``value`` with each string of ``cuts`` replaced by its value in every text (longest first)."""
    ordered = sorted(cuts.items(), key=lambda item: len(item[0]), reverse=True)
    return _redact(value, ordered)


def _redact(value: Any, ordered: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for secret, replacement in ordered:
            value = value.replace(secret, replacement)
        return value
    if isinstance(value, list):
        return [_redact(item, ordered) for item in value]
    if isinstance(value, dict):
        return {key: _redact(item, ordered) for key, item in value.items()}
    return value


def _mentions(value: Any, secrets: set[str]) -> bool:
    if isinstance(value, str):
        return any(secret in value for secret in secrets)
    if isinstance(value, list):
        return any(_mentions(item, secrets) for item in value)
    if isinstance(value, dict):
        return any(_mentions(item, secrets) for item in value.values())
    return False


def _bookings_of(tx: Tx, person_id: str) -> list[Doc]:
    return [b for b in _everywhere(tx, BOOKINGS) if b.get("person_id") == person_id]


def _everywhere(tx: Tx, collection: str) -> Iterator[Doc]:
    """Every document of a collection, hot and archived (slow: for forgetting only)."""
    hot = tx.all(collection)
    seen = {doc["id"] for doc in hot}
    yield from hot
    for doc in tx.archived(collection):
        if doc["id"] not in seen:
            yield doc


def _address(household: dict[str, Any], chinese: bool) -> str:
    if "text" in household:
        return str(household["text"])
    return community.describe_household(household, chinese)


def _iso(moment: datetime) -> str:
    from assistant.clock import to_iso

    return to_iso(moment)


# -- what we keep ------------------------------------------------------------------------------


def what_we_keep(tx: Tx, app: App, person: Doc, tr: Translator) -> list[Reply]:
    """Everything kept about a person, in plain sentences in their language.

    Profile, home, phone, chat addresses, family links, volunteer details,
    bookings (their own, their relatives', those they made in chat) with their
    notes, ratings and comments, and how long each is kept. A long list comes
    in several messages.
    """
    household = person.get("household")
    home = community.describe_household(household, tr.is_chinese) if household else ""
    chats = [_chat_words(tr, address) for address in person.get("addresses", [])]
    lines = [
        tr.t("privacy.kept_intro"),
        tr.t(
            "privacy.kept_profile",
            name=person.get("name", ""),
            since=_day(app, tr, person.get("created_at")),
        ),
        tr.t("privacy.kept_home", home=home or tr.t("privacy.none")),
        tr.t("privacy.kept_phone", phone=person.get("phone") or tr.t("privacy.none")),
        *_age_lines(person, tr),
        tr.t("privacy.kept_chats", chats=_join(tr, chats) or tr.t("privacy.none")),
        *_family_lines(tx, person, tr),
        *_volunteer_lines(person, tr),
        *_booking_lines(tx, app, person, tr),
        tr.t("privacy.kept_how_long"),
    ]
    return _split(lines)


def _age_lines(person: Doc, tr: Translator) -> list[str]:
    """The birth year (activities for elders) and "lives alone" (wellbeing rounds), if kept."""
    lines = []
    if person.get("birth_year"):
        lines.append(tr.t("activity.kept_birth_year", year=person["birth_year"]))
    if person.get("lives_alone"):
        lines.append(tr.t("notice.kept_lives_alone"))
    return lines


def _chat_words(tr: Translator, address: str) -> str:
    network, _, ident = address.partition(":")
    name = NETWORK_NAMES.get(network) or tr.t("privacy.network_console")
    return tr.t("privacy.chat", network=name, ident=ident)


def _join(tr: Translator, items: list[str]) -> str:
    return ("、" if tr.is_chinese else ", ").join(items)


def _family_lines(tx: Tx, person: Doc, tr: Translator) -> list[str]:
    links = tx.find(people.PROXIES, helper_id=person["id"])
    if not links:
        return [tr.t("privacy.kept_family_none")]
    out = []
    for link in links:
        status = tr.t(f"privacy.family_{link.get('status', 'pending')}")
        relative = link.get("relative_name", "")
        out.append(tr.t("privacy.kept_family", relative=relative, status=status))
    return out


def _volunteer_lines(person: Doc, tr: Translator) -> list[str]:
    volunteer = person.get("volunteer")
    if not volunteer:
        return []
    skills = volunteers.skill_names(tr, volunteer.get("skills", []))
    hours = volunteer.get("hours_per_week", 0)
    return [tr.t("privacy.kept_volunteer", skills=skills, hours=hours)]


def _booking_lines(tx: Tx, app: App, person: Doc, tr: Translator) -> list[str]:
    from assistant.services.care import records as care_records

    relatives = {r["id"] for r in people.relatives_of(tx, person["id"])}
    mine = [
        b
        for b in _everywhere(tx, BOOKINGS)
        if b.get("person_id") == person["id"]
        or b.get("person_id") in relatives
        or (b.get("booked_by") == person["id"] and b.get("via") == care_records.CHAT)
    ]
    if not mine:
        return [tr.t("privacy.kept_bookings_none")]
    out = [tr.t("privacy.kept_bookings", count=len(mine))]
    for booking in sorted(mine, key=lambda b: str(b.get("start", ""))):
        out.append(_booking_line(tx, app, booking, tr))
    return out


def _booking_line(tx: Tx, app: App, booking: Doc, tr: Translator) -> str:
    code = booking.get("service", "")
    service = app.services[code].name(tr.language) if code in app.services else code
    parts = [
        tr.t(
            "privacy.booking",
            service=service,
            day=_day(app, tr, booking.get("start")),
            status=tr.t(f"privacy.status_{booking.get('status', 'open')}"),
        )
    ]
    household = booking.get("household")
    if household:
        parts.append(tr.t("privacy.booking_address", address=_address(household, tr.is_chinese)))
    if booking.get("notes"):
        parts.append(tr.t("privacy.booking_notes", notes=booking["notes"]))
    if booking.get("rating") is not None:
        parts.append(tr.t("privacy.booking_rating", rating=booking["rating"]))
    if booking.get("comment"):
        parts.append(tr.t("privacy.booking_comment", comment=booking["comment"]))
    return "\n   ".join(parts)


def _day(app: App, tr: Translator, moment: Any) -> str:
    if not moment:
        return "-"
    from assistant.clock import from_iso

    local = from_iso(str(moment)).astimezone(app.settings.timezone)
    month = tr.t(f"privacy.month_{local.month}")
    return tr.t("privacy.day", year=local.year, month=month, day=local.day)


def _split(lines: list[str], limit: int = 3500) -> list[Reply]:
    """Lines gathered into messages no longer than ``limit`` characters."""
    out: list[Reply] = []
    current: list[str] = []
    size = 0
    for line in lines:
        if current and size + len(line) > limit:
            out.append(Reply("\n".join(current)))
            current, size = [], 0
        current.append(line[:limit])
        size += len(line) + 1
    if current:
        out.append(Reply("\n".join(current)))
    return out
