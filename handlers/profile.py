"""/me → show profile → change name / language / home, see what is kept, or forget me.

/forget → confirm → personal data deleted. /family → relative's name → how
related → a coordinator accepts or declines in chat.
"""

from __future__ import annotations

from assistant.conversation.buttons import ProxyDecision
from assistant.conversation.flow import (
    Action,
    Ctx,
    Flow,
    Refused,
    State,
    Turn,
    Unexpected,
    end,
    go,
)
from assistant.conversation.vocabulary import Address, Choice, Outbound, Reply, rows
from assistant.i18n import translator
from assistant.services import people
from assistant.services.people import community, privacy
from assistant.store.base import Doc, Tx
from handlers import linking

MAX_NAME = 30


def _join(ctx: Ctx, items: list[str]) -> str:
    """A list as the person's language writes it: 甲、乙 or "a, b"."""
    return ("、" if ctx.tr.is_chinese else ", ").join(items)


def _profile_text(ctx: Ctx, person: Doc, grid: str) -> str:
    household = community.describe_household(person.get("household"), ctx.tr.is_chinese)
    roles = _join(ctx, [ctx.t(f"role.{r}") for r in people.roles_of(ctx.app, person)])
    return ctx.t(
        "profile.show",
        name=person.get("name", ""),
        home=household or ctx.t("profile.no_home"),
        grid=grid or ctx.t("profile.no_grid"),
        roles=roles,
        language="中文" if ctx.tr.is_chinese else "English",
    )


async def start(ctx: Ctx) -> Turn:
    """Show the profile and what can be changed."""
    return go("profile.menu")


async def ask_menu(ctx: Ctx) -> list[Reply]:
    """Show the profile with buttons for each change."""
    person = ctx.person or {}
    grid = await ctx.view(community.grid_name, person.get("grid_id"))
    chats, unlinks = await linking.me_part(ctx)
    return [
        Reply(
            "\n".join(filter(None, (_profile_text(ctx, person, grid), chats))),
            choices=rows(
                Choice(ctx.t("profile.change_name"), "name"),
                Choice(ctx.t("profile.change_language"), "language"),
                Choice(ctx.t("profile.change_home"), "home"),
                Choice(ctx.t("profile.see_data"), "data"),
                Choice(ctx.t("activity.birth_year_button"), "birth_year"),
                Choice(ctx.t("profile.anonymous"), "anonymous"),
                Choice(ctx.t("profile.alone"), "alone"),
                Choice(ctx.t("profile.forget"), "forget"),
                Choice(ctx.t("profile.close"), "close"),
                width=2,
            )
            + rows(*unlinks, width=1),
        )
    ]


async def got_menu(ctx: Ctx) -> Turn:
    """Go to the chosen change."""
    choice = ctx.press
    if choice == "close":
        return end(Reply(ctx.t("profile.closed")))
    if choice == "name":
        return go("profile.name")
    if choice == "language":
        return go("profile.language")
    if choice == "home":
        ctx.data["editing_home"] = True
        return go("onboard.complex")
    if choice == "forget":
        return go("profile.forget")
    if choice == "alone":
        return go("profile.alone")
    if choice == "anonymous":  # the reporter's choice of /anonymous, from the profile too
        ctx.data = {"by": _pid(ctx)}
        return go("reports.anonymous")
    if choice == "birth_year":  # kept for activities for elders over an age
        return go("activities.birth_year")
    if choice == "data":
        kept = await ctx.view(privacy.what_we_keep, ctx.app, ctx.person or {}, ctx.tr)
        return go("profile.menu", *kept)
    raise Unexpected()


async def ask_alone(ctx: Ctx) -> list[Reply]:
    """Whether the person lives alone (for the wellbeing rounds of /wellbeing)."""
    now = ctx.t(
        "profile.alone_yes_now" if (ctx.person or {}).get("lives_alone") else "profile.alone_no_now"
    )
    return [
        Reply(
            ctx.t("profile.ask_alone", now=now),
            choices=(
                (
                    Choice(ctx.t("profile.alone_yes"), "yes"),
                    Choice(ctx.t("profile.alone_no"), "no"),
                ),
            ),
        )
    ]


