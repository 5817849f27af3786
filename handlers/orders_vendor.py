"""The vendor side: /vendor (orders to pack, listings), /newlisting, /onstream.

/vendor → (which vendor) → orders by pickup point or grid, each with pack /
hand over / picked up / payment buttons, or the listings with pause, add stock
and end early. /newlisting → vendor → title (/ English title) → unit → price →
sale price → stock → limit → sale window → delivery → confirm (a photo may
come at the last question, through the media port).
/onstream → a listing on sale → "now on stream" to subscribers. Only the
vendor's staff and coordinators get in, and every change checks it again in
its unit of work. The order and listing buttons are the ``ord`` and ``lst``
actions (:mod:`handlers.orders_buttons`).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from assistant.clock import from_iso, to_iso
from assistant.conversation.buttons import ListingStep, ListingVerb, OrderStep, OrderVerb
from assistant.conversation.flow import Ctx, Flow, State, Turn, Unexpected, end, go
from assistant.conversation.vocabulary import Choice, Kind, Reply, rows
from assistant.domain.numbers import is_digits
from assistant.services import orders, people
from assistant.services.orders import announce, listings, ordering, stock, vendors
from assistant.services.orders.notify import fulfilment_text, order_title, when_text
from assistant.services.orders.records import STAFF_ROLE, Delivery, building_unit
from assistant.store.base import Doc, Tx
from handlers.orders_common import SKIP, commit, me, stop_row, stoppable, typed_number

CLOSE = "orders.close"

BACK = "back"
STAFF_ROLES = (people.COORDINATOR, STAFF_ROLE)
MAX_ORDERS_SHOWN = 8
MAX_TITLE = listings.MAX_TITLE
WINDOWS = ("today", "day", "three", "tomorrow")
DONE = "done"


# -- entering ---------------------------------------------------------------------------------


def _managed(tx: Tx, ctx: Ctx) -> list[orders.Vendor]:
    return vendors.managed_by(tx, ctx.app, ctx.person)


async def _enter(ctx: Ctx, then: str) -> Turn:
    """Staff and coordinators only; ask which vendor when they manage several."""
    managed = await ctx.view(_managed, ctx)
    if not managed:
        raise orders.NotStaff()
    ctx.data = {"then": then}
    if len(managed) == 1:
        ctx.data["vendor"] = managed[0].id
        return go(then)
    return go("vendor.which" if then.startswith("vendor") else "newlisting.vendor")


async def ask_which(ctx: Ctx) -> list[Reply]:
    """Which of the vendors they manage."""
    managed = await ctx.view(_managed, ctx)
    buttons = [Choice(v.name(ctx.tr.is_chinese), v.id) for v in managed]
    return [
        Reply(ctx.t("orders.ask_vendor"), choices=rows(*buttons, width=1) + (stop_row(ctx, CLOSE),))
    ]


async def got_which(ctx: Ctx) -> Turn:
    """Record the vendor; go on."""
    managed = await ctx.view(_managed, ctx)
    if ctx.press not in {v.id for v in managed}:
        raise Unexpected()
    ctx.data["vendor"] = ctx.press
    return go(ctx.data.get("then", "vendor.home"))


# -- /vendor ------------------------------------------------------------------------------------


async def vendor_start(ctx: Ctx) -> Turn:
    """The vendor's page."""
    return await _enter(ctx, "vendor.home")


def _counts(tx: Tx, vendor_id: str) -> dict[str, int]:
    found = ordering.for_vendor(tx, vendor_id)
    return {
        status.value: len([o for o in found if o["status"] == status])
        for status in orders.OrderStatus
    }


async def ask_home(ctx: Ctx) -> list[Reply]:
    """How many orders wait at each step; orders or listings."""
    counts = await ctx.view(_counts, ctx.data["vendor"])
    text = ctx.t(
        "orders.vendor_home",
        confirmed=counts["confirmed"],
        packed=counts["packed"],
        handed=counts["handed_over"],
    )
    choices = (
        (
            Choice(ctx.t("orders.vendor_orders"), "orders"),
            Choice(ctx.t("orders.vendor_listings"), "listings"),
        ),
        stop_row(ctx, CLOSE),
    )
    return [Reply(text, choices=choices)]


