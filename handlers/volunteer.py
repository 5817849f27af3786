"""/volunteer → skills → teams → home grid → weekly hours → a coordinator approves in chat.

/duty switches offers on or off; /tasks lists a volunteer's tasks, open offers
and tasks that still need someone. Buttons outside the flows are actions,
each checked again on the server: ``a:offer:accept|decline:<offer>`` (the
offer is the presser's, open, and they may still take the task),
``a:task:<step>:<task>`` (the presser's task, in a state for that step, and
"on my way" only near the start), ``a:assign:<task>:<volunteer>``
(coordinators; the task escalated and still open, the volunteer one of the
choices given and still eligible) and ``a:vol:yes|no:<person>`` (coordinators).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from assistant.conversation.buttons import (
    Assign,
    OfferAnswer,
    OfferVerb,
    StepVerb,
    TaskStep,
    VolunteerDecision,
)
from assistant.conversation.flow import Action, Ctx, Flow, State, Turn, Unexpected, end, go, pressed
from assistant.conversation.vocabulary import Choice, Reply, rows
from assistant.domain.catalogue import SKILLS
from assistant.domain.numbers import is_digits
from assistant.services import dispatch, people
from assistant.services.people import volunteers
from assistant.store.base import Doc, Tx

DONE = "done"
NO_TEAM = "none"
MAX_LISTED = 10


def _pid(ctx: Ctx) -> str:
    return str((ctx.person or {}).get("id", ""))


# -- joining ---------------------------------------------------------------------------------


async def join_start(ctx: Ctx) -> Turn:
    """Say where an application stands, or start one with the skills."""
    found = volunteers.profile(ctx.person) or {}
    status = found.get("status")
    if volunteers.is_active(ctx.person):
        duty = ctx.t("volunteer.duty_on" if found.get("on_duty", True) else "volunteer.duty_off")
        skills = volunteers.skill_names(ctx.tr, found.get("skills", []))
        name = (ctx.person or {}).get("name", "")
        return end(Reply(ctx.t("volunteer.already", name=name, skills=skills, duty=duty)))
    if status == volunteers.PENDING:
        return end(Reply(ctx.t("volunteer.pending")))
    ctx.data["skills"] = []
    ctx.data["teams"] = []
    return go("volunteer.skills", Reply(ctx.t("volunteer.intro")))


def _ticked(ctx: Ctx, label: str, on: bool) -> str:
    return ("✓ " if on else "") + label


async def ask_skills(ctx: Ctx) -> list[Reply]:
    """Offer every skill as a button that ticks on and off."""
    chosen = set(ctx.data.get("skills", []))
    buttons = [
        Choice(_ticked(ctx, ctx.t(f"volunteer.skill_{s}"), s in chosen), f"s:{s}") for s in SKILLS
    ]
    buttons.append(Choice(ctx.t("volunteer.done_choosing"), DONE))
    return [Reply(ctx.t("volunteer.ask_skills"), choices=rows(*buttons, width=2))]


async def got_skills(ctx: Ctx) -> Turn:
    """Tick or untick a skill; on "done" ask for teams."""
    press = ctx.press
    if press == DONE:
        if not ctx.data.get("skills"):
            raise Unexpected("volunteer.pick_one_skill")
        return go("volunteer.teams")
    skill = press.removeprefix("s:")
    if skill not in SKILLS:
        raise Unexpected()
    chosen = set(ctx.data.get("skills", []))
    chosen ^= {skill}
    ctx.data["skills"] = sorted(chosen)
    return go("volunteer.skills")


async def ask_teams(ctx: Ctx) -> list[Reply]:
    """Offer the volunteer teams that exist, to tick, or none."""
    names = await ctx.view(volunteers.teams)
    ctx.data["team_list"] = names
    chosen = set(ctx.data.get("teams", []))
    buttons = [
        Choice(_ticked(ctx, name, name in chosen), f"t:{index}") for index, name in enumerate(names)
    ]
    buttons.append(Choice(ctx.t("volunteer.no_team"), NO_TEAM))
    if chosen:
        buttons.append(Choice(ctx.t("volunteer.done_choosing"), DONE))
    return [Reply(ctx.t("volunteer.ask_teams"), choices=rows(*buttons, width=2))]


async def got_teams(ctx: Ctx) -> Turn:
    """Tick a team, or go on to the home grid."""
    press = ctx.press
    if press == NO_TEAM:
        ctx.data["teams"] = []
        return go("volunteer.grid")
    if press == DONE:
        return go("volunteer.grid")
    names = ctx.data.get("team_list", [])
    index = press.removeprefix("t:")
    if not is_digits(index) or int(index) >= len(names):
        raise Unexpected()
    chosen = set(ctx.data.get("teams", []))
    chosen ^= {names[int(index)]}
    ctx.data["teams"] = sorted(chosen)
    return go("volunteer.teams")


async def ask_grid(ctx: Ctx) -> list[Reply]:
    """Offer the micro-grids, the person's own first."""
    found = await ctx.view(volunteers.grids)
    own = (ctx.person or {}).get("grid_id")
    found.sort(key=lambda grid: grid[0] != own)
    buttons = [Choice(name, f"g:{grid_id}") for grid_id, name in found]
    return [Reply(ctx.t("volunteer.ask_grid"), choices=rows(*buttons, width=2))]


