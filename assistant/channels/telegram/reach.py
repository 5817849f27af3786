"""Whether the bot can reach an address, and who to tell when it cannot.

Telegram lets a bot write only to people who opened it and have not blocked
it. An address imported but never opened is stored unreachable; the first
private message from it makes it reachable. A 403 ("bot was blocked") makes it
unreachable again, and when the lost message mattered
(``Outbound.meta["important"] == "1"``) the person's coordinators are told
through the outbox, so the notice reaches them on whatever network they use.
Blocking store calls: run them off the event loop.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from assistant.conversation.vocabulary import Address, Outbound, Reply
from assistant.i18n import translator
from assistant.jobs import outbox
from assistant.services import people
from assistant.services.people import community
from assistant.store.base import Store

log = logging.getLogger(__name__)

NOTICE_DELAY = timedelta(seconds=1)  # a pending timer: the scheduler sends it on its next round


def mark_reachable(store: Store, address: Address) -> bool:
    """Record that a person wrote from ``address``; return whether it was unreachable."""
    with store.snapshot() as tx:
        link = tx.get(people.ADDRESSES, address)
    if link is None or link.get("reachable", True):
        return False
    with store.transaction() as tx:
        people.set_reachable(tx, address, True)
    log.debug("address %s is reachable again", address)
    return True


def mark_blocked(store: Store, message: Outbound, now: datetime) -> int:
    """Record that ``message.to`` blocked the bot; return how many coordinators were told."""
    important = message.meta.get("important") == "1"
    told = 0
    with store.transaction() as tx:
        people.set_reachable(tx, message.to, False)
        if not important:
            return 0
        person = people.person_at(tx, message.to)
        grid_id = person.get("grid_id") if person else None
        grid = community.grid_name(tx, grid_id)
        for coordinator in people.coordinators_for(tx, grid_id):
            if person is not None and coordinator.get("id") == person.get("id"):
                continue
            tr = translator(coordinator.get("language", "zh_CN"))
            if person is not None:
                text = tr.t("tg.blocked_person", name=person.get("name", ""), grid=grid or "-")
            else:
                text = tr.t("tg.blocked_chat")
            for address in people.reachable_addresses(tx, coordinator):
                notice = Outbound(to=Address(address), reply=Reply(text), language=tr.language)
                outbox.post(tx, notice, now, due=now + NOTICE_DELAY)
                told += 1
    log.info("a recipient blocked the bot; important=%s, %d notices queued", important, told)
    return told


def set_reachable(store: Store, address: Address, reachable: bool) -> None:
    """Record a block or unblock that Telegram reported (a ``my_chat_member`` update)."""
    with store.transaction() as tx:
        people.set_reachable(tx, address, reachable)
    log.debug("address %s reachable=%s", address, reachable)