async def got_home(ctx: Ctx) -> Turn:
    """Orders or listings."""
    if ctx.press == "orders":
        return go("vendor.orders")
    if ctx.press == "listings":
        return go("vendor.listings")
    raise Unexpected()


def _order_buttons(ctx: Ctx, number: int, order: Doc) -> tuple[Choice, ...]:
    """The next step of an order for the vendor, and payment."""
    status, way = order["status"], str(order["fulfilment"])
    row: list[Choice] = []
    steps = {
        orders.OrderStatus.CONFIRMED: (OrderVerb.PACK, "orders.pack_n"),
        orders.OrderStatus.PACKED: (OrderVerb.HAND, "orders.hand_n"),
    }
    if status in steps:
        verb, key = steps[orders.OrderStatus(status)]
        row.append(Choice(ctx.t(key, number=number), OrderStep(verb, order["id"]).encode()))
    elif status == orders.OrderStatus.HANDED_OVER and way != "community":
        row.append(
            Choice(
                ctx.t("orders.done_n", number=number),
                OrderStep(OrderVerb.DONE, order["id"]).encode(),
            )
        )
    if not order.get("payment"):
        row.append(
            Choice(
                ctx.t("orders.pay_n", number=number), OrderStep(OrderVerb.PAY, order["id"]).encode()
            )
        )
    if way == "vendor":
        row.append(
            Choice(
                ctx.t("orders.give_up_n", number=number),
                OrderStep(OrderVerb.GIVE_UP, order["id"]).encode(),
            )
        )
    return tuple(row)


def _orders_page(tx: Tx, ctx: Ctx, vendor_id: str) -> Reply:
    found = ordering.for_vendor(tx, vendor_id)[:MAX_ORDERS_SHOWN]
    if not found:
        return Reply(
            ctx.t("orders.vendor_no_orders"), choices=((Choice(ctx.t("orders.back"), BACK),),)
        )
    lines = [ctx.t("orders.vendor_orders_intro")]
    buttons: list[tuple[Choice, ...]] = []
    group = None
    for number, order in enumerate(found, start=1):
        if ordering.group_of(order) != group:
            group = ordering.group_of(order)
            lines.append(_group_title(tx, ctx, order))
        lines.append(
            ctx.t(
                "orders.vendor_line",
                number=number,
                where=building_unit(order.get("household"), ctx.tr.is_chinese),
                item=order_title(tx, order, ctx.tr),
                status=ctx.t(f"orders.status_{order['status']}"),
                paid=ctx.t("orders.paid_mark") if order.get("payment") else "",
            )
        )
        row = _order_buttons(ctx, number, order)
        if row:
            buttons.append(row)
    buttons.append((Choice(ctx.t("orders.back"), BACK),))
    return Reply("\n".join(lines), choices=tuple(buttons))


def _group_title(tx: Tx, ctx: Ctx, order: Doc) -> str:
    way = str(order["fulfilment"])
    if way.startswith("pickup:"):
        return "【" + fulfilment_text(tx, order, ctx.tr) + "】"
    from assistant.services.people import community

    return "【" + (community.grid_name(tx, order.get("grid_id")) or "—") + "】"


async def ask_orders(ctx: Ctx) -> list[Reply]:
    """Live orders by pickup point or grid, in building order, each with its next step."""
    return [await ctx.view(_orders_page, ctx, ctx.data["vendor"])]


async def got_back(ctx: Ctx) -> Turn:
    """Back to the vendor's page (the order and listing buttons are actions)."""
    if ctx.press == BACK:
        return go("vendor.home")
    raise Unexpected()


