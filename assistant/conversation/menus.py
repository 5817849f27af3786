"""The menus every person can reach: the main menu by role, /help by role, the language buttons."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from assistant.conversation import buttons
from assistant.conversation.flow import Ctx, Flow
from assistant.conversation.vocabulary import Choice, Reply, rows
from assistant.services import people

if TYPE_CHECKING:
    from assistant.app import App

MENU_PREFIX = "m:"
"""A menu button's value: ``m:<flow>`` starts that flow."""


def main_menu(app: App, flows: Mapping[str, Flow], ctx: Ctx) -> Reply:
    """The main menu for this person's roles."""
    if ctx.person is None:
        return Reply(ctx.t("core.welcome_new"))
    roles = set(people.roles_of(app, ctx.person))
    buttons = [
        Choice(ctx.t(flow.menu_key), MENU_PREFIX + flow.name)
        for flow in flows.values()
        if flow.menu_key and (not flow.roles or roles & set(flow.roles))
    ]
    return Reply(
        ctx.t("core.menu", name=ctx.person.get("name", "")), choices=rows(*buttons, width=2)
    )


def help_for(app: App, flows: Mapping[str, Flow], ctx: Ctx) -> Reply:
    """What this person can do, by role."""
    roles = set(people.roles_of(app, ctx.person)) if ctx.person else set()
    lines = [ctx.t("core.help_intro")]
    for flow in flows.values():
        if not flow.help_key or (flow.roles and not roles & set(flow.roles)):
            continue
        if flow.needs_profile and ctx.person is None:
            continue
        lines.append(ctx.t(flow.help_key))
    lines.append(ctx.t("core.help_always"))
    return Reply("\n".join(lines))


def language_choice(ctx: Ctx) -> Reply:
    """Buttons to switch language at any time."""
    return Reply(
        ctx.t("core.choose_language"),
        choices=(
            (
                Choice("中文", buttons.Language("zh_CN").encode()),
                Choice("English", buttons.Language("en").encode()),
            ),
        ),
    )
