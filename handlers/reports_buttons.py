"""``a:rpt:<verb>:<case>[:<arg>…]`` → the case's change, checked on the server inside it.

The patrol volunteer's outcome, a follower's "is it resolved now?", and the
coordinators' dispatch / dismiss / dispatch again / close / unreliable.
A refused change (not theirs, a closed case) is answered by the engine.
"""

from __future__ import annotations

from assistant.conversation.buttons import ReportButton, ReportVerb
from assistant.conversation.flow import Ctx, Turn, end, pressed
from assistant.conversation.vocabulary import Reply
from assistant.domain.numbers import is_digits
from assistant.services import reports
from handlers.reports_common import me

ANSWERS = {
    "closed": "reports.check_thanks_yes",
    "reopened": "reports.check_thanks_no",
    "coordinator": "reports.check_thanks_coordinator",
    "noted": "reports.check_noted",
}


async def on_report_button(ctx: Ctx, button: ReportButton) -> Turn:
    """Every reports button; each verb re-checks the presser in its own transaction."""
    if ctx.person is None:
        return end(Reply(ctx.t("core.button_expired")))
    now = ctx.app.clock.now()
    person = me(ctx)
    verb = button.verb
    if verb is ReportVerb.OUTCOME:
        await ctx.atomic(
            reports.record_outcome, ctx.app, button.case_id, person["id"], button.args[0], now
        )
        return end(Reply(ctx.t("reports.outcome_thanks")))
    if verb is ReportVerb.CHECK:
        if not is_digits(button.args[0]):
            return end(Reply(ctx.t("core.button_expired")))
        said = await ctx.atomic(
            reports.answer,
            ctx.app,
            button.case_id,
            person["id"],
            int(button.args[0]),
            button.args[1],
            now,
        )
        return end(Reply(ctx.t(ANSWERS[said])))
    if verb is ReportVerb.UNRELIABLE:
        if not is_digits(button.args[0]):
            return end(Reply(ctx.t("core.button_expired")))
        await ctx.atomic(
            reports.mark_unreliable, ctx.app, button.case_id, int(button.args[0]), person
        )
        return end(Reply(ctx.t("reports.marked_unreliable")))
    change, key = {
        ReportVerb.RELEASE: (reports.release, "reports.released"),
        ReportVerb.AGAIN: (reports.release, "reports.released"),
        ReportVerb.DISMISS: (reports.dismiss, "reports.dismissed_ok"),
        ReportVerb.CLOSE: (reports.close, "reports.closed_ok"),
    }[verb]
    case = await ctx.atomic(change, ctx.app, button.case_id, person, now)
    return end(Reply(ctx.t(key, number=case["number"])))


ACTION = pressed(ReportButton.parse, on_report_button)
"""The ``rpt`` action: every reports button, read by :meth:`ReportButton.parse`."""