async def ask_listings(ctx: Ctx) -> list[Reply]:
    """The vendor's listings not yet closed."""
    found = await ctx.view(listings.of_vendor, ctx.data["vendor"], ctx.app.clock.now())
    buttons = [
        Choice(
            ctx.t(
                "orders.listing_button",
                title=x.title(ctx.tr.is_chinese),
                left=(left := stock.left_now(ctx.app, x)),
                unit=x.unit_in(ctx.tr.is_chinese, left),
            ),
            ListingStep(ListingVerb.OPEN, x.id).encode(),
        )
        for x in found
    ]
    text = ctx.t("orders.vendor_listings_intro" if found else "orders.vendor_no_listings")
    return [Reply(text, choices=rows(*buttons, width=1) + ((Choice(ctx.t("orders.back"), BACK),),))]


async def ask_listing(ctx: Ctx) -> list[Reply]:
    """One listing: its card and what staff may do."""
    doc = await ctx.view(_listing_doc, ctx.data["listing"])
    listing = orders.Listing.from_doc(doc)
    now = ctx.app.clock.now()
    state = (
        ctx.t("orders.paused")
        if listing.paused
        else ctx.t("orders.on_sale")
        if listing.on_sale(now)
        else ctx.t("orders.not_started")
    )
    left = stock.left_now(ctx.app, listing)
    text = announce.card_text(ctx.app, listing, ctx.tr, left) + "\n" + state
    toggle = (
        (ListingVerb.RESUME, "orders.resume")
        if listing.paused
        else (ListingVerb.PAUSE, "orders.pause")
    )
    buttons = (
        (
            Choice(ctx.t(toggle[1]), ListingStep(toggle[0], listing.id).encode()),
            Choice(ctx.t("orders.add_stock"), ListingStep(ListingVerb.STOCK, listing.id).encode()),
        ),
        (Choice(ctx.t("orders.end_early"), ListingStep(ListingVerb.END, listing.id).encode()),),
        (Choice(ctx.t("orders.back"), BACK),),
    )
    return [Reply(text, choices=buttons)]


def _listing_doc(tx: Tx, listing_id: str) -> Doc:
    doc = tx.get(orders.LISTINGS, listing_id)
    if doc is None:
        raise orders.NotChangeable()
    return doc


async def got_listing_back(ctx: Ctx) -> Turn:
    """Back to the listings."""
    if ctx.press == BACK:
        return go("vendor.listings")
    raise Unexpected()


async def ask_add_stock(ctx: Ctx) -> list[Reply]:
    """How many units to add."""
    return [Reply(ctx.t("orders.ask_add_stock"), choices=(stop_row(ctx, CLOSE),))]


async def got_add_stock(ctx: Ctx) -> Turn:
    """Add them (the waiting list is offered them first)."""
    quantity = typed_number(ctx, "orders.type_quantity")
    doc = await commit(ctx, listings.add_stock, ctx.data["listing"], me(ctx), quantity)
    return go(
        "vendor.listing",
        Reply(
            ctx.t(
                "orders.stock_added",
                left=(left := stock.left_now(ctx.app, orders.Listing.from_doc(doc))),
                unit=orders.unit_words(doc["unit"], ctx.tr.is_chinese, left),
            )
        ),
    )


async def ask_end(ctx: Ctx) -> list[Reply]:
    """End the sale now?"""
    yes = Choice(
        ctx.t("orders.end_yes"), ListingStep(ListingVerb.END_YES, ctx.data["listing"]).encode()
    )
    return [Reply(ctx.t("orders.end_sure"), choices=((yes, Choice(ctx.t("orders.end_no"), BACK)),))]


async def ask_pay_method(ctx: Ctx) -> list[Reply]:
    """Cash or transfer."""
    cash, transfer = (
        Choice(ctx.t("orders.cash"), "cash"),
        Choice(ctx.t("orders.transfer"), "transfer"),
    )
    return [Reply(ctx.t("orders.ask_pay_method"), choices=((cash, transfer), stop_row(ctx, CLOSE)))]


async def got_pay_method(ctx: Ctx) -> Turn:
    """Record the method; ask the amount."""
    if ctx.press not in ordering.PAYMENT_METHODS:
        raise Unexpected()
    ctx.data["method"] = ctx.press
    return go("vendor.pay_amount")


