"""What the care context registers from the composition root: its jobs and its task kind.

    care.follow_up   the next-day "how are you?" (see :mod:`~assistant.services.care.followups`)
    care.expire      a finished booking leaves the hot file a week on

``TASK_KIND`` is the "care visit" (``kind="care"``) that care opens with
dispatch; its listener is :func:`~assistant.services.care.events.heard`.
"""

from __future__ import annotations

from assistant.jobs.table import JobSpec
from assistant.services.care import followups
from assistant.services.care.booking import KIND
from assistant.services.care.events import heard
from assistant.services.dispatch.kinds import TaskKind

JOBS: dict[str, JobSpec] = {
    "care.follow_up": JobSpec(followups.follow_up_job, max_retries=5, in_unit=True),
    "care.expire": JobSpec(followups.expire_job, max_retries=5, in_unit=True),
}

TASK_KIND = TaskKind(name=KIND, title_zh="上门照料", title_en="Care visit", listener=heard)
