"""The conversation flows, wired into one engine by an explicit table."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from assistant.conversation.engine import Engine
from assistant.conversation.flow import Action, Flow, Topic
from handlers import (
    activities,
    care,
    groups,
    linking,
    notices,
    onboarding,
    orders,
    profile,
    voice,
    volunteer,
)
from handlers import reports as report_flows

if TYPE_CHECKING:
    from assistant.app import App

KEYWORDS: dict[str, str] = {
    "care": "keywords.care",
    "mine": "keywords.mine",
    "phonebook": "keywords.phonebook",
    "volunteer": "keywords.volunteer",
    "duty": "keywords.duty",
    "tasks": "keywords.tasks",
}
"""Keywords of flows (by name) whose modules do not declare ``keywords_key`` themselves yet."""


def _with_keywords(flow: Flow) -> Flow:
    key = KEYWORDS.get(flow.name, "")
    return replace(flow, keywords_key=key) if key and not flow.keywords_key else flow


FLOWS: tuple[Flow, ...] = tuple(
    _with_keywords(flow)
    for flow in (
        onboarding.FLOW,
        *care.FLOWS,
        *report_flows.FLOWS,
        *volunteer.FLOWS,
        profile.PROFILE,
        profile.FORGET,
        profile.FAMILY,
        *linking.FLOWS,
        *notices.FLOWS,
        *activities.FLOWS,
        *orders.FLOWS,
    )
)

TOPICS: tuple[Topic, ...] = ()
"""Things people ask for in words that have no flow yet: a kind answer and the menu.

When the produce or report flow comes, it declares the same ``keywords_key``
and its topic leaves this table.
"""

ACTIONS: dict[str, Action] = {
    **profile.ACTIONS,
    **care.ACTIONS,
    **report_flows.ACTIONS,
    **volunteer.ACTIONS,
    **voice.ACTIONS,
    **groups.ACTIONS,
    **notices.ACTIONS,
    **activities.ACTIONS,
    **orders.ACTIONS,
    **linking.ACTIONS,
}


def build_engine(app: App) -> Engine:
    """The engine with every flow and action of the product."""
    return Engine(app, FLOWS, ACTIONS, onboarding=onboarding.FLOW.name, topics=TOPICS)