async def got_alone(ctx: Ctx) -> Turn:
    """Keep the answer; back to the profile."""
    if ctx.press not in ("yes", "no"):
        raise Unexpected()
    alone = ctx.press == "yes"
    ctx.person = await ctx.run(people.update, ctx.app.store, _pid(ctx), lives_alone=alone)
    return go("profile.menu", Reply(ctx.t("profile.alone_saved_yes" if alone else "profile.saved")))


async def ask_name(ctx: Ctx) -> list[Reply]:
    """Ask for the new name."""
    return [Reply(ctx.t("onboard.ask_name"))]


async def got_name(ctx: Ctx) -> Turn:
    """Save the new name."""
    name = " ".join(ctx.text.split())
    if len(name) > MAX_NAME:
        raise Unexpected("onboard.name_too_long", limit=MAX_NAME)
    ctx.person = await ctx.run(people.update, ctx.app.store, _pid(ctx), name=name)
    return go("profile.menu", Reply(ctx.t("profile.saved")))


async def ask_language(ctx: Ctx) -> list[Reply]:
    """Offer the two languages."""
    return [
        Reply(
            ctx.t("onboard.ask_language"),
            choices=((Choice("中文", "zh_CN"), Choice("English", "en")),),
        )
    ]


async def got_language(ctx: Ctx) -> Turn:
    """Save the language."""
    if ctx.press not in ("zh_CN", "en"):
        raise Unexpected()
    ctx.language = ctx.press
    ctx.person = await ctx.run(people.update, ctx.app.store, _pid(ctx), language=ctx.press)
    return go("profile.menu", Reply(ctx.t("profile.saved")))


async def forget_command(ctx: Ctx) -> Turn:
    """/forget goes straight to the confirmation."""
    return go("profile.forget")


async def ask_forget(ctx: Ctx) -> list[Reply]:
    """Explain what forgetting does and ask to confirm."""
    return [
        Reply(
            ctx.t("profile.forget_explain"),
            choices=(
                (
                    Choice(ctx.t("profile.forget_yes"), "yes"),
                    Choice(ctx.t("profile.forget_no"), "no"),
                ),
            ),
        )
    ]


async def got_forget(ctx: Ctx) -> Turn:
    """Forget the person, or keep everything."""
    if ctx.press == "no":
        return end(Reply(ctx.t("profile.forget_kept")))
    if ctx.press != "yes":
        raise Unexpected()
    await ctx.run(privacy.forget, ctx.app, _pid(ctx))
    ctx.person = None
    ctx.data = {}
    ctx.erase = True
    return end(Reply(ctx.t("profile.forgotten")))


def _pid(ctx: Ctx) -> str:
    if ctx.person is None:
        raise Refused()
    return str(ctx.person["id"])


# -- family helper (proxy) ---------------------------------------------------------


async def family_start(ctx: Ctx) -> Turn:
    """Show linked relatives and ask for a new one."""
    relatives = await ctx.view(people.relatives_of, _pid(ctx))
    names = _join(ctx, [r["name"] for r in relatives]) or ctx.t("family.none")
    return go("family.name", Reply(ctx.t("family.current", names=names)))


async def ask_family_name(ctx: Ctx) -> list[Reply]:
    """Ask for the relative's name."""
    return [Reply(ctx.t("family.ask_name"))]


async def got_family_name(ctx: Ctx) -> Turn:
    """Record the relative's name; ask how they are related."""
    name = " ".join(ctx.text.split())
    if len(name) > MAX_NAME:
        raise Unexpected("onboard.name_too_long", limit=MAX_NAME)
    ctx.data["relative"] = name
    return go("family.relation")


async def ask_relation(ctx: Ctx) -> list[Reply]:
    """Ask how they are related."""
    labels = ("mother", "father", "grandparent", "spouse", "other")
    return [
        Reply(
            ctx.t("family.ask_relation"),
            choices=rows(*(Choice(ctx.t(f"family.rel_{k}"), k) for k in labels), width=3),
        )
    ]


