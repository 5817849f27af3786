"""What a finished timer keeps of its arguments, for the jobs whose arguments are personal.

A job's spec names its ``audit`` (see :class:`assistant.jobs.table.JobSpec`).
The outbox's lives here rather than in :mod:`assistant.jobs.outbox`, because
:mod:`assistant.jobs.timers` needs it too — a timer cancelled outside any job
has no job table at hand — and the outbox imports the timers: so neither
imports the other back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

OUTBOX_JOB = "outbox.deliver"


def message(args: list[Any]) -> list[Any]:
    """What a sent or cancelled message keeps: recipient, language, template, key; no body."""
    kept = []
    for payload in args:
        data = payload if isinstance(payload, dict) else {}
        kept.append({name: data.get(name, "") for name in ("to", "language", "template", "key")})
    return kept


CORE: dict[str, Callable[[list[Any]], list[Any]]] = {OUTBOX_JOB: message}
"""The audits of the jobs core, applied when no job table is at hand."""
