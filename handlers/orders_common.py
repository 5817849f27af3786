"""Helpers shared by the orders flows (/shop, /orders, /vendor, /newlisting, /complain).

Every change goes through :func:`commit`, in one unit of work; a refused change
raises an :class:`orders.OrdersError`, which the engine answers kindly. Every
question offers "stop" (:func:`stop_row`), and "stop" gives back a hold the
form still has (:func:`stoppable`).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from assistant.conversation.buttons import ShopButton, ShopVerb
from assistant.conversation.flow import Ctx, Refused, Turn, Unexpected, end, go, stop_on
from assistant.conversation.vocabulary import Choice, Reply
from assistant.domain import numbers
from assistant.services import orders
from assistant.services.orders import stock
from assistant.services.orders.notify import listing_of
from assistant.store.base import Doc

T = TypeVar("T")
log = logging.getLogger(__name__)

FLOW = "shop"
STOP = "orders.stop"
SKIP = "orders.skip"
MAX_TYPED_NUMBER = 9


async def commit(ctx: Ctx, change: Callable[..., T], *args: Any) -> T:
    """Run an orders change in one unit of work, with the app first and the time last."""
    return await ctx.atomic(change, ctx.app, *args, ctx.app.clock.now())


def me(ctx: Ctx) -> Doc:
    """The person talking; refused when they are not known."""
    if ctx.person is None:
        raise Refused()
    return ctx.person


def stop_row(ctx: Ctx, label_key: str = "orders.stop") -> tuple[Choice, ...]:
    """The "stop" button, as a row of its own ("不买了" in the shop, "先到这里" elsewhere)."""
    return (Choice(ctx.t(label_key), STOP),)


stoppable = stop_on(STOP)
"""Let "stop" end an orders form from any question; a shop hold goes back in the shop
flow's ``on_leave`` (:func:`give_back_hold`), as for every other way of leaving."""


def typed_number(ctx: Ctx, hint: str) -> int:
    """A whole number typed by the person (full-width digits too), or the hint again.

    ``0``, ``-1``, ``1.5``, ``1e9``, words and 10⁹ all get the same kind hint;
    the range is checked by the service.
    """
    text = unicodedata.normalize("NFKC", ctx.text).strip()
    for tail in ("箱", "斤", "袋", "个", "份", "盒", "瓶", "只", "件"):
        text = text.removesuffix(tail).strip()
    number = numbers.typed_number(text, max_digits=MAX_TYPED_NUMBER)
    if number is None or number <= 0:
        raise Unexpected(hint)
    return number


async def give_back_hold(ctx: Ctx, data: Mapping[str, Any]) -> None:
    """Give back the live hold a shop form's ``data`` has (its ``on_leave``, and before a card
    starts the form afresh for another item), so neighbours need not wait for it to lapse;
    an ordered or lapsed one stays as it is."""
    hold_id = data.get("hold")
    if data.get("flow") != FLOW or not isinstance(hold_id, str) or ctx.person is None:
        return
    if await commit(ctx, stock.release, hold_id, ctx.person["id"]):
        log.info("a hold was given back as its form was left")


def fresh(ctx: Ctx, listing_id: str = "") -> None:
    """Start the shop's data afresh for the person talking (ordering for themselves)."""
    person = me(ctx)
    ctx.data = {"flow": FLOW, "by": person["id"], "for": person["id"]}
    ctx.data["for_name"] = person.get("name", "")
    if listing_id:
        ctx.data["listing"] = listing_id


def sold_out_reply(ctx: Ctx, listing_id: str, quantity: int) -> Reply:
    """Sold out, and one button that puts the person on the waiting list.

    The button says everything (``a:shop:wait:<listing>:<quantity>``), so a sold-out
    answer writes nothing: hundreds of late residents cost the store no commit.
    """
    wait = ShopButton(ShopVerb.WAIT, listing_id, quantity).encode()
    text = f"{ctx.t('orders.sold_out')}\n{ctx.t('orders.ask_waitlist')}"
    return Reply(text, choices=((Choice(ctx.t("orders.wait_yes"), wait),),))


async def join_waitlist(ctx: Ctx, listing_id: str, whom: str, by: str, quantity: int) -> Turn:
    """Put the person on the waiting list and say their place (or that some came back)."""
    entry = await commit(ctx, stock.join_waitlist, listing_id, whom, by, quantity)
    ctx.data = {}
    if entry["status"] == "offered":
        return end(Reply(ctx.t("orders.wait_offered_at_once")))
    place = await ctx.view(stock.waiting_position, entry)
    return end(Reply(ctx.t("orders.waiting", place=place)))


async def hold_for(ctx: Ctx, listing_id: str, quantity: int, *, outside_form: bool = False) -> Turn:
    """Hold the units atomically; sold out leads to the waiting list, an ended sale ends the form.

    ``outside_form``: pressed on a card while no question was open (an announcement, the
    group list), where a sold-out answer needs no form at all.
    """
    whom, by = ctx.data["for"], ctx.data["by"]
    try:
        # decided by the hold counter on a snapshot's figures: no store commit, no queue
        now = ctx.app.clock.now()
        held = await ctx.run(stock.hold_now, ctx.app, listing_id, whom, by, quantity, now)
    except orders.SoldOut:
        if outside_form and whom == by:  # one button, and nothing to remember meanwhile
            ctx.data = {}
            return end(sold_out_reply(ctx, listing_id, quantity))
        ctx.data.update({"listing": listing_id, "quantity": quantity})
        return go("shop.waitlist")  # in the form: it goes on (and keeps whom it is for)
    except (orders.SaleEnded, orders.NotOnSale) as refusal:
        ctx.data = {}
        return end(Reply(ctx.t(refusal.key)), ctx.menu())
    ctx.data.update({"listing": listing_id, "hold": held["id"], "quantity": held["quantity"]})
    ctx.data.pop("way", None)
    listing = await ctx.view(listing_of, listing_id)
    unit = listing.unit_in(ctx.tr.is_chinese, int(held["quantity"])) if listing else ""
    minutes = int(stock.hold_minutes(ctx.app))
    held_text = ctx.t("orders.held", quantity=held["quantity"], unit=unit, minutes=minutes)
    return go("shop.fulfil", Reply(held_text))