async def got_relation(ctx: Ctx) -> Turn:
    """File the request and tell the coordinators."""
    relation = ctx.press
    if relation not in ("mother", "father", "grandparent", "spouse", "other"):
        raise Unexpected()
    person = ctx.person or {}
    link, coordinators = await ctx.atomic(
        _file_request, str(person.get("id")), ctx.data["relative"], relation, ctx
    )
    for coordinator, addresses in coordinators:
        for address in addresses:
            ctx.tell(_proxy_notice(coordinator, address, person, link))
    return end(Reply(ctx.t("family.sent")))


def _file_request(
    tx: Tx, helper_id: str, relative: str, relation: str, ctx: Ctx
) -> tuple[Doc, list[tuple[Doc, list[str]]]]:
    link = people.request_proxy(tx, helper_id, relative, relation, people.now_iso(ctx.app))
    helper = tx.require(people.PEOPLE, helper_id)
    coordinators = people.coordinators_for(tx, helper.get("grid_id"))
    return link, [(c, people.reachable_addresses(tx, c)) for c in coordinators]


def _proxy_notice(coordinator: Doc, address: str, helper: Doc, link: Doc) -> Outbound:
    tr = translator(coordinator.get("language", "zh_CN"))
    return Outbound(
        to=address,  # type: ignore[arg-type]
        language=tr.language,
        reply=Reply(
            tr.t(
                "family.coordinator_ask",
                helper=helper.get("name", ""),
                relative=link["relative_name"],
                relation=tr.t(f"family.rel_{link['note']}"),
            ),
            choices=(
                (
                    Choice(tr.t("family.approve"), ProxyDecision(True, link["id"]).encode()),
                    Choice(tr.t("family.refuse"), ProxyDecision(False, link["id"]).encode()),
                ),
            ),
        ),
    )


async def decide_proxy(ctx: Ctx, parts: list[str]) -> Turn:
    """A coordinator's press on a proxy request; checked again on the server.

    A press its codec cannot read is refused (as it always was), not "expired".
    """
    button = ProxyDecision.parse(parts)
    if button is None:
        raise Refused()
    if not people.has_role(ctx.app, ctx.person, people.COORDINATOR):
        return end(Reply(ctx.t("core.button_expired")))
    approve = button.approve

    def decide(tx: Tx) -> tuple[Doc, Doc | None, bool, list[str]]:
        before = tx.get(people.PROXIES, button.link_id)
        if before is None:
            return {}, None, False, []
        was_pending = before["status"] == "pending"
        link = people.decide_proxy(tx, button.link_id, approve, str((ctx.person or {}).get("id")))
        helper = tx.get(people.PEOPLE, link["helper_id"])
        return link, helper, was_pending, people.reachable_addresses(tx, helper) if helper else []

    link, helper, changed, addresses = await ctx.atomic(decide)
    if not changed or helper is None:
        return end(Reply(ctx.t("core.button_expired")))
    tr = translator(helper.get("language", "zh_CN"))
    key = "family.approved" if approve else "family.declined"
    for address in addresses:
        ctx.tell(
            Outbound(
                to=Address(address),
                language=tr.language,
                reply=Reply(tr.t(key, relative=link["relative_name"])),
            )
        )
    return end(Reply(ctx.t("family.decided")))


PROFILE = Flow(
    name="profile",
    start=start,
    commands=("me",),
    menu_key="menu.profile",
    help_key="help.profile",
    keywords_key="keywords.profile",
    states={
        "profile.menu": State(ask_menu, got_menu),
        "profile.name": State(ask_name, got_name),
        "profile.language": State(ask_language, got_language),
        "profile.forget": State(ask_forget, got_forget),
        "profile.alone": State(ask_alone, got_alone),
    },
)

FORGET = Flow(
    name="forget",
    start=forget_command,
    commands=("forget",),
    help_key="help.forget",
    keywords_key="keywords.forget",
    states={},
)

FAMILY = Flow(
    name="family",
    start=family_start,
    commands=("family",),
    menu_key="menu.family",
    help_key="help.family",
    keywords_key="keywords.family",
    states={
        "family.name": State(ask_family_name, got_family_name),
        "family.relation": State(ask_relation, got_relation),
    },
)

ACTIONS: dict[str, Action] = {ProxyDecision.ACTION: decide_proxy}
