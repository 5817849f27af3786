"""The people context: residents, households, micro-grids, volunteers, roles, invitations.

Other contexts use what this face exports (``people.person_at``,
``people.coordinators_for`` …) and the modules beside it by name:
``community`` (complexes, buildings, grids and their groups), ``volunteers``
(applications, duty, candidates), ``invitations``, ``imports`` (CSV files)
and ``privacy`` (what is kept about a person, and forgetting them).
"""

from __future__ import annotations

from assistant.services.people.persons import (
    ADDRESSES,
    ADMIN,
    COORDINATOR,
    FORGOTTEN_NAME,
    PEOPLE,
    PROXIES,
    RESIDENT,
    ROLES,
    VOLUNTEER,
    coordinators_for,
    create_person,
    decide_proxy,
    grant,
    has_role,
    link_address,
    now_iso,
    person_at,
    reachable_addresses,
    relatives_of,
    request_proxy,
    revoke,
    roles_of,
    set_language,
    set_reachable,
    update,
)

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
]
