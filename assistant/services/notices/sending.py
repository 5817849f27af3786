"""Sending a notice: confirmed in one unit of work, fanned out through the outbox in a window.

:func:`create` writes the notice, its households and its recipients (in batches of
50) and schedules the first fan-out round, due now. Each round
(:func:`fanout_job`, in the unit of work of its timer) counts the notice's copies
still waiting in the outbox and posts new ones until ``[notices] in_flight`` wait,
then schedules the next round a second later. So the outbox always holds enough to
keep the network at its flood limit, and never thousands of timers at once (every
store write would rewrite them). Every copy is an outbox timer keyed by notice,
person and part: a round runs in one transaction with its batch's cursor, so a
worker killed in the middle posts nothing twice, and the channel's send-once mark
keeps a redelivered copy from going out twice.

While it goes out the author's progress message (key ``notice-progress:<id>``) is
edited every ``progress_seconds``; at the end it shows the total, and a summary
follows. A notice still going out can be cancelled: what waits in the outbox is
withdrawn, and the author is told how many had already gone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from assistant.clock import from_iso, to_iso
from assistant.conversation.buttons import NoticeButton, NoticeVerb
from assistant.conversation.vocabulary import Address, Choice, Outbound, Reply, network_of
from assistant.domain import slots
from assistant.i18n import Translator, translator
from assistant.jobs import outbox, timers
from assistant.services import people
from assistant.services.notices import text as notice_text
from assistant.services.notices.archive import archived_recent, ensure_tidy
from assistant.services.notices.audience import Audience, Recipient, gather
from assistant.services.notices.records import (
    BATCH_SIZE,
    BATCHES,
    HOUSEHOLDS,
    NOTICES,
    Draft,
    NoAudience,
    NotCoordinator,
    Notice,
    NoticeStatus,
    NotSending,
    households_doc_id,
    require,
)
from assistant.services.people import community
from assistant.store.base import Doc, Tx, new_id

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

FANOUT = "notices.fanout"
REMIND = "notices.remind"
DEADLINE = "notices.deadline"
ROUND_SECONDS = 1.0


def setting(app: App, key: str) -> Any:
    """One ``[notices]`` setting."""
    return app.settings.get("notices", key)


def copy_prefix(notice_id: str) -> str:
    """The start of the outbox key of every copy of a notice."""
    return f"nt:{notice_id}:"


def message_key(notice_id: str) -> str:
    """The key of a notice's private copy (its last part), so it can be edited later."""
    return f"notice:{notice_id}"


def progress_key(notice_id: str) -> str:
    """The key of the author's progress message."""
    return f"notice-progress:{notice_id}"


# -- confirming ---------------------------------------------------------------------------------


def create(tx: Tx, app: App, draft: Draft, now: datetime) -> Doc:
    """Write a confirmed notice and start sending it; return the notice.

    Raises:
        NoAudience: the grids hold nobody the notice could reach.
    """
    author = tx.get(people.PEOPLE, draft.author_id)
    if not may_send(app, author, draft.grids):
        raise NotCoordinator()
    audience = gather(tx, draft.grids)
    if not audience.recipients and not audience.groups:
        raise NoAudience()
    notice_id = new_id("nt")
    batches = _write_batches(tx, notice_id, audience.recipients)
    _write_households(tx, notice_id, audience)
    notice: Doc = {
        **asdict(draft),
        "grids": list(audience.grids),
        "status": NoticeStatus.SENDING.value,
        "created_at": to_iso(now),
        "people": len(audience.recipients),
        "households": audience.household_count,
        "unreachable": audience.unreachable,
        "unregistered": audience.unregistered,
        "batches": batches,
        "cursor": 0,
        "offset": 0,
        "posted": 0,
        "round": 1,
        "progress_at": to_iso(now),
    }
    tx.put(NOTICES, notice_id, notice)
    notice["id"] = notice_id
    _post_groups(tx, app, notice, audience.groups, now)
    _tell_author(tx, app, notice, lambda tr: _progress_reply(tr, notice, 0, edit=False), now)
    _schedule_after(tx, app, notice, now)
    timers.schedule(tx, FANOUT, [notice_id, 1], now, now, key=_fanout_key(notice_id, 1))
    ensure_tidy(tx, app)
    log.info(
        "notice %s confirmed: %d people, %d households, %d grids",
        notice_id,
        notice["people"],
        notice["households"],
        len(audience.grids),
    )
    return notice


