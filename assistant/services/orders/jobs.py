"""What the orders context registers from the composition root: its jobs and its task kind.

    orders.lapse         a hold not confirmed in time gives its units back, once
    orders.offer         units came back (cancelled, added): the waiting list is offered them
    orders.go_live       a sale window opens: subscribers told, group lists begun
    orders.sale_end      a sale ends: the waiting list closes, the group lists say so
    orders.list_edit     one coalesced edit of a neighbours' group list
    orders.dispatch_run  a gathered community delivery run goes to dispatch
    orders.follow_up     the next day: "how were the goods?"
    orders.digest        open complaints of the supervision line, to the coordinators

``TASK_KIND`` is the "delivery run" (``kind="delivery_run"``) that orders opens
with dispatch; its listener is :func:`~assistant.services.orders.runs.heard`.
Every job runs inside the unit of work that marks its timer done, and checks
what it already did first, so running one twice changes nothing.
"""

from __future__ import annotations

from assistant.jobs.table import JobSpec
from assistant.services.dispatch.kinds import TaskKind
from assistant.services.orders import announce, listings, ordering, runs, stock, supervision
from assistant.services.orders.gathering import DISPATCH_RUN_JOB
from assistant.services.orders.records import RUN_KIND

JOBS: dict[str, JobSpec] = {
    stock.LAPSE_JOB: JobSpec(stock.lapse_job, max_retries=8, in_unit=True),
    stock.OFFER_JOB: JobSpec(stock.offer_job, max_retries=8, in_unit=True),
    listings.GO_LIVE_JOB: JobSpec(announce.go_live_job, max_retries=5, in_unit=True),
    listings.SALE_END_JOB: JobSpec(listings.sale_end_job, max_retries=5, in_unit=True),
    announce.LIST_EDIT_JOB: JobSpec(announce.list_edit_job, max_retries=5, in_unit=True),
    DISPATCH_RUN_JOB: JobSpec(runs.dispatch_run_job, max_retries=5, in_unit=True),
    ordering.FOLLOW_UP_JOB: JobSpec(ordering.follow_up_job, max_retries=5, in_unit=True),
    supervision.DIGEST_JOB: JobSpec(supervision.digest_job, max_retries=5, in_unit=True),
}

TASK_KIND = TaskKind(
    name=RUN_KIND, title_zh="社区兜底配送", title_en="Community delivery run", listener=runs.heard
)
