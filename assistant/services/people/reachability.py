"""Reachability: whether the assistant can write to an address, and who to tell when not.

A use case of the people context that every channel calls with what its network
reported. Chat networks let a bot write only to people who opened it and have not
blocked it (Telegram), or who share a room with it (Matrix). An address imported
but never opened is stored unreachable; the first private message from it makes
it reachable (:func:`mark_reachable`). A refusal ("the bot was blocked", a 403)
makes it unreachable again (:func:`mark_blocked`), and when the lost message
mattered (``Outbound.meta["important"] == "1"``) the person's coordinators are
told through the outbox, so the notice reaches them on whatever network they
use. A network's own membership news (blocked, unblocked, joined, left) is
:func:`set_reachable`.

Blocking store calls: channels run them off the event loop.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from assistant.conversation.vocabulary import Address, Outbound, Reply
from assistant.i18n import translator
from assistant.jobs import outbox
from assistant.services.people import community, persons
from assistant.store.base import Store

log = logging.getLogger(__name__)

NOTICE_DELAY = timedelta(seconds=1)  # a pending timer: the scheduler sends it on its next round


def mark_reachable(store: Store, address: Address) -> bool:
    """Record that a person wrote from ``address``; return whether it was unreachable."""
    with store.snapshot() as tx:
        link = tx.get(persons.ADDRESSES, address)
    if link is None or link.get("reachable", True):
        return False
    with store.transaction() as tx:
        persons.set_reachable(tx, address, True)
    log.debug("address %s is reachable again", address)
    return True


def mark_blocked(store: Store, message: Outbound, now: datetime) -> int:
    """Record that ``message.to`` blocked the bot; return how many coordinators were told."""
    important = message.meta.get("important") == "1"
    told = 0
    with store.transaction() as tx:
        persons.set_reachable(tx, message.to, False)
        if not important:
            return 0
        person = persons.person_at(tx, message.to)
        grid_id = person.get("grid_id") if person else None
        grid = community.grid_name(tx, grid_id)
        for coordinator in persons.coordinators_for(tx, grid_id):
            if person is not None and coordinator.get("id") == person.get("id"):
                continue
            tr = translator(coordinator.get("language", "zh_CN"))
            if person is not None:
                text = tr.t("tg.blocked_person", name=person.get("name", ""), grid=grid or "-")
            else:
                text = tr.t("tg.blocked_chat")
            for address in persons.reachable_addresses(tx, coordinator):
                notice = Outbound(to=Address(address), reply=Reply(text), language=tr.language)
                outbox.post(tx, notice, now, due=now + NOTICE_DELAY)
                told += 1
    log.info("a recipient blocked the bot; important=%s, %d notices queued", important, told)
    return told


def set_reachable(store: Store, address: Address, reachable: bool) -> None:
    """Record a block or unblock, a join or leave that the network reported."""
    with store.transaction() as tx:
        persons.set_reachable(tx, address, reachable)
    log.debug("address %s reachable=%s", address, reachable)
