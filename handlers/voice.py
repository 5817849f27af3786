"""A voice note → forwarded to the person's grid coordinator(s) → "a staff member will listen".

Many elderly residents would rather speak than type. The engine routes every
voice note to the ``voice`` action; the note's file reference travels in
``Outbound.meta["voice"]`` and each channel plays it its own way. Any flow in
progress stays where it was.
"""

from __future__ import annotations

from assistant.conversation.flow import Action, Ctx, Turn, end
from assistant.conversation.vocabulary import Outbound, Reply, parse_address
from assistant.i18n import translator
from assistant.services import people
from assistant.services.people import community
from assistant.store.base import Doc, Tx


def _recipients(tx: Tx, person: Doc) -> tuple[str, list[tuple[str, str]]]:
    """The person's grid name and (address, language) of each of its coordinators."""
    grid = community.grid_name(tx, person.get("grid_id"))
    out = []
    for coordinator in people.coordinators_for(tx, person.get("grid_id")):
        if coordinator.get("id") == person.get("id"):
            continue
        language = str(coordinator.get("language", "zh_CN"))
        out += [(address, language) for address in people.reachable_addresses(tx, coordinator)]
    return grid, out


async def forward_voice(ctx: Ctx, parts: list[str]) -> Turn:
    """Pass the voice note to the coordinators and thank the sender."""
    file_ref = ctx.incoming.file_ref
    if ctx.person is None or not file_ref:
        return end(Reply(ctx.t("tg.voice_register_first")))
    grid, recipients = await ctx.view(_recipients, ctx.person)
    name = ctx.person.get("name", "")
    for address, language in recipients:
        tr = translator(language)
        text = tr.t("tg.voice_to_coordinator", name=name, grid=grid or "-")
        ctx.tell(
            Outbound(
                to=parse_address(address),
                reply=Reply(text),
                language=tr.language,
                meta={"voice": file_ref, "important": "1"},
            )
        )
    return end(Reply(ctx.t("tg.voice_thanks")))


ACTIONS: dict[str, Action] = {"voice": forward_voice}
