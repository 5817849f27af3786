"""/link → a one-time code here → typed on the other network → one person on both.

/link with a code (``/link 123456``, ``!link 123456`` on Matrix) links this chat to
the person who was shown the code; /link from a chat where nobody is registered
yet asks for the code, and the code alone is then enough. /unlink (and the
buttons under /me) takes one chat away again. Every decision is made by
:mod:`assistant.services.people.linking` inside the unit of work.
"""

from __future__ import annotations

from assistant.conversation.buttons import Unlink
from assistant.conversation.flow import Action, Ctx, Flow, State, Turn, end, go, pressed
from assistant.conversation.vocabulary import Choice, Reply, rows
from assistant.services import people
from assistant.services.people import linking
from assistant.store.base import Tx


async def start(ctx: Ctx) -> Turn:
    """A code after the command is typed now; else show a code, or ask for one."""
    if ctx.incoming.args:
        return await _redeem(ctx, ctx.incoming.args)
    if ctx.person is None:
        return go("linking.code")
    issued = await ctx.atomic(linking.issue_code, ctx.app, ctx.sender, ctx.app.clock.now())
    minutes = int(float(ctx.app.settings.get("linking", "code_minutes")))
    return end(Reply(ctx.t("linking.your_code", code=issued.code, minutes=minutes)))


async def ask_code(ctx: Ctx) -> list[Reply]:
    """Ask for the code shown on the other chat."""
    digits = int(ctx.app.settings.get("linking", "code_digits"))
    return [Reply(ctx.t("linking.ask_code", digits=digits))]


async def got_code(ctx: Ctx) -> Turn:
    """Read the typed code."""
    return await _redeem(ctx, ctx.text)


async def _redeem(ctx: Ctx, typed: str) -> Turn:
    """Link this chat with the code, or say kindly why not (a wrong code may be typed again)."""
    done = await ctx.atomic(linking.redeem, ctx.app, ctx.sender, typed, ctx.app.clock.now())
    outcome = done.outcome
    if outcome is linking.Outcome.LINKED:
        ctx.person = done.person
        if done.person and done.person.get("language"):
            ctx.language = str(done.person["language"])
        name = (done.person or {}).get("name", "")
        return end(Reply(ctx.t("linking.linked", name=name)), ctx.menu())
    if outcome is linking.Outcome.WRONG:
        return go("linking.code", Reply(ctx.t("linking.wrong", left=done.left)))
    if outcome is linking.Outcome.MALFORMED:
        digits = int(ctx.app.settings.get("linking", "code_digits"))
        return go("linking.code", Reply(ctx.t("linking.malformed", digits=digits)))
    if outcome is linking.Outcome.LOCKED:
        until = linking.local_time(ctx.app, done.until) if done.until else ""
        return end(Reply(ctx.t("linking.locked", until=until)))
    if outcome is linking.Outcome.EXPIRED:
        return end(Reply(ctx.t("linking.expired")))
    if outcome is linking.Outcome.SAME:
        return end(Reply(ctx.t("linking.same")))
    return end(Reply(ctx.t("linking.taken")))


# -- unlinking ------------------------------------------------------------------------------


def unlink_buttons(ctx: Ctx, chats: list[linking.LinkedChat]) -> list[Choice]:
    """One "unlink" button per address, when there is more than one."""
    if len(chats) < 2:
        return []
    return [
        Choice(ctx.t("linking.unlink_button", chat=chat.masked), Unlink(chat.token).encode())
        for chat in chats
    ]


def chats_text(ctx: Ctx, chats: list[linking.LinkedChat]) -> str:
    """The linked chats as one line each, the one in use marked."""
    lines = [
        ctx.t("linking.chat_current" if chat.current else "linking.chat", chat=chat.masked)
        for chat in chats
    ]
    return ctx.t("linking.chats", chats="\n".join(lines))


async def me_part(ctx: Ctx) -> tuple[str, list[Choice]]:
    """What ``/me`` adds: the linked chats, and a button to unlink each."""
    if ctx.person is None:
        return "", []
    chats = await ctx.view(_chats, ctx)
    return chats_text(ctx, chats), unlink_buttons(ctx, chats)


def _chats(tx: Tx, ctx: Ctx) -> list[linking.LinkedChat]:
    person = tx.get(people.PEOPLE, str((ctx.person or {}).get("id", "")))
    return linking.linked_chats(tx, ctx.tr, person) if person else []


async def unlink_start(ctx: Ctx) -> Turn:
    """/unlink: the chats, each with its button (or: there is only this one)."""
    text, buttons = await me_part(ctx)
    if not buttons:
        return end(Reply(ctx.t("linking.only_one")))
    return end(Reply(f"{text}\n{ctx.t('linking.unlink_ask')}", choices=rows(*buttons, width=1)))


async def unlink_pressed(ctx: Ctx, button: Unlink) -> Turn:
    """Unlink the chosen chat (checked again on the server); this chat may be the one."""
    removed = await ctx.atomic(
        linking.unlink, ctx.app, ctx.sender, button.token, ctx.app.clock.now()
    )
    words = Reply(ctx.t("linking.unlinked", chat=linking.mask(ctx.tr, removed)))
    if removed == ctx.sender:
        ctx.person = None
        ctx.data = {}
        ctx.erase = True
    return end(words)


FLOW = Flow(
    name="link",
    start=start,
    commands=("link",),
    needs_profile=False,
    help_key="linking.help",
    keywords_key="keywords.link",
    states={"linking.code": State(ask_code, got_code)},
)

UNLINK = Flow(
    name="unlink",
    start=unlink_start,
    commands=("unlink",),
    help_key="linking.help_unlink",
    keywords_key="keywords.unlink",
    states={},
)

FLOWS = (FLOW, UNLINK)

ACTIONS: dict[str, Action] = {Unlink.ACTION: pressed(Unlink.parse, unlink_pressed)}
