"""The dispatch engine's wording: offers, "already taken", private details.

What each audience may read is decided here. Anyone offered a task sees only
:func:`public_words` (service, time, micro-grid, residential complex); the
assignee gets :func:`details_reply` with the name, address, phone and notes;
coordinators see the address only in :func:`coordinator_alert`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.clock import from_iso
from assistant.conversation.buttons import Assign, OfferAnswer, OfferVerb, StepVerb, TaskStep
from assistant.conversation.vocabulary import Choice, Outbound, Reply
from assistant.domain import dispatch as matching
from assistant.domain import slots
from assistant.i18n import Translator
from assistant.jobs import outbox
from assistant.services.dispatch.records import ACTIVE, ASSIGNED, ON_WAY, on_way_from, setting
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App


def when(app: App, tr: Translator, moment: datetime | str) -> str:
    """A time with its date (``6月2日 周二 15:00``), since task messages are read later."""
    if isinstance(moment, str):
        moment = from_iso(moment)
    return slots.dated(moment, app.settings.timezone, tr.is_chinese)


def public_words(app: App, tr: Translator, task: Doc) -> dict[str, str]:
    """Service, time, grid and complex of a task, for messages (no personal data)."""
    summary = task.get("summary", {})
    title = summary.get("title_zh" if tr.is_chinese else "title_en") or summary.get("title_zh", "")
    return {
        "title": title,
        "when": when(app, tr, task["starts_at"]),
        "grid": summary.get("grid_name", ""),
        "place": summary.get("place", ""),
    }


def address_words(tr: Translator, task: Doc) -> str:
    """The street address of a task (personal data: only for the assignee and staff)."""
    private = task.get("private", {})
    return str(
        private.get("address_zh" if tr.is_chinese else "address_en")
        or private.get("address_zh", "")
    )


def task_notice(app: App, tr: Translator, task: Doc, message: str) -> Reply:
    """A message about a task that carries only its public words."""
    return Reply(tr.t(message, **public_words(app, tr, task)))


# -- offers ------------------------------------------------------------------------------------


def offer_key(offer_id: str) -> str:
    """The message key of an offer, so it can be edited later."""
    return f"offer:{offer_id}"


def post_offer(tx: Tx, app: App, task: Doc, offer: Doc, now: datetime, edit: bool = False) -> None:
    """Send (or re-send in place) an offer with its accept / decline buttons."""
    from assistant.i18n import translator

    tr = translator(offer["language"])
    words = public_words(app, tr, task)
    if offer.get("asked_by"):
        text = tr.t("dispatch.offer_asked", name=offer["name"], **words)
        no = tr.t("dispatch.cant")
    else:
        text = tr.t("dispatch.offer", name=offer["name"], **words)
        no = tr.t("dispatch.decline")
    reply = Reply(
        text,
        choices=(
            (
                Choice(
                    tr.t("dispatch.accept"), OfferAnswer(OfferVerb.ACCEPT, offer["id"]).encode()
                ),
                Choice(no, OfferAnswer(OfferVerb.DECLINE, offer["id"]).encode()),
            ),
        ),
        key=offer_key(offer["id"]),
        edit=edit,
    )
    for address in offer["addresses"]:
        outbox.post(tx, Outbound(address, reply, tr.language), now)


def post_offer_edit(tx: Tx, app: App, task: Doc, offer: Doc, message: str, now: datetime) -> None:
    """Replace an offer's text (and drop its buttons) wherever it was sent."""
    from assistant.i18n import translator

    tr = translator(offer["language"])
    reply = Reply(
        tr.t(message, **public_words(app, tr, task)), key=offer_key(offer["id"]), edit=True
    )
    for address in offer["addresses"]:
        outbox.post(tx, Outbound(address, reply, tr.language), now)


# -- the assignee ----------------------------------------------------------------------------


def details_reply(app: App, tr: Translator, task: Doc) -> Reply:
    """The private details for the volunteer who accepted, with the next-step buttons."""
    private = task.get("private", {})
    text = tr.t(
        "dispatch.details",
        name=private.get("name", ""),
        address=address_words(tr, task),
        phone=private.get("phone") or tr.t("dispatch.no_phone"),
        notes=private.get("notes") or tr.t("dispatch.no_notes"),
        **public_words(app, tr, task),
    )
    return Reply(text + "\n" + on_way_hint(app, tr, task), choices=step_buttons(app, tr, task))


