"""Reports (随手拍): people without masks, crowding and other public-order matters.

A resident reports in under a minute with buttons only — category, a location
pin or a known place, an optional photo and note — and gets a case number;
volunteers never learn who reported. A report of the same category near an
open case (``[reports] radius_m``) or at the same known place joins that case
(its reporter follows it) instead of making a new task; the decision reads
only the spatial index of open cases (:mod:`~.index`), inside the unit of
work, so several processes reporting one place at once make one case. The
case goes to the grid's patrol volunteers through dispatch as the task kind
"patrol case" and round the closed loop: reported → accepted → dispatched →
handled → verified → closed, with urgency deadlines and escalation, the
followers told the outcome and asked an hour later whether it is resolved.

The work is done in one module per concept, each importing only those above it::

    records    collections, stages, outcomes, errors, settings, case numbers
    places     known places: import, pick, the nearest to a pin
    index      the spatial index of open cases (grid cells and places)
    notify     who is told what (followers, the patrol volunteer, coordinators)
    loop       accept, dispatch, handled, reopen, close, deadlines and escalation
    events     the task kind's listener and the volunteer's outcome
    followups  "is it resolved now?" and its answers
    intake     a report comes in: rate limit, merge or a new case
    weekly     the coordinators' weekly chart (matplotlib PNG)
    cases      coordinators: /cases, held cases, unreliable reporters, CSV export
    forget     the reporter's part of /forget
    jobs       the durable jobs (``JOBS``) and the task kind (``TASK_KIND``)
    demo       the demo's places and open cases

The composition root registers ``reports.JOBS``, ``reports.TASK_KIND`` and
``reports.forget``.
"""

from __future__ import annotations

from assistant.services.reports.cases import (
    EXPORT_COLUMNS,
    close,
    coordinated_case,
    dismiss,
    export,
    grids_of,
    line,
    mark_unreliable,
    open_cases,
    release,
    reporters_words,
)
from assistant.services.reports.events import heard, outcome_buttons, record_outcome
from assistant.services.reports.followups import answer
from assistant.services.reports.forget import forget
from assistant.services.reports.intake import Draft, Filed, submit
from assistant.services.reports.jobs import JOBS, TASK_KIND
from assistant.services.reports.loop import reporter, set_anonymous
from assistant.services.reports.notify import public
from assistant.services.reports.places import (
    PlacesFileError,
    import_places,
    of_grid,
    place_name,
)
from assistant.services.reports.records import (
    CASES,
    CELLS,
    KIND,
    MAX_NOTE,
    PLACES,
    REPORTERS,
    CaseGone,
    Check,
    NoSuchPlace,
    NotAssignee,
    NotCoordinator,
    NotFollower,
    Outcome,
    ReportError,
    TooMany,
    categories,
    setting,
)
from assistant.services.reports.weekly import chart, cjk_font

__all__ = [
    "CASES",
    "CELLS",
    "EXPORT_COLUMNS",
    "JOBS",
    "KIND",
    "MAX_NOTE",
    "PLACES",
    "REPORTERS",
    "TASK_KIND",
    "CaseGone",
    "Check",
    "Draft",
    "Filed",
    "NoSuchPlace",
    "NotAssignee",
    "NotCoordinator",
    "NotFollower",
    "Outcome",
    "PlacesFileError",
    "ReportError",
    "TooMany",
    "answer",
    "categories",
    "chart",
    "cjk_font",
    "close",
    "coordinated_case",
    "dismiss",
    "export",
    "forget",
    "grids_of",
    "heard",
    "import_places",
    "line",
    "mark_unreliable",
    "of_grid",
    "open_cases",
    "outcome_buttons",
    "place_name",
    "public",
    "record_outcome",
    "release",
    "reporter",
    "reporters_words",
    "set_anonymous",
    "setting",
    "submit",
]
