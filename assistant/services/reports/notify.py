"""Who is told what about a case, in their own language, through the outbox.

What each audience may read is decided here:

- **followers** (the people who reported it) hear the case number, the stages
  and the outcome; never another reporter's name or note;
- **the patrol volunteer** offered the case sees only :func:`public` words
  (category, place, grid, how many reported, how long ago) through dispatch;
  after accepting, the notes and photos (:func:`patrol_details`), never who
  reported;
- **coordinators** see the stages and, unless a reporter chose "always
  anonymous", who reported (in ``/cases`` and a held report's question).

Nothing here writes to a group chat. Logs carry case ids only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from assistant.conversation.vocabulary import Address, Choice, Outbound, Reply
from assistant.domain import urgency
from assistant.i18n import Translator, translator
from assistant.jobs import outbox
from assistant.services import people
from assistant.services.people import community
from assistant.services.reports.records import categories, created
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

Build = Callable[[Translator], Reply]


def tell(tx: Tx, app: App, person_id: str, build: Build, now: datetime, photo: str = "") -> int:
    """Post a message to every reachable address of a person; return to how many."""
    person = tx.get(people.PEOPLE, person_id) if person_id else None
    if person is None or person.get("forgotten"):
        return 0
    tr = translator(person.get("language") or app.settings.get("community", "language"))
    reply = build(tr)
    meta = {"photo": photo} if photo else {}
    addresses = people.reachable_addresses(tx, person)
    for address in addresses:
        outbox.post(tx, Outbound(Address(address), reply, tr.language, meta=dict(meta)), now)
    return len(addresses)


def tell_followers(tx: Tx, app: App, case: Doc, build: Build, now: datetime) -> int:
    """Tell every follower of a case; return how many addresses were written to."""
    return sum(tell(tx, app, pid, build, now) for pid in case.get("followers", []) if pid)


def tell_coordinators(
    tx: Tx, app: App, case: Doc, build: Build, now: datetime, community_wide: bool = False
) -> int:
    """Tell the case's grid's coordinators (all of the community's with ``community_wide``)."""
    chosen = people.coordinators_for(tx, None if community_wide else case.get("grid_id"))
    return sum(tell(tx, app, c["id"], build, now) for c in chosen)


# -- words ---------------------------------------------------------------------------------


def category_name(app: App, tr: Translator, case: Doc) -> str:
    """The case's category in the reader's language (its code if the settings dropped it)."""
    found = categories(app).get(case["category"])
    return found.name(tr.is_chinese) if found else str(case["category"])


def place_words(tr: Translator, case: Doc) -> str:
    """Where the case is, as a reader says it (a known place, or "near …", or coordinates)."""
    name = case.get("place_zh" if tr.is_chinese else "place_en") or case.get("place_zh") or ""
    if case.get("place_id") or not case.get("lat"):
        return str(name) or tr.t("reports.place_unknown")
    spot = tr.t("reports.pin", lat=f"{case['lat']:.5f}", lon=f"{case['lon']:.5f}")
    return tr.t("reports.pin_near", place=name, pin=spot) if name else spot


def age_words(tr: Translator, case: Doc, now: datetime) -> str:
    """How long ago the first report came: "刚刚", "20分钟前", "3小时前"."""
    minutes = urgency.age_minutes(created(case), now)
    if minutes < 2:
        return tr.t("reports.age_now")
    if minutes < 120:
        return tr.t("reports.age_minutes", minutes=minutes)
    return tr.t("reports.age_hours", hours=minutes // 60)


def public(app: App, tr: Translator, case: Doc, now: datetime) -> dict[str, str]:
    """The words any patrol volunteer or coordinator may read: never a reporter."""
    with_grid = case.get("grid_name", "")
    return {
        "number": case["number"],
        "category": category_name(app, tr, case),
        "place": place_words(tr, case),
        "grid": with_grid,
        "count": str(len(case.get("reports", []))),
        "age": age_words(tr, case, now),
        "stage": tr.t(f"reports.stage_{case['stage']}"),
    }


def grid_name(tx: Tx, grid_id: str | None) -> str:
    """A grid's name for case words."""
    return community.grid_name(tx, grid_id)


def note(app: App, case: Doc, key: str, now: datetime, **values: object) -> Build:
    """A message about a case with its public words and ``values``."""

    def build(tr: Translator) -> Reply:
        return Reply(tr.t(key, **public(app, tr, case, now), **values))

    return build


def with_buttons(
    build: Build, choices: Callable[[Translator], tuple[tuple[Choice, ...], ...]]
) -> Build:
    """The same message with buttons in the reader's language."""

    def built(tr: Translator) -> Reply:
        reply = build(tr)
        return Reply(reply.text, choices=choices(tr), key=reply.key)

    return built