async def got_grid(ctx: Ctx) -> Turn:
    """Record the home grid; ask for the weekly hours."""
    grid_id = ctx.press.removeprefix("g:")
    known = {grid for grid, _ in await ctx.view(volunteers.grids)}
    if grid_id not in known:
        raise Unexpected()
    ctx.data["grid_id"] = grid_id
    return go("volunteer.hours")


async def ask_hours(ctx: Ctx) -> list[Reply]:
    """Ask how many hours a week, as buttons or a typed number."""
    buttons = [
        Choice(ctx.t("volunteer.hours_label", hours=h), f"h:{h}") for h in volunteers.HOURS_CHOICES
    ]
    return [Reply(ctx.t("volunteer.ask_hours"), choices=rows(*buttons, width=4))]


HOURS_TEXT = re.compile(
    r"(?:每周|一周|每星期)?\s*(\d{1,3})\s*(?:个?小时|个?钟头|h|hrs?|hours?)?"
    r"\s*(?:/?\s*(?:周|每周|一周|week|a week|per week|/wk))?",
    re.IGNORECASE,
)


def typed_hours(text: str) -> int | None:
    """Hours a week as people type them: ``8``, ``８``, ``8小时``, ``每周8小时``, ``8 hours``."""
    match = HOURS_TEXT.fullmatch(unicodedata.normalize("NFKC", text).strip())
    return int(match.group(1)) if match else None


async def got_hours(ctx: Ctx) -> Turn:
    """File the application; the coordinators are asked in chat."""
    incoming = ctx.incoming
    raw = incoming.press.removeprefix("h:") if incoming.press else ctx.text
    hours = typed_hours(raw)
    if hours is None or not 1 <= hours <= volunteers.MAX_HOURS:
        raise Unexpected("volunteer.hours_invalid", limit=volunteers.MAX_HOURS)
    await ctx.atomic(
        volunteers.apply,
        ctx.app,
        _pid(ctx),
        skills=list(ctx.data["skills"]),
        team_names=list(ctx.data.get("teams", [])),
        grid_id=ctx.data.get("grid_id"),
        hours=hours,
    )
    return end(Reply(ctx.t("volunteer.submitted")))