async def ask_pay_amount(ctx: Ctx) -> list[Reply]:
    """How much was paid (the order's total as one tap)."""
    order = await ctx.view(ordering.require_order, ctx.data["order"])
    total = orders.money(order["total"])
    button = Choice(ctx.t("orders.pay_total", total=orders.money_text(total)), "total")
    return [Reply(ctx.t("orders.ask_pay_amount"), choices=((button,), stop_row(ctx, CLOSE)))]


async def got_pay_amount(ctx: Ctx) -> Turn:
    """Record the payment."""
    if ctx.incoming.press == "total":
        order = await ctx.view(ordering.require_order, ctx.data["order"])
        amount = orders.money(order["total"])
    else:
        try:
            amount = orders.money(ctx.text)
        except orders.BadMoney:
            raise Unexpected("orders.type_amount") from None
    await commit(
        ctx, ordering.record_payment, ctx.data["order"], me(ctx), ctx.data["method"], amount
    )
    return go(
        "vendor.orders", Reply(ctx.t("orders.payment_recorded", amount=orders.money_text(amount)))
    )


VENDOR = Flow(
    name="vendor",
    start=vendor_start,
    commands=("vendor",),
    roles=STAFF_ROLES,
    help_key="orders.help_vendor",
    keywords_key="keywords.vendor",
    states={
        "vendor.which": State(ask_which, stoppable(got_which)),
        "vendor.home": State(ask_home, stoppable(got_home)),
        "vendor.orders": State(ask_orders, got_back),
        "vendor.listings": State(ask_listings, got_back),
        "vendor.listing": State(ask_listing, got_listing_back),
        "vendor.add_stock": State(ask_add_stock, stoppable(got_add_stock)),
        "vendor.end_sure": State(ask_end, got_listing_back),
        "vendor.pay_method": State(ask_pay_method, stoppable(got_pay_method)),
        "vendor.pay_amount": State(ask_pay_amount, stoppable(got_pay_amount)),
    },
)


# -- /newlisting ---------------------------------------------------------------------------------


async def new_start(ctx: Ctx) -> Turn:
    """Staff or a coordinator make a listing."""
    return await _enter(ctx, "newlisting.title")


async def ask_title(ctx: Ctx) -> list[Reply]:
    """The title in Chinese, and in English after a slash if they like."""
    return [Reply(ctx.t("orders.ask_title", limit=MAX_TITLE), choices=(stop_row(ctx, CLOSE),))]


async def got_title(ctx: Ctx) -> Turn:
    """Record the title (``中文名 / English name``, the English part optional); ask the unit."""
    chinese, _, english = " ".join(ctx.text.split()).partition("/")
    chinese, english = chinese.strip(), english.strip()
    if not 1 <= len(chinese) <= MAX_TITLE or len(english) > MAX_TITLE * 2:
        raise Unexpected("orders.title_invalid", limit=MAX_TITLE)
    ctx.data.update({"title_zh": chinese, "title_en": english})
    return go("newlisting.unit")


async def ask_unit(ctx: Ctx) -> list[Reply]:
    """斤, 箱, 袋 … (or typed)."""
    buttons = [Choice(unit, unit) for unit in listings.UNITS]
    return [
        Reply(ctx.t("orders.ask_unit"), choices=rows(*buttons, width=4) + (stop_row(ctx, CLOSE),))
    ]


async def got_unit(ctx: Ctx) -> Turn:
    """Record the unit; ask the price."""
    unit = ctx.incoming.press if ctx.incoming.kind is Kind.PRESS else " ".join(ctx.text.split())
    if not unit or len(unit) > 6:
        raise Unexpected("orders.unit_invalid")
    ctx.data["unit"] = unit
    return go("newlisting.price")


def _money_of(ctx: Ctx) -> Decimal:
    try:
        amount = orders.money(ctx.text)
    except orders.BadMoney:
        raise Unexpected("orders.type_amount") from None
    if amount <= 0:
        raise Unexpected("orders.type_amount")
    return amount


