"""/complain → about (an order, a vendor) → what about → in words → photo → sent; a coordinator answers.

The supervision line (统一购监督中心): the complaint reaches the coordinators
with an "answer" button (``a:sup:answer:<complaint>``), whose question is
``sup.answer`` here; the answer reaches the resident. "Something was wrong"
in the day-after follow-up (``a:sup:order:<order>``) starts this flow at the
question "what about?" for that order.
"""

from __future__ import annotations

from assistant.conversation.flow import Ctx, Flow, State, Turn, Unexpected, end, go
from assistant.conversation.vocabulary import Choice, Kind, Reply, rows
from assistant.services import orders
from assistant.services.orders import ordering, supervision, vendors
from assistant.services.orders.notify import order_title
from assistant.store.base import Tx
from handlers.orders_common import SKIP, commit, me, stop_row, stoppable

CLOSE = "orders.close"

ORDER, VENDOR = "order:", "vendor:"
MAX_ORDERS = 4


def _choices(tx: Tx, ctx: Ctx, person_id: str) -> list[Choice]:
    """Recent orders first, then every vendor."""
    found = ordering.visible_to(tx, person_id)[:MAX_ORDERS]
    buttons = [
        Choice(ctx.t("orders.about_order", item=order_title(tx, o, ctx.tr)), ORDER + o["id"])
        for o in found
    ]
    buttons += [Choice(v.name(ctx.tr.is_chinese), VENDOR + v.id) for v in vendors.all_vendors(tx)]
    return buttons


async def start(ctx: Ctx) -> Turn:
    """Begin a complaint."""
    ctx.data = {"by": me(ctx)["id"]}
    return go("complain.about")


async def ask_about(ctx: Ctx) -> list[Reply]:
    """About which order, vendor or supermarket."""
    buttons = await ctx.view(_choices, ctx, ctx.data["by"])
    return [
        Reply(ctx.t("orders.ask_about"), choices=rows(*buttons, width=1) + (stop_row(ctx, CLOSE),))
    ]


async def got_about(ctx: Ctx) -> Turn:
    """Record what it is about; ask what about it."""
    offered = {c.value for c in await ctx.view(_choices, ctx, ctx.data["by"])}
    if ctx.press not in offered:
        raise Unexpected()
    if ctx.press.startswith(ORDER):
        ctx.data["order"] = ctx.press[len(ORDER) :]
    else:
        ctx.data["vendor"] = ctx.press[len(VENDOR) :]
    return go("complain.category")


async def ask_category(ctx: Ctx) -> list[Reply]:
    """Quality, price, hygiene or delivery."""
    buttons = [Choice(ctx.t(f"orders.category_{c.value}"), c.value) for c in orders.Category]
    return [
        Reply(
            ctx.t("orders.ask_category"), choices=rows(*buttons, width=2) + (stop_row(ctx, CLOSE),)
        )
    ]


async def got_category(ctx: Ctx) -> Turn:
    """Record the category; ask for it in words."""
    if ctx.press not in set(orders.Category):
        raise Unexpected()
    ctx.data["category"] = ctx.press
    return go("complain.text")


async def ask_text(ctx: Ctx) -> list[Reply]:
    """What happened, in a few words."""
    limit = supervision.MAX_TEXT
    return [Reply(ctx.t("orders.ask_complaint", limit=limit), choices=(stop_row(ctx, CLOSE),))]


async def got_text(ctx: Ctx) -> Turn:
    """Record the words; ask for a photo."""
    text = " ".join(ctx.text.split())
    if len(text) > supervision.MAX_TEXT:
        raise Unexpected("orders.too_long", limit=supervision.MAX_TEXT)
    ctx.data["text"] = text
    return go("complain.photo")


async def ask_photo(ctx: Ctx) -> list[Reply]:
    """An optional photo."""
    skip = (Choice(ctx.t("orders.skip"), SKIP),)
    return [Reply(ctx.t("orders.ask_complaint_photo"), choices=(skip, stop_row(ctx, CLOSE)))]


async def got_photo(ctx: Ctx) -> Turn:
    """Send it to the supervision centre."""
    photo = ""
    if ctx.incoming.press != SKIP:
        if ctx.incoming.kind is not Kind.PHOTO or not ctx.incoming.file_ref.startswith("media:"):
            raise Unexpected("orders.send_photo")
        photo = ctx.incoming.file_ref
    data = ctx.data
    await commit(
        ctx,
        supervision.complain,
        me(ctx),
        data.get("vendor", ""),
        data.get("order", ""),
        data["category"],
        data.get("text", ""),
        photo,
    )
    ctx.data = {}
    return end(Reply(ctx.t("orders.complaint_sent")))


async def ask_answer(ctx: Ctx) -> list[Reply]:
    """The coordinator writes the answer to the resident."""
    complaint = await ctx.view(supervision.answerable, ctx.app, ctx.data["complaint"], ctx.person)
    what = await ctx.view(supervision.describe, complaint, ctx.tr)
    return [Reply(ctx.t("orders.ask_answer", what=what), choices=(stop_row(ctx, CLOSE),))]


async def got_answer(ctx: Ctx) -> Turn:
    """Send the answer; the complaint is closed."""
    text = " ".join(ctx.text.split())
    if len(text) > supervision.MAX_ANSWER:
        raise Unexpected("orders.too_long", limit=supervision.MAX_ANSWER)
    await commit(ctx, supervision.answer, ctx.data["complaint"], me(ctx), text)
    ctx.data = {}
    return end(Reply(ctx.t("orders.answer_sent")))


COMPLAIN = Flow(
    name="complain",
    start=start,
    commands=("complain",),
    menu_key="orders.menu_complain",
    help_key="orders.help_complain",
    keywords_key="keywords.complain",
    states={
        "complain.about": State(ask_about, stoppable(got_about)),
        "complain.category": State(ask_category, stoppable(got_category)),
        "complain.text": State(ask_text, stoppable(got_text)),
        "complain.photo": State(ask_photo, stoppable(got_photo)),
        "sup.answer": State(ask_answer, stoppable(got_answer)),
    },
)
