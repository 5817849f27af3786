"""The orders side's buttons outside a question: ``a:shop``, ``a:ord``, ``a:lst``, ``a:sup``.

Each press is read by its codec (:mod:`assistant.conversation.buttons`) and
checked again on the server inside the change itself: a quantity button holds
stock (``a:shop:hold:<listing>:<n>``), an order button moves the order for
whoever may (resident, vendor staff, the run's volunteer), a listing button is
staff only, a supervision button leads to the complaint or answer question.
A press in a neighbours' group ("I want some") is answered in private.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

from assistant.conversation.buttons import (
    ListingStep,
    ListingVerb,
    OrderStep,
    OrderVerb,
    ShopButton,
    ShopVerb,
    SupervisionStep,
    SupervisionVerb,
    split,
)
from assistant.conversation.flow import Ctx, Turn, end, go, pressed
from assistant.conversation.vocabulary import Reply
from assistant.services import orders, people
from assistant.services.orders import announce, listings, ordering, runs, stock, supervision
from assistant.services.orders.notify import listing_of
from assistant.store.base import Doc, Tx
from handlers.orders_common import (
    FLOW,
    commit,
    fresh,
    give_back_hold,
    hold_for,
    join_waitlist,
    me,
)


def item_value(listing_id: str) -> str:
    """The value of "show me this item"."""
    return ShopButton(ShopVerb.ITEM, listing_id).encode()


# -- a:shop ---------------------------------------------------------------------------------


async def on_shop(ctx: Ctx, button: ShopButton) -> Turn:
    """Show an item, hold a quantity, or claim / drop a hold offered from the waiting list."""
    if ctx.person is None:
        return end(Reply(ctx.t("core.button_expired")))
    if button.verb is ShopVerb.ITEM:
        return await _item(ctx, button.ref)
    if button.verb is ShopVerb.HOLD:
        outside_form = not ctx.data  # no question open: an announcement or the group list
        if ctx.data.get("flow") != FLOW or ctx.data.get("listing") != button.ref:
            await give_back_hold(ctx, ctx.data)  # another item's hold goes back at once
            fresh(ctx, button.ref)
        return await hold_for(ctx, button.ref, button.quantity, outside_form=outside_form)
    if button.verb is ShopVerb.CLAIM:
        return await _claim(ctx, button.ref)
    if button.verb is ShopVerb.WAIT:  # for the person pressing, whatever the button says
        person_id = me(ctx)["id"]
        return await join_waitlist(ctx, button.ref, person_id, person_id, button.quantity)
    await commit(ctx, stock.release, button.ref, me(ctx)["id"])
    ctx.data = {}
    return end(Reply(ctx.t("orders.dropped")))


async def _item(ctx: Ctx, listing_id: str) -> Turn:
    listing = await ctx.view(listing_of, listing_id)
    if listing is None or not listing.on_sale(ctx.app.clock.now()):
        ctx.data = {}
        return end(Reply(ctx.t("orders.sale_ended")))
    keep = ctx.data.get("flow") == FLOW and ctx.data.get("listing") == listing_id
    if not keep:
        await give_back_hold(ctx, ctx.data)
        fresh(ctx, listing_id)
        if await ctx.view(people.relatives_of, ctx.data["by"]):
            return go("shop.whom")
    return go("shop.quantity")


async def _claim(ctx: Ctx, hold_id: str) -> Turn:
    """A hold offered from the waiting list: go on to pickup or delivery."""
    person = me(ctx)
    held = await ctx.view(stock.live_hold, ctx.app, hold_id, person["id"], ctx.app.clock.now())
    whom = await ctx.view(lambda tx: tx.get(people.PEOPLE, held["person_id"]) or {})
    ctx.data = {
        "flow": FLOW,
        "by": held["by"],
        "for": held["person_id"],
        "for_name": whom.get("name", ""),
        "listing": held["listing_id"],
        "hold": hold_id,
        "quantity": held["quantity"],
    }
    return go("shop.fulfil")


# -- a:ord ----------------------------------------------------------------------------------

STAFF_VERBS = (OrderVerb.PACK, OrderVerb.HAND, OrderVerb.DONE, OrderVerb.GIVE_UP)
RUN_VERBS = (OrderVerb.DELIVERED, OrderVerb.NOT_HOME)


async def on_order(ctx: Ctx, button: OrderStep) -> Turn:
    """An order's step, checked on the server for whoever pressed it."""
    if ctx.person is None:
        return end(Reply(ctx.t("core.button_expired")))
    verb, order_id = button.verb, button.order_id
    if verb is OrderVerb.CANCEL:
        order = await ctx.view(ordering.require_order, order_id)
        if not await ctx.view(ordering.may_see, ctx.app, order, ctx.person):
            raise orders.NotYours()
        if order["status"] not in (orders.OrderStatus.CONFIRMED,):
            raise orders.NotChangeable()
        ctx.data = {"order": order_id}
        return go("orders.cancel_sure")
    if verb is OrderVerb.CANCEL_YES:
        await commit(ctx, ordering.cancel, order_id, ctx.person)
        return end(Reply(ctx.t("orders.cancelled")))
    if verb in STAFF_VERBS:
        order = await commit(ctx, ordering.staff_step, order_id, ctx.person, verb)
        return _back_to_vendor(ctx, order, ctx.t(f"orders.staff_done_{verb.value}"))
    if verb is OrderVerb.PAY:
        order = await ctx.view(_staff_order, ctx, order_id)
        ctx.data = {"vendor": order["vendor_id"], "order": order_id}
        return go("vendor.pay_method")
    if verb in RUN_VERBS:
        await commit(ctx, runs.volunteer_step, order_id, ctx.person, verb)
        return end(Reply(ctx.t(f"orders.run_done_{verb.value}")))
    if verb is OrderVerb.RECEIVED:
        await commit(ctx, ordering.received, order_id, ctx.person)
        return end(Reply(ctx.t("orders.thanks_received")))
    await ctx.atomic(ordering.answer_follow_up, ctx.app, order_id, ctx.person, button.arg)
    return end(Reply(ctx.t("orders.fu_thanks")))