def may_send(app: App, person: Doc | None, grids: Iterable[str]) -> bool:
    """Whether a person may send a notice to all these grids (checked again at confirm)."""
    if person is None or not people.has_role(app, person, people.COORDINATOR):
        return False
    if people.ADMIN in people.roles_of(app, person):
        return True
    return set(grids) <= set(person.get("coordinator_grids", []))


def sendable_grids(tx: Tx, app: App, person: Doc) -> list[str]:
    """The grids a person may send notices to."""
    if people.ADMIN in people.roles_of(app, person):
        return [str(g["id"]) for g in tx.all(community.GRIDS)]
    mine = set(person.get("coordinator_grids", []))
    return [str(g["id"]) for g in tx.all(community.GRIDS) if g["id"] in mine]


def _write_batches(tx: Tx, notice_id: str, recipients: list[Recipient]) -> int:
    """The recipients in documents of :data:`BATCH_SIZE`; return how many documents."""
    count = 0
    for start in range(0, len(recipients), BATCH_SIZE):
        chunk = recipients[start : start + BATCH_SIZE]
        tx.put(
            BATCHES,
            batch_id(notice_id, count),
            {"notice_id": notice_id, "n": count, "people": [asdict(r) for r in chunk]},
        )
        count += 1
    return count


def batch_id(notice_id: str, number: int) -> str:
    """The id of a notice's ``number``-th batch of recipients."""
    return f"{notice_id}|{number:04d}"


def _write_households(tx: Tx, notice_id: str, audience: Audience) -> None:
    for grid_id, found in audience.households.items():
        households = {
            key: {**h, "acked_by": None, "acked_at": None, "via": None} for key, h in found.items()
        }
        tx.put(
            HOUSEHOLDS,
            households_doc_id(notice_id, grid_id),
            {"notice_id": notice_id, "grid_id": grid_id, "households": households, "acked": 0},
        )


def _schedule_after(tx: Tx, app: App, notice: Doc, now: datetime) -> None:
    """The reminder to silent households and the deadline, as durable timers."""
    if not notice.get("needs_ack") or not notice.get("deadline"):
        return
    deadline = from_iso(notice["deadline"])
    remind_at = deadline - timedelta(hours=float(setting(app, "remind_hours")))
    if remind_at > now and setting(app, "remind_hours") > 0:
        timers.schedule(tx, REMIND, [notice["id"]], remind_at, now, key=f"nt-remind:{notice['id']}")
    timers.schedule(
        tx, DEADLINE, [notice["id"]], max(deadline, now), now, key=f"nt-deadline:{notice['id']}"
    )


# -- the fan-out ------------------------------------------------------------------------------


def _fanout_key(notice_id: str, round_no: int) -> str:
    return f"nt-fanout:{notice_id}:{round_no}"


def fanout_job(tx: Tx, app: App, notice_id: str, round_no: int) -> None:
    """One fan-out round: top the outbox up to ``in_flight`` copies, then the next round or the end.

    A round that is not the notice's current one (a repeated message) does nothing.
    """
    notice = tx.get(NOTICES, notice_id)
    if notice is None or notice["status"] != NoticeStatus.SENDING or notice["round"] != round_no:
        return
    now = app.clock.now()
    waiting = _waiting_people(tx, notice_id)
    room = int(setting(app, "in_flight")) - len(waiting)
    while room > 0 and notice["cursor"] < notice["batches"]:
        room -= _post_from_batch(tx, app, notice, room, now)
    waiting = _waiting_people(tx, notice_id)
    sent = notice["posted"] - len(waiting)
    if notice["cursor"] >= notice["batches"] and not waiting:
        _finish(tx, app, notice, now)
        return
    if now >= from_iso(notice["progress_at"]) + timedelta(seconds=setting(app, "progress_seconds")):
        notice["progress_at"] = to_iso(now)
        _tell_author(tx, app, notice, lambda tr: _progress_reply(tr, notice, sent, edit=True), now)
    notice["round"] = round_no + 1
    tx.put(NOTICES, notice_id, notice)
    later = now + timedelta(seconds=ROUND_SECONDS)
    timers.schedule(
        tx, FANOUT, [notice_id, round_no + 1], later, now, key=_fanout_key(notice_id, round_no + 1)
    )