async def decide_volunteer(ctx: Ctx, button: VolunteerDecision) -> Turn:
    """A coordinator's press on an application; checked again on the server."""
    if not people.has_role(ctx.app, ctx.person, people.COORDINATOR):
        return end(Reply(ctx.t("core.button_expired")))
    changed = await ctx.atomic(
        dispatch.decide_volunteer, ctx.app, button.person_id, button.approve, _pid(ctx)
    )
    if not changed:
        return end(Reply(ctx.t("core.button_expired")))
    return end(Reply(ctx.t("volunteer.decided")))


# -- duty -----------------------------------------------------------------------------------


async def duty_start(ctx: Ctx) -> Turn:
    """Switch offers on or off (someone not a volunteer is refused by the engine)."""
    on_duty = await ctx.atomic(volunteers.set_duty, _pid(ctx))
    return end(Reply(ctx.t("volunteer.on_duty" if on_duty else "volunteer.off_duty")))


# -- the task list -----------------------------------------------------------------------------


def _my_work(tx: Tx, person_id: str) -> tuple[list[Doc], list[tuple[Doc, Doc]], list[Doc]]:
    """My active tasks, my open offers (with their tasks), and escalated tasks I could take."""
    person = tx.get(people.PEOPLE, person_id)
    skills = set((volunteers.profile(person) or {}).get("skills", []))
    approved = volunteers.is_active(person)
    mine: list[Doc] = []
    needy: list[Doc] = []
    for task in tx.all(dispatch.TASKS):
        if task.get("assignee_id") == person_id and task["status"] in dispatch.ACTIVE:
            mine.append(task)
        elif (
            approved
            and task["status"] == dispatch.OPEN
            and task.get("escalated")
            and task["skill"] in skills
            and person_id not in task["declined"] + task["dropped"]
            and person_id != task.get("requester_id")
        ):
            needy.append(task)
    offers = []
    for offer in tx.find(dispatch.OFFERS, person_id=person_id, status=dispatch.OFFER_OPEN):
        offered = tx.get(dispatch.TASKS, offer["task_id"])
        if offered is not None and offered["status"] == dispatch.OPEN:
            offers.append((offer, offered))
    mine.sort(key=lambda t: t["starts_at"])
    needy.sort(key=lambda t: t["starts_at"])
    return mine, offers, needy


async def tasks_start(ctx: Ctx) -> Turn:
    """List my tasks with their next-step buttons, my open offers, and tasks that need help."""
    mine, offers, needy = await ctx.view(_my_work, _pid(ctx))
    if not (mine or offers or needy):
        return end(Reply(ctx.t("dispatch.tasks_none")))
    app = ctx.app
    replies: list[Reply] = []
    if mine:
        replies.append(Reply(ctx.t("dispatch.tasks_intro")))
    for task in mine[:MAX_LISTED]:
        text = ctx.t(
            "dispatch.task_line",
            status=ctx.t(f"dispatch.state_{task['status']}"),
            address=dispatch.address_words(ctx.tr, task),
            **dispatch.public_words(app, ctx.tr, task),
        )
        replies.append(Reply(text, choices=dispatch.step_buttons(app, ctx.tr, task)))
    for offer, task in offers[:MAX_LISTED]:
        replies.append(_offer_again(ctx, offer, task))
    if needy:
        replies.append(Reply(ctx.t("dispatch.open_intro")))
    for task in needy[:MAX_LISTED]:
        take = Choice(ctx.t("dispatch.accept"), TaskStep(StepVerb.TAKE, task["id"]).encode())
        text = ctx.t("dispatch.open_line", **dispatch.public_words(app, ctx.tr, task))
        replies.append(Reply(text, choices=((take,),)))
    return end(*replies)