async def ask_price(ctx: Ctx) -> list[Reply]:
    """The usual price per unit."""
    return [
        Reply(
            ctx.t("orders.ask_price", unit=orders.unit_words(ctx.data["unit"], ctx.tr.is_chinese)),
            choices=(stop_row(ctx, CLOSE),),
        )
    ]


async def got_price(ctx: Ctx) -> Turn:
    """Record the price; ask the sale price."""
    ctx.data["price"] = str(_money_of(ctx))
    return go("newlisting.sale_price")


async def ask_sale_price(ctx: Ctx) -> list[Reply]:
    """The sale price (or none)."""
    same = (Choice(ctx.t("orders.no_discount"), SKIP),)
    return [
        Reply(
            ctx.t(
                "orders.ask_sale_price", unit=orders.unit_words(ctx.data["unit"], ctx.tr.is_chinese)
            ),
            choices=(same, stop_row(ctx, CLOSE)),
        )
    ]


async def got_sale_price(ctx: Ctx) -> Turn:
    """Record the sale price (not above the price); ask the stock."""
    if ctx.incoming.press == SKIP:
        ctx.data["sale_price"] = ctx.data["price"]
        return go("newlisting.stock")
    amount = _money_of(ctx)
    if amount > Decimal(ctx.data["price"]):
        raise Unexpected("orders.sale_above_price")
    ctx.data["sale_price"] = str(amount)
    return go("newlisting.stock")


async def ask_stock(ctx: Ctx) -> list[Reply]:
    """How many units to sell."""
    return [
        Reply(
            ctx.t(
                "orders.ask_stock", unit=orders.unit_words(ctx.data["unit"], ctx.tr.is_chinese, 2)
            ),
            choices=(stop_row(ctx, CLOSE),),
        )
    ]


async def got_stock(ctx: Ctx) -> Turn:
    """Record the stock; ask the household limit."""
    number = typed_number(ctx, "orders.type_quantity")
    if number > 100_000:
        raise Unexpected("orders.type_quantity")
    ctx.data["stock"] = number
    return go("newlisting.limit")


async def ask_limit(ctx: Ctx) -> list[Reply]:
    """At most how many per household."""
    buttons = [Choice(str(n), str(n)) for n in (1, 2, 3, 5, 10)]
    return [
        Reply(
            ctx.t(
                "orders.ask_limit", unit=orders.unit_words(ctx.data["unit"], ctx.tr.is_chinese, 2)
            ),
            choices=rows(*buttons, width=5) + (stop_row(ctx, CLOSE),),
        )
    ]


async def got_limit(ctx: Ctx) -> Turn:
    """Record the limit; ask the sale window."""
    if ctx.incoming.kind is Kind.PRESS:
        if not is_digits(ctx.press):
            raise Unexpected()
        number = int(ctx.press)
    else:
        number = typed_number(ctx, "orders.type_quantity")
    if number > orders.records.MAX_QUANTITY:
        raise Unexpected("orders.type_quantity")
    ctx.data["limit"] = number
    return go("newlisting.window")


def windows(ctx: Ctx, now: datetime) -> dict[str, tuple[datetime, datetime]]:
    """The sale windows offered: until tonight, a day, three days, tomorrow's daytime."""
    zone = ctx.app.settings.timezone
    local = now.astimezone(zone)
    tonight = datetime.combine(local.date(), time(22, 0), zone)
    tomorrow = local.date() + timedelta(days=1)
    found = {
        "day": (now, now + timedelta(days=1)),
        "three": (now, now + timedelta(days=3)),
        "tomorrow": (
            datetime.combine(tomorrow, time(9, 0), zone),
            datetime.combine(tomorrow, time(21, 0), zone),
        ),
    }
    if tonight - now >= timedelta(hours=1):
        found["today"] = (now, tonight)
    return found