def on_way_open(app: App, task: Doc) -> bool:
    """Whether "on my way" (and "arrived", "done") may be pressed now."""
    return bool(app.clock.now() >= on_way_from(app, task))


def on_way_hint(app: App, tr: Translator, task: Doc) -> str:
    """ "Tap on my way when you set off", or from when that button comes."""
    if on_way_open(app, task):
        return tr.t("dispatch.hint_on_way")
    return tr.t("dispatch.hint_on_way_later", hours=hours_words(setting(app, "on_way_hours")))


def hours_words(hours: float) -> str:
    """``2`` rather than ``2.0``; ``1.5`` stays."""
    return f"{float(hours):g}"


def step_buttons(app: App, tr: Translator, task: Doc) -> tuple[tuple[Choice, ...], ...]:
    """The buttons for the next steps of an assigned task.

    "On my way", "arrived" and "done" come only from ``[dispatch] on_way_hours``
    before the start; "could not complete" and "I can't go" are there at once.
    """
    task_id = task["id"]
    status = task["status"]
    row: list[Choice] = []
    if on_way_open(app, task):
        if status == ASSIGNED:
            row.append(Choice(tr.t("dispatch.on_way"), TaskStep(StepVerb.ON_WAY, task_id).encode()))
        if status in (ASSIGNED, ON_WAY):
            row.append(
                Choice(tr.t("dispatch.arrived"), TaskStep(StepVerb.ARRIVED, task_id).encode())
            )
        if status in ACTIVE:
            row.append(Choice(tr.t("dispatch.done"), TaskStep(StepVerb.DONE, task_id).encode()))
    second: list[Choice] = []
    if status in ACTIVE:
        second.append(Choice(tr.t("dispatch.fail"), TaskStep(StepVerb.FAIL, task_id).encode()))
    if status in (ASSIGNED, ON_WAY):
        second.append(Choice(tr.t("dispatch.drop"), TaskStep(StepVerb.DROP, task_id).encode()))
    return tuple(r for r in (tuple(row), tuple(second)) if r)


# -- coordinators ------------------------------------------------------------------------------


def escalation_reply(
    app: App,
    tr: Translator,
    task: Doc,
    choices: Sequence[matching.Candidate],
    names: dict[str, Any],
    grid_names: dict[str, str],
    volunteer: str = "",
) -> Reply:
    """Nobody accepted: either the volunteers a coordinator may ask, or whom to phone.

    Each button asks that volunteer (``a:assign:<task>:<volunteer>``); with no
    candidate the message says so and names the person to call, never both.
    ``volunteer`` names the one a coordinator asked who cannot go.
    """
    buttons = tuple(
        (
            Choice(
                tr.t(
                    "dispatch.assign_to",
                    name=names[c.person_id],
                    grid=grid_names.get(c.grid_id or "", ""),
                ),
                Assign(task["id"], c.person_id).encode(),
            ),
        )
        for c in choices
    )
    lines = [tr.t("dispatch.asked_cannot", volunteer=volunteer)] if volunteer else []
    lines.append(tr.t("dispatch.coordinator_escalated", **public_words(app, tr, task)))
    if choices:
        lines.append(tr.t("dispatch.escalated_pick"))
    else:
        lines.append(_nobody(app, tr, task))
    return Reply("\n".join(lines), choices=buttons)


def _nobody(app: App, tr: Translator, task: Doc) -> str:
    """No volunteer can take it: whom the coordinator should phone."""
    private = task.get("private", {})
    if private.get("name") and private.get("phone"):
        return tr.t("dispatch.no_candidates_call", name=private["name"], phone=private["phone"])
    return tr.t("dispatch.no_candidates")


def coordinator_alert(app: App, tr: Translator, task: Doc, message: str, volunteer: Doc) -> Reply:
    """A safety alert or call for help: the volunteer, their phone and the address."""
    return Reply(
        tr.t(
            message,
            volunteer=volunteer.get("name", ""),
            volunteer_phone=volunteer.get("phone") or tr.t("dispatch.no_phone"),
            address=address_words(tr, task),
            **public_words(app, tr, task),
        )
    )