def _post_from_batch(tx: Tx, app: App, notice: Doc, room: int, now: datetime) -> int:
    """Post up to ``room`` copies from the notice's current batch; return how many people."""
    batch = tx.get(BATCHES, batch_id(notice["id"], notice["cursor"]))
    if batch is None:  # forgotten people can empty a batch away
        notice["cursor"] += 1
        notice["offset"] = 0
        return 0
    start = int(notice["offset"])
    chunk = batch["people"][start : start + room]
    model = Notice.from_doc(notice)
    for person in chunk:
        post_copy(tx, app, model, Recipient(**person), now)
    notice["posted"] += len(chunk)
    if start + len(chunk) >= len(batch["people"]):
        tx.archive(BATCHES, batch["id"])
        notice["cursor"] += 1
        notice["offset"] = 0
    else:
        notice["offset"] = start + len(chunk)
    return len(chunk)


def _waiting_people(tx: Tx, notice_id: str) -> set[str]:
    """People whose copy of the notice still waits in the outbox."""
    prefix = copy_prefix(notice_id)
    return {
        str(t["key"]).split(":")[2]
        for t in tx.all(timers.TIMERS)
        if t["status"] in timers.LIVE and str(t.get("key", "")).startswith(prefix)
    }


def post_copy(
    tx: Tx, app: App, notice: Notice, person: Recipient, now: datetime, reminder: bool = False
) -> None:
    """One person's copy: the text in parts that fit their network, "收到" on the last part."""
    tr = translator(person.language)
    parts = copy_parts(app, tr, notice, network_of(person.address), reminder)
    for number, part in enumerate(parts, start=1):
        last = number == len(parts)
        choices = ack_choices(tr, notice.id) if last and notice.needs_ack else ()
        image = notice.photo if number == 1 and not reminder else ""  # the photo heads the copy
        keyed = message_key(notice.id) if last else ""
        reply = Reply(part, choices=choices, key=keyed, image=image)
        kind = "r" if reminder else "c"
        key = f"{copy_prefix(notice.id)}{person.person_id}:{kind}{number}"
        outbox.post(tx, Outbound(Address(person.address), reply, tr.language), now, key=key)


def ack_choices(tr: Translator, notice_id: str) -> tuple[tuple[Choice, ...], ...]:
    """The one button of a private copy."""
    return ((Choice(tr.t("notice.ack"), NoticeButton(NoticeVerb.ACK, notice_id).encode()),),)


def copy_parts(app: App, tr: Translator, notice: Notice, network: str, reminder: bool) -> list[str]:
    """A copy's text with its heading and, when it needs it, the line about "收到"."""
    centre = community.centre_name(app.settings, tr.is_chinese)
    head = tr.t("notice.reminder_head" if reminder else "notice.head", centre=centre)
    body = notice.text_for(tr.language)
    tail = ""
    if notice.needs_ack:
        tail = tr.t("notice.ack_hint")
        if notice.deadline is not None:
            tail += "\n" + tr.t("notice.ack_by", deadline=deadline_words(app, tr, notice.deadline))
    whole = "\n".join(x for x in (head, body, tail) if x)
    return notice_text.split(whole, notice_text.limit_of(network))


def deadline_words(app: App, tr: Translator, moment: datetime) -> str:
    """A deadline with its date: ``6月2日 周二 18:00``."""
    return slots.dated(moment, app.settings.timezone, tr.is_chinese)


def _post_groups(tx: Tx, app: App, notice: Doc, groups: dict[str, str], now: datetime) -> None:
    """The neighbours' group of each grid gets the notice once (no button: one tap is private)."""
    model = Notice.from_doc(notice)
    tr = translator(str(app.settings.get("community", "language")))
    for grid_id, chat in groups.items():
        centre = community.centre_name(app.settings, tr.is_chinese)
        whole = "\n".join(
            (
                tr.t("notice.head", centre=centre),
                model.text_for(tr.language),
                tr.t("notice.group_hint"),
            )
        )
        for number, part in enumerate(
            notice_text.split(whole, notice_text.limit_of(network_of(chat))), 1
        ):
            once = f"nt-group:{notice['id']}:{grid_id}:{number}"
            reply = Reply(part, image=model.photo if number == 1 else "")
            outbox.post(tx, Outbound(Address(chat), reply, tr.language), now, key=once)


# -- telling the author ------------------------------------------------------------------------