async def ask_window(ctx: Ctx) -> list[Reply]:
    """When the sale opens and closes."""
    found = windows(ctx, ctx.app.clock.now())
    buttons = [Choice(ctx.t(f"orders.window_{name}"), name) for name in WINDOWS if name in found]
    return [
        Reply(ctx.t("orders.ask_window"), choices=rows(*buttons, width=2) + (stop_row(ctx, CLOSE),))
    ]


async def got_window(ctx: Ctx) -> Turn:
    """Record the window; ask how the goods reach residents."""
    found = windows(ctx, ctx.app.clock.now())
    if ctx.press not in found:
        raise Unexpected()
    starts, ends = found[ctx.press]
    ctx.data.update({"starts_at": to_iso(starts), "ends_at": to_iso(ends)})
    ctx.data.setdefault("delivery", [Delivery.PICKUP.value])
    return go("newlisting.delivery")


def _vendor(tx: Tx, vendor_id: str) -> orders.Vendor:
    doc = tx.get(orders.VENDORS, vendor_id)
    if doc is None:
        raise orders.NotStaff()
    return orders.Vendor.from_doc(doc)


async def ask_delivery(ctx: Ctx) -> list[Reply]:
    """Toggle pickup, vendor delivery, community delivery; then "done"."""
    vendor = await ctx.view(_vendor, ctx.data["vendor"])
    chosen = set(ctx.data.get("delivery", []))
    ways = [Delivery.PICKUP, Delivery.COMMUNITY] + ([Delivery.VENDOR] if vendor.delivers else [])
    if not vendor.pickup_points:
        ways.remove(Delivery.PICKUP)
    buttons = [
        Choice(
            ("✓ " if way.value in chosen else "") + ctx.t(f"orders.delivery_{way.value}"), way.value
        )
        for way in ways
    ]
    return [
        Reply(
            ctx.t("orders.ask_delivery"),
            choices=rows(*buttons, width=1)
            + ((Choice(ctx.t("orders.done"), DONE),), stop_row(ctx, CLOSE)),
        )
    ]


async def got_delivery(ctx: Ctx) -> Turn:
    """Toggle a way, or go on to the photo once at least one is chosen."""
    chosen = list(ctx.data.get("delivery", []))
    if ctx.press == DONE:
        if not chosen:
            raise Unexpected("orders.choose_delivery")
        return go("newlisting.confirm")
    try:
        way = Delivery(ctx.press)
    except ValueError:
        raise Unexpected() from None
    ctx.data["delivery"] = (
        [d for d in chosen if d != way.value] if way.value in chosen else [*chosen, way.value]
    )
    return go("newlisting.delivery")


def draft_of(tx: Tx, ctx: Ctx) -> listings.ListingDraft:
    """The listing the form collected (every pickup point of the vendor for pickup)."""
    vendor = _vendor(tx, ctx.data["vendor"])
    delivery = tuple(Delivery(d) for d in ctx.data.get("delivery", []))
    return listings.ListingDraft(
        vendor_id=vendor.id,
        title_zh=ctx.data["title_zh"],
        title_en=ctx.data.get("title_en", ""),
        unit=ctx.data["unit"],
        price=orders.money(ctx.data["price"]),
        sale_price=orders.money(ctx.data["sale_price"]),
        stock=int(ctx.data["stock"]),
        limit=int(ctx.data["limit"]),
        starts_at=from_iso(ctx.data["starts_at"]),
        ends_at=from_iso(ctx.data["ends_at"]),
        delivery=delivery,
        pickup_points=tuple(p.id for p in vendor.pickup_points)
        if Delivery.PICKUP in delivery
        else (),
        photo=ctx.data.get("photo", ""),
    )


