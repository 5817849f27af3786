"""/shop → (for whom) → item → quantity (held) → pickup or delivery → confirm; /subscribe.

The item card's quantity buttons are the ``shop`` action (``a:shop:hold:<listing>:<n>``,
:mod:`handlers.orders_buttons`), so the same card works in the form, in an
announcement and after "I want some" in a neighbours' group. Holding and
confirming are each one unit of work that decides stock
(:mod:`assistant.services.orders.stock`). /orders is in
:mod:`handlers.orders_mine`, the vendor side in :mod:`handlers.orders_vendor`,
the supervision line in :mod:`handlers.orders_complain`; this module's
:data:`FLOWS` and :data:`ACTIONS` are the whole orders side's tables.
"""

from __future__ import annotations

import logging
from datetime import datetime

from assistant.conversation.buttons import LISTING, ORDER, SHOP, SUPERVISION
from assistant.conversation.flow import Action, Ctx, Flow, State, Turn, Unexpected, end, go
from assistant.conversation.vocabulary import Choice, Reply, rows
from assistant.services import orders, people
from assistant.services.orders import announce, listings, ordering, stock
from assistant.services.orders.notify import fulfilment_text, listing_of, price_line, when_text
from assistant.store.base import Doc, Tx
from handlers import orders_buttons
from handlers.orders_common import (
    FLOW,
    commit,
    fresh,
    give_back_hold,
    hold_for,
    join_waitlist,
    me,
    stop_row,
    stoppable,
    typed_number,
)
from handlers.orders_complain import COMPLAIN
from handlers.orders_mine import ORDERS_FLOW
from handlers.orders_vendor import NEW_LISTING, ON_STREAM, VENDOR

log = logging.getLogger(__name__)

YES, NO, SELF, AGAIN = "yes", "no", "self", "again"


async def start(ctx: Ctx) -> Turn:
    """What is on sale now; a family helper is first asked for whom."""
    fresh(ctx)
    if await ctx.view(people.relatives_of, ctx.data["by"]):
        return go("shop.whom")
    return go("shop.items")


async def ask_whom(ctx: Ctx) -> list[Reply]:
    """For themselves or which relative."""
    relatives = await ctx.view(people.relatives_of, ctx.data["by"])
    buttons = [Choice(ctx.t("orders.for_me"), SELF)]
    buttons += [Choice(r.get("name", ""), r["id"]) for r in relatives]
    return [Reply(ctx.t("orders.ask_whom"), choices=rows(*buttons) + (stop_row(ctx),))]


async def got_whom(ctx: Ctx) -> Turn:
    """Record for whom; then the item (or its quantity, when it was chosen already)."""
    if ctx.press != SELF:
        relatives = await ctx.view(people.relatives_of, ctx.data["by"])
        chosen = [r for r in relatives if r["id"] == ctx.press]
        if not chosen:
            raise Unexpected()
        ctx.data.update({"for": chosen[0]["id"], "for_name": chosen[0].get("name", "")})
    return go("shop.quantity" if ctx.data.get("listing") else "shop.items")


async def ask_items(ctx: Ctx) -> list[Reply]:
    """Every listing on sale now: title, sale price and what is left."""
    found = await ctx.view(listings.on_sale, ctx.app.clock.now())
    if not found:
        return [Reply(ctx.t("orders.nothing_on_sale"), choices=(stop_row(ctx),))]
    lines = [ctx.t("orders.on_sale_intro")]
    buttons = []
    for number, listing in enumerate(found[:12], start=1):
        lines.append(
            ctx.t(
                "orders.sale_line",
                number=number,
                title=listing.title(ctx.tr.is_chinese),
                price=price_line(listing, ctx.tr),
                left=(left := stock.left_now(ctx.app, listing)),
                unit=listing.unit_in(ctx.tr.is_chinese, left),
                limit=listing.limit,
            )
        )
        label = ctx.t(
            "orders.item_button",
            title=listing.title(ctx.tr.is_chinese),
            price=orders.money_text(listing.sale_price),
            unit=listing.unit_in(ctx.tr.is_chinese),
        )
        buttons.append(Choice(label, listing.id))
    return [Reply("\n".join(lines), choices=rows(*buttons, width=1) + (stop_row(ctx),))]


