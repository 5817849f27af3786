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
from assistant.conversation.vocabulary import Choice, Outbound, Reply
from assistant.domain import dispatch as matching
from assistant.i18n import Translator
from assistant.services import outbox
from assistant.services.dispatch_records import ACTIVE, ASSIGNED, ON_WAY
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.bootstrap import App


def when(app: App, tr: Translator, moment: datetime | str) -> str:
    """A time as residents read it, in the community's time zone."""
    if isinstance(moment, str):
        moment = from_iso(moment)
    local = moment.astimezone(app.settings.timezone)
    weekday = tr.t(f"dispatch.weekday_{local.weekday()}")
    return tr.t(
        "dispatch.when",
        month=local.month,
        day=local.day,
        weekday=weekday,
        time=local.strftime("%H:%M"),
    )


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


def post_offer(
    tx: Tx, app: App, task: Doc, offer: Doc, now: datetime, edit: bool = False
) -> list[str]:
    """Send (or re-send in place) an offer with its accept / decline buttons."""
    from assistant.i18n import translator

    tr = translator(offer["language"])
    text = tr.t("dispatch.offer", name=offer["name"], **public_words(app, tr, task))
    reply = Reply(
        text,
        choices=(
            (
                Choice(tr.t("dispatch.accept"), f"a:offer:accept:{offer['id']}"),
                Choice(tr.t("dispatch.decline"), f"a:offer:decline:{offer['id']}"),
            ),
        ),
        key=offer_key(offer["id"]),
        edit=edit,
    )
    return [
        outbox.post(tx, Outbound(address, reply, tr.language), now)
        for address in offer["addresses"]
    ]


def post_offer_edit(
    tx: Tx, app: App, task: Doc, offer: Doc, message: str, now: datetime
) -> list[str]:
    """Replace an offer's text (and drop its buttons) wherever it was sent."""
    from assistant.i18n import translator

    tr = translator(offer["language"])
    reply = Reply(
        tr.t(message, **public_words(app, tr, task)), key=offer_key(offer["id"]), edit=True
    )
    return [
        outbox.post(tx, Outbound(address, reply, tr.language), now)
        for address in offer["addresses"]
    ]


# -- the assignee ----------------------------------------------------------------------------


def details_reply(app: App, tr: Translator, task: Doc, intro: str = "") -> Reply:
    """The private details for the assigned volunteer, with the next-step buttons."""
    private = task.get("private", {})
    text = tr.t(
        "dispatch.details",
        name=private.get("name", ""),
        address=address_words(tr, task),
        phone=private.get("phone") or tr.t("dispatch.no_phone"),
        notes=private.get("notes") or tr.t("dispatch.no_notes"),
        **public_words(app, tr, task),
    )
    if intro:
        text = tr.t(intro) + "\n" + text
    return Reply(text, choices=step_buttons(tr, task))


def step_buttons(tr: Translator, task: Doc) -> tuple[tuple[Choice, ...], ...]:
    """The buttons for the next steps of an assigned task."""
    task_id = task["id"]
    status = task["status"]
    row: list[Choice] = []
    if status == ASSIGNED:
        row.append(Choice(tr.t("dispatch.on_way"), f"a:task:on_way:{task_id}"))
    if status in (ASSIGNED, ON_WAY):
        row.append(Choice(tr.t("dispatch.arrived"), f"a:task:arrived:{task_id}"))
    if status in ACTIVE:
        row.append(Choice(tr.t("dispatch.done"), f"a:task:done:{task_id}"))
    second: list[Choice] = []
    if status in ACTIVE:
        second.append(Choice(tr.t("dispatch.fail"), f"a:task:fail:{task_id}"))
    if status in (ASSIGNED, ON_WAY):
        second.append(Choice(tr.t("dispatch.drop"), f"a:task:drop:{task_id}"))
    return tuple(r for r in (tuple(row), tuple(second)) if r)


# -- coordinators ------------------------------------------------------------------------------


def escalation_reply(
    app: App,
    tr: Translator,
    task: Doc,
    choices: Sequence[matching.Candidate],
    names: dict[str, Any],
    grid_names: dict[str, str],
) -> Reply:
    """Nobody accepted: the coordinators' call with one "assign to …" button per candidate."""
    buttons = tuple(
        (
            Choice(
                tr.t(
                    "dispatch.assign_to",
                    name=names[c.person_id],
                    grid=grid_names.get(c.grid_id or "", ""),
                ),
                f"a:assign:{task['id']}:{c.person_id}",
            ),
        )
        for c in choices
    )
    text = tr.t("dispatch.coordinator_escalated", **public_words(app, tr, task))
    if not choices:
        text += "\n" + tr.t("dispatch.no_candidates")
    return Reply(text, choices=buttons)


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