def _staff_order(tx: Tx, ctx: Ctx, order_id: str) -> Doc:
    order = ordering.require_order(tx, order_id)
    from assistant.services.orders import vendors

    vendors.require_staff(tx, ctx.app, ctx.person, order["vendor_id"])
    return order


def _back_to_vendor(ctx: Ctx, order: Doc, said: str) -> Turn:
    """After a staff step: back to the vendor's order list with what was done."""
    ctx.data = {"vendor": order["vendor_id"]}
    return go("vendor.orders", Reply(said))


# -- a:lst ----------------------------------------------------------------------------------


async def on_listing(ctx: Ctx, button: ListingStep) -> Turn:
    """Staff open, pause, restock, end a listing, or push it "now on stream"."""
    if ctx.person is None:
        return end(Reply(ctx.t("core.button_expired")))
    verb, listing_id = button.verb, button.listing_id
    doc = await ctx.view(_staff_listing, ctx, listing_id)
    ctx.data = {"vendor": doc["vendor_id"], "listing": listing_id}
    if verb is ListingVerb.OPEN:
        return go("vendor.listing")
    if verb in (ListingVerb.PAUSE, ListingVerb.RESUME):
        await commit(ctx, listings.set_paused, listing_id, ctx.person, verb is ListingVerb.PAUSE)
        return go("vendor.listing", Reply(ctx.t(f"orders.listing_{verb.value}d")))
    if verb is ListingVerb.STOCK:
        return go("vendor.add_stock")
    if verb is ListingVerb.END:
        return go("vendor.end_sure")
    if verb is ListingVerb.END_YES:
        await commit(ctx, listings.end_early, listing_id, ctx.person)
        return go("vendor.listings", Reply(ctx.t("orders.listing_ended")))
    told = await commit(ctx, announce.on_stream, listing_id, ctx.person)
    ctx.data = {}
    return end(Reply(ctx.t("orders.on_stream_sent", count=told)))


def _staff_listing(tx: Tx, ctx: Ctx, listing_id: str) -> Doc:
    from assistant.services.orders import vendors

    doc = tx.get(orders.LISTINGS, listing_id)
    if doc is None:
        raise orders.NotChangeable()
    vendors.require_staff(tx, ctx.app, ctx.person, doc["vendor_id"])
    return doc


# -- a:sup ----------------------------------------------------------------------------------


async def on_supervision(ctx: Ctx, button: SupervisionStep) -> Turn:
    """Complain about an order (from the follow-up), or answer a complaint (coordinators)."""
    if ctx.person is None:
        return end(Reply(ctx.t("core.button_expired")))
    if button.verb is SupervisionVerb.ORDER:
        order = await ctx.view(ordering.require_order, button.ref)
        if me(ctx)["id"] not in (order["person_id"], order["by"]):
            raise orders.NotYours()
        ctx.data = {"by": ctx.person["id"], "order": button.ref}
        return go("complain.category")
    await ctx.view(supervision.answerable, ctx.app, button.ref, ctx.person)
    ctx.data = {"complaint": button.ref}
    return go("sup.answer")


# -- a press in a neighbours' group ---------------------------------------------------------------


async def group_press(ctx: Ctx, parts: list[str]) -> Turn:
    """ "I want some" in a group list: the item card in private (nothing said in the group)."""
    found = split(parts[0]) if parts else None
    button = ShopButton.parse(found[1]) if found and found[0] == ShopButton.ACTION else None
    if button is None or button.verb is not ShopVerb.ITEM:
        return end()
    if ctx.person is None:
        return end(Reply(ctx.t("orders.group_register_first"), to=ctx.sender))
    listing = await ctx.view(listing_of, button.ref)
    if listing is None or not listing.on_sale(ctx.app.clock.now()):
        return end(Reply(ctx.t("orders.sale_ended"), to=ctx.sender))
    return end(replace(announce.card(ctx.app, listing, ctx.tr, "orders.from_group"), to=ctx.sender))


B = TypeVar("B")


def keeps_the_form(
    step: Callable[[Ctx, B], Awaitable[Turn]],
) -> Callable[[Ctx, B], Awaitable[Turn]]:
    """A press that ends (or is refused) leaves the form the person was in as it was.

    The engine keeps the current question when an action ends without a
    state of its own, so the data of that question must be given back too.
    """

    async def run(ctx: Ctx, button: B) -> Turn:
        before = dict(ctx.data)
        try:
            turn = await step(ctx, button)
        except Exception:
            ctx.data = before
            raise
        if turn.state is None:
            ctx.data = before
        return turn

    run.__doc__ = step.__doc__
    return run


SHOP_ACTION = pressed(ShopButton.parse, keeps_the_form(on_shop))
ORDER_ACTION = pressed(OrderStep.parse, keeps_the_form(on_order))
LISTING_ACTION = pressed(ListingStep.parse, keeps_the_form(on_listing))
SUPERVISION_ACTION = pressed(SupervisionStep.parse, keeps_the_form(on_supervision))