async def got_item(ctx: Ctx) -> Turn:
    """Record the item; ask how many."""
    found = await ctx.view(listings.on_sale, ctx.app.clock.now())
    if ctx.press not in {listing.id for listing in found}:
        raise Unexpected()
    ctx.data["listing"] = ctx.press
    return go("shop.quantity")


async def ask_quantity(ctx: Ctx) -> list[Reply]:
    """The item card: price, sale price, stock left, limit; quantity buttons or a typed number."""
    listing = await ctx.view(listing_of, ctx.data["listing"])
    if listing is None or not listing.on_sale(ctx.app.clock.now()):
        return [Reply(ctx.t("orders.sale_ended"), choices=(stop_row(ctx),))]
    reply = announce.card(ctx.app, listing, ctx.tr)
    text = (
        reply.text + "\n" + ctx.t("orders.ask_quantity", unit=listing.unit_in(ctx.tr.is_chinese, 2))
    )
    if ctx.data.get("for") != ctx.data.get("by"):
        text = ctx.t("orders.ordering_for", name=ctx.data.get("for_name", "")) + "\n" + text
    return [Reply(text, choices=reply.choices[:-1] + (stop_row(ctx),), image=reply.image)]


async def got_quantity(ctx: Ctx) -> Turn:
    """A typed quantity: hold it (the quantity buttons are the ``shop`` action)."""
    if ctx.incoming.press:
        raise Unexpected()
    quantity = typed_number(ctx, "orders.type_quantity")
    return await hold_for(ctx, ctx.data["listing"], quantity)


async def ask_waitlist(ctx: Ctx) -> list[Reply]:
    """Sold out: a clear word, and a place on the waiting list."""
    yes = Choice(ctx.t("orders.wait_yes"), YES)
    no = Choice(ctx.t("orders.wait_no"), NO)
    return [Reply(ctx.t("orders.ask_waitlist"), choices=((yes, no),))]


async def got_waitlist(ctx: Ctx) -> Turn:
    """Join the waiting list (in order), or not."""
    if ctx.press == NO:
        ctx.data = {}
        return end(Reply(ctx.t("orders.wait_not")))
    if ctx.press != YES:
        raise Unexpected()
    data = ctx.data
    return await join_waitlist(
        ctx, data["listing"], data["for"], data["by"], data.get("quantity", 1)
    )


def _ways(tx: Tx, ctx: Ctx, listing_id: str) -> list[tuple[str, str]]:
    """(value, label) of each way the listing's goods may reach the resident."""
    listing = listing_of(tx, listing_id)
    if listing is None:
        return []
    found = []
    for way in ordering.fulfilments(listing):
        found.append(
            (way, fulfilment_text(tx, {"fulfilment": way, "vendor_id": listing.vendor_id}, ctx.tr))
        )
    return found


async def ask_fulfil(ctx: Ctx) -> list[Reply]:
    """Pickup point, vendor delivery or community delivery."""
    ways = await ctx.view(_ways, ctx, ctx.data["listing"])
    buttons = [Choice(label, value) for value, label in ways]
    again = (Choice(ctx.t("orders.other_quantity"), AGAIN),)
    return [
        Reply(ctx.t("orders.ask_way"), choices=rows(*buttons, width=1) + (again, stop_row(ctx)))
    ]


async def got_fulfil(ctx: Ctx) -> Turn:
    """Record the way; show the summary to confirm."""
    if ctx.press == AGAIN:
        return go("shop.quantity")
    ways = await ctx.view(_ways, ctx, ctx.data["listing"])
    if ctx.press not in {value for value, _ in ways}:
        raise Unexpected()
    ctx.data["way"] = ctx.press
    return go("shop.confirm")