def _offer_again(ctx: Ctx, offer: Doc, task: Doc) -> Reply:
    words: dict[str, Any] = dispatch.public_words(ctx.app, ctx.tr, task)
    asked = bool(offer.get("asked_by"))
    text = ctx.t(
        "dispatch.offer_asked" if asked else "dispatch.offer",
        name=(ctx.person or {}).get("name", ""),
        **words,
    )
    no = ctx.t("dispatch.cant" if asked else "dispatch.decline")
    return Reply(
        text,
        choices=(
            (
                Choice(
                    ctx.t("dispatch.accept"), OfferAnswer(OfferVerb.ACCEPT, offer["id"]).encode()
                ),
                Choice(no, OfferAnswer(OfferVerb.DECLINE, offer["id"]).encode()),
            ),
        ),
    )


# -- actions: offers, steps, assignment --------------------------------------------------------


async def answer_offer(ctx: Ctx, button: OfferAnswer) -> Turn:
    """Accept or decline an offer; the store decides who was first (a refusal: the engine's)."""
    if ctx.person is None:
        return end(Reply(ctx.t("core.button_expired")))
    if button.verb is OfferVerb.DECLINE:
        await ctx.atomic(dispatch.decline, ctx.app, button.offer_id, _pid(ctx))
        return end(Reply(ctx.t("dispatch.declined_ok")))
    task = await ctx.atomic(dispatch.accept, ctx.app, button.offer_id, _pid(ctx))
    return end(dispatch.details_reply(ctx.app, ctx.tr, task))


STEP_SAYS = {
    "on_way": "dispatch.status_on_way",
    "arrived": "dispatch.status_arrived",
    "done": "dispatch.status_done",
    "fail": "dispatch.status_failed",
    "drop": "dispatch.status_dropped",
}


async def task_step(ctx: Ctx, button: TaskStep) -> Turn:
    """A volunteer's press on one of their tasks; the server checks it is theirs.

    "Too early" is answered here (when the visit is, with the buttons again);
    any other refusal by the engine.
    """
    if ctx.person is None:
        return end(Reply(ctx.t("core.button_expired")))
    verb, task_id = button.verb, button.task_id
    try:
        if verb in (StepVerb.FAIL, StepVerb.DROP, StepVerb.KEEP):
            asked = StepVerb.DROP if verb is StepVerb.KEEP else verb
            await ctx.view(dispatch.may_step, task_id, _pid(ctx), str(asked))
            return end(_question_of(ctx, verb, task_id))
        if verb is StepVerb.HELP:
            await ctx.atomic(dispatch.ask_help, ctx.app, task_id, _pid(ctx))
            return end(Reply(ctx.t("dispatch.help_sent")))
        if verb is StepVerb.TAKE:
            task = await ctx.atomic(dispatch.take, ctx.app, task_id, _pid(ctx))
            return end(dispatch.details_reply(ctx.app, ctx.tr, task))
        name, reason = _step_of(button)
        task = await ctx.atomic(dispatch.step, ctx.app, task_id, _pid(ctx), name, reason)
    except dispatch.TooEarly:
        return end(await _too_early(ctx, task_id))
    active = task["status"] in dispatch.ACTIVE
    buttons = dispatch.step_buttons(ctx.app, ctx.tr, task) if active else ()
    return end(Reply(ctx.t(STEP_SAYS[name]), choices=buttons))


def _question_of(ctx: Ctx, verb: StepVerb, task_id: str) -> Reply:
    """What "could not complete", "I can't go" and "I can still go" lead to."""
    if verb is StepVerb.FAIL:
        return _fail_reasons(ctx, task_id)
    if verb is StepVerb.DROP:
        return _confirm_drop(ctx, task_id)
    return Reply(ctx.t("dispatch.kept"))


async def _too_early(ctx: Ctx, task_id: str) -> Reply:
    """ "On my way" long before the start: say when the visit is, and when to press."""
    task = await ctx.view(lambda tx: tx.require(dispatch.TASKS, task_id))
    hours = dispatch.setting(ctx.app, "on_way_hours")
    return Reply(
        ctx.t(
            "dispatch.too_early",
            when=dispatch.when(ctx.app, ctx.tr, task["starts_at"]),
            hours=f"{float(hours):g}",
        ),
        choices=dispatch.step_buttons(ctx.app, ctx.tr, task),
    )


