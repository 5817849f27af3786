"""The people context: residents, households, micro-grids, volunteers, roles, invitations.

Other contexts use what this face exports (``people.person_at``,
``people.coordinators_for`` …) and the modules beside it by name:
``community`` (complexes, buildings, grids and their groups), ``volunteers``
(applications, duty, candidates), ``invitations``, ``imports`` (CSV files)
and ``privacy`` (what is kept about a person, and forgetting them).

Channels use only this face (the architecture test says so): what a network
reports about reachability (``mark_reachable``, ``mark_blocked``,
``record_reachable``) and about group chats (``grid_of_group``, ``link_group``,
``unlink_group``) is exported here.
"""

from __future__ import annotations

from assistant.services.people.community import grid_of_group, link_group, unlink_group
from assistant.services.people.persons import (
    ADDRESSES,
    ADMIN,
    COORDINATOR,
    FORGOTTEN_NAME,
    PEOPLE,
    PIN,
    PROXIES,
    RESIDENT,
    ROLES,
    VOLUNTEER,
    coordinators_for,
    create_person,
    current_address,
    decide_proxy,
    grant,
    grant_when_registered,
    has_role,
    link_address,
    note_use,
    now_iso,
    person_at,
    preferred_address,
    reachable_addresses,
    relatives_of,
    request_proxy,
    revoke,
    roles_of,
    set_language,
    set_reachable,
    switched_to,
    update,
)
from assistant.services.people.reachability import mark_blocked, mark_reachable
from assistant.services.people.reachability import set_reachable as record_reachable

__all__ = [
    "ADDRESSES",
    "ADMIN",
    "COORDINATOR",
    "FORGOTTEN_NAME",
    "PEOPLE",
    "PROXIES",
    "RESIDENT",
    "ROLES",
    "VOLUNTEER",
    "coordinators_for",
    "create_person",
    "decide_proxy",
    "grant",
    "grant_when_registered",
    "has_role",
    "link_address",
    "now_iso",
    "person_at",
    "reachable_addresses",
    "relatives_of",
    "request_proxy",
    "revoke",
    "roles_of",
    "set_language",
    "set_reachable",
    "update",
    "grid_of_group",
    "link_group",
    "unlink_group",
    "mark_blocked",
    "mark_reachable",
    "record_reachable",
    "PIN",
    "current_address",
    "note_use",
    "preferred_address",
    "switched_to",
]