def _summary(tx: Tx, ctx: Ctx) -> str:
    listing = listing_of(tx, ctx.data["listing"])
    held = ctx.app.holds.get(ctx.data["hold"]) or {}
    if listing is None or not held:
        return ctx.t("orders.hold_lapsed")
    quantity = int(held.get("quantity", ctx.data.get("quantity", 1)))
    way = {"fulfilment": ctx.data["way"], "vendor_id": listing.vendor_id}
    return ctx.t(
        "orders.summary",
        title=listing.title(ctx.tr.is_chinese),
        quantity=quantity,
        unit=listing.unit_in(ctx.tr.is_chinese, quantity),
        total=orders.money_text(listing.sale_price * quantity),
        whom=ctx.data.get("for_name", ""),
        way=fulfilment_text(tx, way, ctx.tr),
        until=when_text(
            ctx.app,
            datetime.fromisoformat(held.get("expires_at", ""))
            if held.get("expires_at")
            else ctx.app.clock.now(),
            ctx.tr,
        ),
    )


async def ask_confirm(ctx: Ctx) -> list[Reply]:
    """What will be ordered, the total to pay, and until when it is held."""
    text = await ctx.view(_summary, ctx)
    confirm = Choice(ctx.t("orders.confirm"), YES)
    other = Choice(ctx.t("orders.other_way"), AGAIN)
    return [Reply(text, choices=((confirm, other), stop_row(ctx)))]


async def got_confirm(ctx: Ctx) -> Turn:
    """Turn the hold into an order, once; a lapsed hold is told kindly with "order again"."""
    if ctx.press == AGAIN:
        return go("shop.fulfil")
    if ctx.press != YES:
        raise Unexpected()
    try:
        order = await commit(
            ctx, ordering.confirm, ctx.data["hold"], ctx.data["by"], ctx.data["way"]
        )
    except (orders.HoldLapsed, orders.AlreadyOrdered) as refusal:
        listing_id = ctx.data["listing"]
        ctx.data = {}
        again = Choice(ctx.t("orders.again"), orders_buttons.item_value(listing_id))
        return end(Reply(ctx.t(refusal.key), choices=((again,),)))
    ctx.data = {}
    text = await ctx.view(_ordered_text, ctx, order)
    return end(Reply(text))


def _ordered_text(tx: Tx, ctx: Ctx, order: Doc) -> str:
    from assistant.services.orders.notify import order_title

    return ctx.t(
        "orders.ordered",
        item=order_title(tx, order, ctx.tr),
        total=orders.money_text(orders.money(order["total"])),
        way=fulfilment_text(tx, order, ctx.tr),
    )


SHOP_FLOW = Flow(
    name=FLOW,
    start=start,
    on_leave=give_back_hold,
    commands=("shop",),
    menu_key="orders.menu_shop",
    help_key="orders.help_shop",
    keywords_key="keywords.produce",
    states={
        "shop.whom": State(ask_whom, stoppable(got_whom)),
        "shop.items": State(ask_items, stoppable(got_item)),
        "shop.quantity": State(ask_quantity, stoppable(got_quantity)),
        "shop.waitlist": State(ask_waitlist, got_waitlist),
        "shop.fulfil": State(ask_fulfil, stoppable(got_fulfil)),
        "shop.confirm": State(ask_confirm, stoppable(got_confirm)),
    },
)


# -- /subscribe -------------------------------------------------------------------------------


async def subscribe(ctx: Ctx) -> Turn:
    """Switch the going-live announcements on or off."""
    person = me(ctx)
    now_on = not await ctx.view(announce.subscribed, person["id"])
    await ctx.atomic(announce.set_subscribed, person["id"], now_on, ctx.app.clock.now())
    return end(Reply(ctx.t("orders.subscribed" if now_on else "orders.unsubscribed")))


SUBSCRIBE = Flow(
    name="subscribe",
    start=subscribe,
    commands=("subscribe",),
    menu_key="orders.menu_subscribe",
    help_key="orders.help_subscribe",
    keywords_key="keywords.subscribe",
    states={},
)

FLOWS: tuple[Flow, ...] = (
    SHOP_FLOW,
    ORDERS_FLOW,
    SUBSCRIBE,
    VENDOR,
    NEW_LISTING,
    ON_STREAM,
    COMPLAIN,
)
ACTIONS: dict[str, Action] = {
    SHOP: orders_buttons.SHOP_ACTION,
    ORDER: orders_buttons.ORDER_ACTION,
    LISTING: orders_buttons.LISTING_ACTION,
    SUPERVISION: orders_buttons.SUPERVISION_ACTION,
    "group_press": orders_buttons.group_press,
}
