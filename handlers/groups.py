"""/linkgrid <grid id> in a group → a coordinator makes it the neighbours' group of a grid.

Also ``/start link-<grid id>`` in a group, which is what the deep link
``https://t.me/<bot>?startgroup=link-<grid id>`` sends when a coordinator adds
the bot to a group with it. Only a coordinator or an administrator may link;
replies in the group name the grid and never anyone's personal data.
"""

from __future__ import annotations

from assistant.conversation.flow import Action, Ctx, Turn, end
from assistant.conversation.vocabulary import Reply
from assistant.services import people
from assistant.services.people import community
from assistant.store.base import Tx

LINK_PAYLOAD = "link-"
MAX_GRID_ID = 40


def _grid_list(tx: Tx) -> str:
    """Every grid as ``id name``, one a line."""
    return "\n".join(f"{grid['id']}  {grid.get('name', '')}" for grid in tx.all(community.GRIDS))


def _link(tx: Tx, grid_id: str, chat: str) -> str | None:
    """Link the group; return the grid's name, or None if there is no such grid."""
    grid = tx.get(community.GRIDS, grid_id)
    if grid is None:
        return None
    community.link_group(tx, grid_id, chat)
    return str(grid.get("name", grid_id))


async def linkgrid(ctx: Ctx, parts: list[str]) -> Turn:
    """Link this group to the grid named in the command (coordinators only)."""
    if not ctx.incoming.is_group or ctx.incoming.chat is None:
        return end(Reply(ctx.t("tg.group_only_in_group")))
    if not people.has_role(ctx.app, ctx.person, people.COORDINATOR):
        return end(Reply(ctx.t("tg.group_not_coordinator")))
    if not parts:
        return end(Reply(ctx.t("tg.group_usage", grids=await ctx.view(_grid_list))))
    grid_id = parts[0][:MAX_GRID_ID]
    name = await ctx.atomic(_link, grid_id, ctx.incoming.chat)
    if name is None:
        return end(Reply(ctx.t("tg.group_unknown_grid", grid_id=grid_id)))
    return end(Reply(ctx.t("tg.group_linked", grid=name)))


async def group_start(ctx: Ctx, parts: list[str]) -> Turn:
    """``/start`` in a group: link it when the deep link says so, else greet."""
    if parts and parts[0].startswith(LINK_PAYLOAD):
        return await linkgrid(ctx, [parts[0][len(LINK_PAYLOAD) :]])
    return end(Reply(ctx.t("core.group_help")))


ACTIONS: dict[str, Action] = {"group_linkgrid": linkgrid, "group_start": group_start}
