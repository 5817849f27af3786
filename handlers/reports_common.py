"""Helpers shared by the reports flows: the person, "stop" on every question, "skip"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from assistant.conversation.flow import Ctx, Refused, Turn, end
from assistant.conversation.vocabulary import Choice, Reply
from assistant.store.base import Doc

STOP = "reports.stop"
SKIP = "reports.skip"


def me(ctx: Ctx) -> Doc:
    """The person talking; refused when they are not known."""
    if ctx.person is None:
        raise Refused()
    return ctx.person


def stop_row(ctx: Ctx) -> tuple[Choice, ...]:
    """The "stop" button, as a row of its own."""
    return (Choice(ctx.t("reports.stop"), STOP),)


def stoppable(answer: Callable[[Ctx], Awaitable[Turn]]) -> Callable[[Ctx], Awaitable[Turn]]:
    """Let the "stop" button end the form from any question."""

    async def read(ctx: Ctx) -> Turn:
        if ctx.incoming.press == STOP:
            ctx.data = {}
            return end(Reply(ctx.t("core.cancelled")), ctx.menu())
        return await answer(ctx)

    read.__doc__ = answer.__doc__
    return read
