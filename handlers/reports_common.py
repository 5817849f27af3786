"""Helpers shared by the reports flows: the person, "stop" on every question, "skip"."""

from __future__ import annotations

from assistant.conversation.flow import Ctx, Refused, stop_on
from assistant.conversation.vocabulary import Choice
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


stoppable = stop_on(STOP)
"""Let the "stop" button end the form from any question."""