async def ask_new_confirm(ctx: Ctx) -> list[Reply]:
    """The listing as residents will see it; publish or stop."""
    draft = await ctx.view(draft_of, ctx)
    ways = "、".join(ctx.t(f"orders.delivery_{d.value}") for d in draft.delivery)
    text = ctx.t(
        "orders.new_summary",
        title=draft.title_zh,
        title_en=draft.title_en or "—",
        price=orders.money_text(draft.price),
        sale=orders.money_text(draft.sale_price),
        unit=draft.unit,
        stock=draft.stock,
        limit=draft.limit,
        starts=when_text(ctx.app, draft.starts_at, ctx.tr),
        ends=when_text(ctx.app, draft.ends_at, ctx.tr),
        ways=ways,
    )
    if ctx.data.get("photo"):
        text += "\n" + ctx.t("orders.photo_kept")
    else:
        text += "\n" + ctx.t("orders.photo_may")
    return [Reply(text, choices=((Choice(ctx.t("orders.publish"), "yes"),), stop_row(ctx, CLOSE)))]


def _publish(tx: Tx, ctx: Ctx, now: datetime) -> Doc:
    """Check the right and the draft again in the deciding transaction, then store it."""
    vendor = vendors.require_staff(tx, ctx.app, ctx.person, ctx.data["vendor"])
    draft = draft_of(tx, ctx)
    if listings.problems(draft, vendor):
        raise orders.NotChangeable()
    return listings.create(tx, draft, me(ctx)["id"], now)


async def got_new_confirm(ctx: Ctx) -> Turn:
    """A photo is kept (through the media port); "publish" stores the listing, live at its start."""
    if ctx.incoming.kind is Kind.PHOTO:
        if not ctx.incoming.file_ref.startswith("media:"):
            raise Unexpected("orders.send_photo")
        ctx.data["photo"] = ctx.incoming.file_ref
        return go("newlisting.confirm")
    if ctx.press != "yes":
        raise Unexpected()
    await ctx.atomic(_publish, ctx, ctx.app.clock.now())
    ctx.data = {}
    return end(Reply(ctx.t("orders.published")))


NEW_LISTING = Flow(
    name="newlisting",
    start=new_start,
    commands=("newlisting",),
    roles=STAFF_ROLES,
    help_key="orders.help_newlisting",
    keywords_key="keywords.newlisting",
    states={
        "newlisting.vendor": State(ask_which, stoppable(got_which)),
        "newlisting.title": State(ask_title, stoppable(got_title)),
        "newlisting.unit": State(ask_unit, stoppable(got_unit)),
        "newlisting.price": State(ask_price, stoppable(got_price)),
        "newlisting.sale_price": State(ask_sale_price, stoppable(got_sale_price)),
        "newlisting.stock": State(ask_stock, stoppable(got_stock)),
        "newlisting.limit": State(ask_limit, stoppable(got_limit)),
        "newlisting.window": State(ask_window, stoppable(got_window)),
        "newlisting.delivery": State(ask_delivery, stoppable(got_delivery)),
        "newlisting.confirm": State(ask_new_confirm, stoppable(got_new_confirm)),
    },
)


# -- /onstream ------------------------------------------------------------------------------------


async def stream_start(ctx: Ctx) -> Turn:
    """The livestream host pushes an item to subscribers during the broadcast."""
    return await _enter(ctx, "onstream.pick")


async def ask_stream(ctx: Ctx) -> list[Reply]:
    """Which item is on stream now."""
    now = ctx.app.clock.now()
    found = [
        x for x in await ctx.view(listings.of_vendor, ctx.data["vendor"], now) if x.on_sale(now)
    ]
    buttons = [
        Choice(x.title(ctx.tr.is_chinese), ListingStep(ListingVerb.ON_STREAM, x.id).encode())
        for x in found
    ]
    text = ctx.t("orders.ask_on_stream" if found else "orders.vendor_no_listings")
    return [Reply(text, choices=rows(*buttons, width=1) + (stop_row(ctx, CLOSE),))]


async def got_stream(ctx: Ctx) -> Turn:
    """Only the item buttons (actions) and stop lead on."""
    raise Unexpected()


ON_STREAM = Flow(
    name="onstream",
    start=stream_start,
    commands=("onstream",),
    roles=STAFF_ROLES,
    help_key="orders.help_onstream",
    keywords_key="keywords.onstream",
    states={"onstream.pick": State(ask_stream, stoppable(got_stream))},
)