def _tell_author(tx: Tx, app: App, notice: Doc, build: Any, now: datetime) -> None:
    author = tx.get(people.PEOPLE, notice["author_id"])
    if author is None:
        return
    tr = translator(author.get("language") or "zh_CN")
    reply = build(tr)
    for address in people.reachable_addresses(tx, author):
        outbox.post(tx, Outbound(Address(address), reply, tr.language), now)


def _progress_reply(
    tr: Translator, notice: Doc, sent: int, edit: bool, final: bool = False
) -> Reply:
    """The author's progress message, versioned by its count (the final one above every
    count), so that a count a slow worker delivers late never replaces a later one."""
    total = int(notice["people"])
    done = sent >= total and notice["cursor"] >= notice["batches"]
    text = tr.t(
        "notice.progress_done" if done else "notice.progress", sent=f"{sent:,}", total=f"{total:,}"
    )
    version = 2 * max(total, sent) + 2 if final else 2 * sent + 1
    return Reply(text, key=progress_key(notice["id"]), edit=edit, version=version)


def _finish(tx: Tx, app: App, notice: Doc, now: datetime) -> None:
    """Everything went out: the progress shows the total, and the author gets a summary."""
    notice["status"] = NoticeStatus.SENT.value
    notice["sent_at"] = to_iso(now)
    tx.put(NOTICES, notice["id"], notice)
    total = int(notice["posted"])
    _tell_author(
        tx, app, notice, lambda tr: _progress_reply(tr, notice, total, True, final=True), now
    )
    _tell_author(tx, app, notice, lambda tr: summary_reply(app, tr, notice), now)
    log.info("notice %s sent to %d people", notice["id"], total)


def summary_reply(app: App, tr: Translator, notice: Doc) -> Reply:
    """What the author reads once the notice went out."""
    lines = [
        tr.t(
            "notice.summary",
            people=notice["people"],
            households=notice["households"],
        )
    ]
    if notice.get("unreachable"):
        lines.append(tr.t("notice.summary_unreachable", count=notice["unreachable"]))
    if notice.get("unregistered"):
        lines.append(tr.t("notice.summary_unregistered", count=notice["unregistered"]))
    if notice.get("needs_ack") and notice.get("deadline"):
        when = deadline_words(app, tr, from_iso(notice["deadline"]))
        lines.append(tr.t("notice.summary_deadline", deadline=when))
    return Reply("\n".join(lines))


# -- cancelling --------------------------------------------------------------------------------


def cancel(tx: Tx, app: App, notice_id: str, actor: Doc, now: datetime) -> int:
    """Stop a notice still going out; return how many people it had already reached.

    Raises:
        NotSending: it has gone out completely, or was cancelled already.
    """
    notice = require(tx, notice_id)
    if notice["status"] != NoticeStatus.SENDING:
        raise NotSending()
    reached = int(notice["posted"]) - len(_waiting_people(tx, notice_id))
    withdrawn = _withdraw(tx, copy_prefix(notice_id))
    notice["status"] = NoticeStatus.CANCELLED.value
    notice["cancelled_by"] = actor["id"]
    notice["cancelled_at"] = to_iso(now)
    notice["reached"] = reached
    tx.put(NOTICES, notice_id, notice)
    for key in (f"nt-remind:{notice_id}", f"nt-deadline:{notice_id}"):
        timers.cancel(tx, key)
    for number in range(int(notice["cursor"]), int(notice["batches"])):
        if tx.get(BATCHES, batch_id(notice_id, number)) is not None:
            tx.archive(BATCHES, batch_id(notice_id, number))
    log.info("notice %s cancelled; %d copies withdrawn", notice_id, withdrawn)
    return reached


def _withdraw(tx: Tx, prefix: str) -> int:
    """Cancel every live outbox timer whose key starts with ``prefix``."""
    keys = {
        str(t["key"])
        for t in tx.all(timers.TIMERS)
        if t["status"] in timers.LIVE and str(t.get("key", "")).startswith(prefix)
    }
    return sum(timers.cancel(tx, key) for key in keys)


def recent(tx: Tx, grids: Iterable[str] | None = None, limit: int = 5) -> list[Doc]:
    """The latest notices (to any of ``grids``, when given), newest first."""
    wanted = set(grids) if grids is not None else None
    every = [*tx.all(NOTICES), *archived_recent(tx)]
    found = [n for n in every if wanted is None or wanted & set(n.get("grids", []))]
    return sorted(found, key=lambda n: n["created_at"], reverse=True)[:limit]
