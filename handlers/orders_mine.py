"""/orders → the person's (and their relatives') orders with their status; cancel → sure?

Cancel is offered until the order is packed; the button is the ``ord`` action
(``a:ord:cancel:<order>``, :mod:`handlers.orders_buttons`), which leads to the
question here. The cancellation is checked again inside its unit of work.
"""

from __future__ import annotations

from assistant.conversation.buttons import OrderStep, OrderVerb
from assistant.conversation.flow import Ctx, Flow, State, Turn, Unexpected, end
from assistant.conversation.vocabulary import Choice, Reply
from assistant.services import orders, people
from assistant.services.orders import ordering
from assistant.services.orders.notify import fulfilment_text, order_title
from assistant.store.base import Doc, Tx
from handlers.orders_common import FLOW, commit, me

MAX_SHOWN = 10


def _listed(tx: Tx, ctx: Ctx, person_id: str) -> tuple[str, tuple[tuple[Choice, ...], ...]]:
    """Numbered lines of orders and their buttons."""
    found = ordering.visible_to(tx, person_id)[:MAX_SHOWN]
    lines = [ctx.t("orders.mine_intro")]
    buttons: list[tuple[Choice, ...]] = []
    for number, order in enumerate(found, start=1):
        person = tx.get(people.PEOPLE, order["person_id"]) or {}
        lines.append(
            ctx.t(
                "orders.mine_line",
                number=number,
                item=order_title(tx, order, ctx.tr),
                total=orders.money_text(orders.money(order["total"])),
                way=fulfilment_text(tx, order, ctx.tr),
                status=ctx.t(f"orders.status_{order['status']}"),
                name=person.get("name", "") if order["person_id"] != person_id else "",
            )
        )
        if order["status"] in (orders.OrderStatus.CONFIRMED,):
            label = ctx.t("orders.cancel_n", number=number)
            buttons.append((Choice(label, OrderStep(OrderVerb.CANCEL, order["id"]).encode()),))
        elif order["status"] == orders.OrderStatus.DELIVERED and not order.get("received_at"):
            label = ctx.t("orders.got_it_n", number=number)
            buttons.append((Choice(label, OrderStep(OrderVerb.RECEIVED, order["id"]).encode()),))
    return "\n".join(lines), tuple(buttons)


async def mine(ctx: Ctx) -> Turn:
    """List the orders with what can be done."""
    person = me(ctx)
    found = await ctx.view(ordering.visible_to, person["id"])
    if not found:
        shop = (Choice(ctx.t("orders.menu_shop"), "m:" + FLOW),)
        return end(Reply(ctx.t("orders.mine_none"), choices=(shop,)))
    text, buttons = await ctx.view(_listed, ctx, person["id"])
    return end(Reply(text, choices=buttons))


def _order(tx: Tx, order_id: str) -> Doc:
    return ordering.require_order(tx, order_id)


async def ask_cancel(ctx: Ctx) -> list[Reply]:
    """Name the order and ask to confirm the cancellation."""
    order = await ctx.view(_order, ctx.data["order"])
    item = await ctx.view(order_title, order, ctx.tr)
    yes = Choice(ctx.t("orders.cancel_yes"), "yes")
    no = Choice(ctx.t("orders.cancel_no"), "no")
    return [Reply(ctx.t("orders.cancel_sure", item=item), choices=((yes, no),))]


async def got_cancel(ctx: Ctx) -> Turn:
    """Cancel (checked again atomically), or keep it."""
    if ctx.press == "no":
        ctx.data = {}
        return end(Reply(ctx.t("orders.kept")))
    if ctx.press != "yes":
        raise Unexpected()
    order_id = ctx.data["order"]
    ctx.data = {}
    try:
        await commit(ctx, ordering.cancel, order_id, me(ctx))
    except orders.OrdersError as refusal:
        return end(Reply(ctx.t(refusal.key)))
    return end(Reply(ctx.t("orders.cancelled")))


ORDERS_FLOW = Flow(
    name="orders",
    start=mine,
    commands=("orders",),
    menu_key="orders.menu_orders",
    help_key="orders.help_orders",
    keywords_key="keywords.orders",
    states={"orders.cancel_sure": State(ask_cancel, got_cancel)},
)