def _step_of(button: TaskStep) -> tuple[str, str]:
    """The lifecycle step a press means, with a failure reason when there is one."""
    verb = button.verb
    if verb is StepVerb.FAIL_WHY and button.reason in dispatch.FAIL_REASONS:
        return "fail", button.reason
    if verb is StepVerb.DROP_YES:
        return "drop", ""
    if verb in (StepVerb.ON_WAY, StepVerb.ARRIVED, StepVerb.DONE):
        return str(verb), ""
    raise dispatch.WrongStep()


def _fail_reasons(ctx: Ctx, task_id: str) -> Reply:
    buttons = [
        Choice(ctx.t(f"dispatch.fail_{code}"), TaskStep(StepVerb.FAIL_WHY, task_id, code).encode())
        for code in dispatch.FAIL_REASONS
    ]
    return Reply(ctx.t("dispatch.ask_fail_reason"), choices=rows(*buttons, width=2))


def _confirm_drop(ctx: Ctx, task_id: str) -> Reply:
    return Reply(
        ctx.t("dispatch.confirm_drop"),
        choices=(
            (
                Choice(ctx.t("dispatch.drop_yes"), TaskStep(StepVerb.DROP_YES, task_id).encode()),
                Choice(ctx.t("dispatch.drop_no"), TaskStep(StepVerb.KEEP, task_id).encode()),
            ),
        ),
    )


async def assign_task(ctx: Ctx, button: Assign) -> Turn:
    """A coordinator asks a volunteer after escalation; role, task and choice checked again.

    Refusals get words of their own here ("someone took it meanwhile", "could
    not ask them"), not the engine's generic ones.
    """
    if not people.has_role(ctx.app, ctx.person, people.COORDINATOR):
        return end(Reply(ctx.t("core.button_expired")))
    try:
        await ctx.atomic(dispatch.assign, ctx.app, button.task_id, button.volunteer_id, _pid(ctx))
    except dispatch.AlreadyTaken:
        return end(Reply(ctx.t("dispatch.assign_gone")))
    except dispatch.DispatchError:
        return end(Reply(ctx.t("dispatch.assign_failed")))
    volunteer = await ctx.view(lambda tx: tx.get(people.PEOPLE, button.volunteer_id) or {})
    return end(Reply(ctx.t("dispatch.assign_done", name=volunteer.get("name", ""))))


JOIN = Flow(
    name="volunteer",
    start=join_start,
    commands=("volunteer",),
    menu_key="volunteer.menu_join",
    help_key="volunteer.help_join",
    states={
        "volunteer.skills": State(ask_skills, got_skills),
        "volunteer.teams": State(ask_teams, got_teams),
        "volunteer.grid": State(ask_grid, got_grid),
        "volunteer.hours": State(ask_hours, got_hours),
    },
)

DUTY = Flow(
    name="duty",
    start=duty_start,
    commands=("duty",),
    roles=(people.VOLUNTEER,),
    menu_key="volunteer.menu_duty",
    help_key="volunteer.help_duty",
    states={},
)

TASKS = Flow(
    name="tasks",
    start=tasks_start,
    commands=("tasks",),
    roles=(people.VOLUNTEER,),
    menu_key="volunteer.menu_tasks",
    help_key="volunteer.help_tasks",
    states={},
)

FLOWS: tuple[Flow, ...] = (JOIN, DUTY, TASKS)

ACTIONS: dict[str, Action] = {
    OfferAnswer.ACTION: pressed(OfferAnswer.parse, answer_offer),
    TaskStep.ACTION: pressed(TaskStep.parse, task_step),
    Assign.ACTION: pressed(Assign.parse, assign_task),
    VolunteerDecision.ACTION: pressed(VolunteerDecision.parse, decide_volunteer),
}
