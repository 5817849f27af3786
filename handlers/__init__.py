"""The conversation flows, wired into one engine by an explicit table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.conversation.engine import Engine
from assistant.conversation.flow import Action, Flow
from handlers import care, groups, onboarding, profile, voice, volunteer

if TYPE_CHECKING:
    from assistant.bootstrap import App

FLOWS: tuple[Flow, ...] = (
    onboarding.FLOW,
    *care.FLOWS,
    *volunteer.FLOWS,
    profile.PROFILE,
    profile.FORGET,
    profile.FAMILY,
)

ACTIONS: dict[str, Action] = {
    **profile.ACTIONS,
    **care.ACTIONS,
    **volunteer.ACTIONS,
    **voice.ACTIONS,
    **groups.ACTIONS,
}


def build_engine(app: App) -> Engine:
    """The engine with every flow and action of the product."""
    return Engine(app, FLOWS, ACTIONS, onboarding=onboarding.FLOW.name)
