"""The ``assistant`` command: start, chat in the terminal, import, and run workers.

Every command reads the same settings (``--settings FILE``, else
``ASSISTANT_SETTINGS``, else ``./settings.toml``; ``ASSISTANT_<SECTION>__<KEY>``
variables override) and ``--data DIR`` chooses another storage folder; both
work before or after the command's name (``assistant settings --settings F``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from assistant import config

if TYPE_CHECKING:
    from assistant.bootstrap import App

log = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077


def _settings(args: argparse.Namespace) -> config.Settings:
    settings = config.load(getattr(args, "settings", None))
    if getattr(args, "data", None):
        settings = settings.with_values(storage={"dir": str(Path(args.data).resolve())})
    return settings


def _now(settings: config.Settings) -> str:
    from assistant.clock import SystemClock, to_iso

    return to_iso(SystemClock().now())


def cmd_up(args: argparse.Namespace) -> int:
    """Start Redis (if embedded), the workers, the scheduler and the channels."""
    from assistant import runtime
    from assistant.bootstrap import build

    settings = _settings(args)
    offer_demo(build(settings), sys.stdin, sys.stderr)
    return runtime.up(settings)


def offer_demo(app: App, answers: TextIO, out: TextIO) -> bool:
    """On an empty store, offer to load the demo community; say whether it was loaded.

    Only a person at a terminal is asked: with no terminal on ``answers`` (CI, a
    service manager, a pipe) nothing is read, so nothing waits, and a hint is
    printed instead.
    """
    from assistant import demo
    from assistant.services import people
    from assistant.services.people import community

    with app.store.snapshot() as tx:
        if tx.all(people.PEOPLE) or tx.all(community.GRIDS):
            return False
    if not answers.isatty():
        print("The store is empty. Load a demo community with: make demo", file=out)
        return False
    print("The store is empty. Load the demo community (城东社区)? [Y/n] ", end="", file=out)
    out.flush()
    if answers.readline().strip().lower() not in ("", "y", "yes", "是", "好"):
        return False
    print("Demo community loaded: " + demo.load(app.store, _now(app.settings)), file=out)
    return True


def cmd_console(args: argparse.Namespace) -> int:
    """Chat in the terminal as one or more users."""
    from assistant import runtime

    settings = _settings(args)
    if args.inline:
        return runtime.console_inline(settings, jsonl=args.jsonl)
    return runtime.up(settings, console=True, jsonl=args.jsonl)


def cmd_worker(args: argparse.Namespace) -> int:
    """Run one worker process (dramatiq) on the configured Redis."""
    from assistant import runtime

    runtime.run_worker(_settings(args), threads=args.threads)
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    """Run the scheduler that hands due reminders and follow-ups to the workers."""
    from assistant import runtime

    runtime.run_scheduler(_settings(args))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Import households or volunteers from a CSV file."""
    from assistant.bootstrap import build
    from assistant.services.people import imports

    settings = _settings(args)
    app = build(settings)
    try:
        text = imports.read_file(args.file)
        if args.what == "households":
            summary = str(imports.import_households(app.store, text))
        else:
            summary = str(imports.import_volunteers(app.store, text, _now(settings)))
    except imports.ImportError_ as error:
        print(f"Nothing was imported: {error}", file=sys.stderr)
        return 2
    print(f"Imported {args.what}: {summary}.")
    return 0


def cmd_demo_data(args: argparse.Namespace) -> int:
    """Fill an empty store with a demo community."""
    from assistant import demo
    from assistant.bootstrap import build

    settings = _settings(args)
    app = build(settings)
    try:
        print("Demo community loaded: " + demo.load(app.store, _now(settings)))
    except demo.NotEmpty as error:
        print(str(error), file=sys.stderr)
        return 2
    return 0


def cmd_invite(args: argparse.Namespace) -> int:
    """Print an invitation deep link (and write a QR code PNG) for a volunteer or household."""
    from assistant.bootstrap import build
    from assistant.channels.telegram.invite import BadInvite, invite_link, write_qr_png
    from assistant.services.people import invitations

    settings = _settings(args)
    username = str(settings.get("telegram", "bot_username")).strip()
    if args.qr and not username:
        print(
            "No QR code written: a QR code holds a Telegram link, and links need the bot's "
            "username. Set [telegram] bot_username (or ASSISTANT_TELEGRAM__BOT_USERNAME).",
            file=sys.stderr,
        )
        return 2
    if username:
        try:
            invite_link(username, "check")
        except BadInvite as error:
            print(f"No invitation made: [telegram] bot_username: {error}", file=sys.stderr)
            return 2
    app = build(settings)
    try:
        code = invitations.create(app, args.kind, args.name)
    except invitations.UnknownVolunteer as error:
        print(f"No invitation made: {error}. Rename one of them first.", file=sys.stderr)
        return 2
    if args.kind == "volunteer" and not invitations.names_a_volunteer(app, args.name):
        print(
            f"Warning: no imported volunteer is named {args.name!r}. The link only greets "
            "them and starts a volunteer application; import them first (assistant import "
            "volunteers FILE.csv) to link the chat to their profile.",
            file=sys.stderr,
        )
    if not username:
        print(f"Invitation code: {code}\nSet [telegram] bot_username to get a link to share.")
        return 0
    link = invite_link(username, code)
    print(link)
    if args.qr:
        try:
            write_qr_png(link, args.qr)
        except OSError as error:
            print(f"No QR code written to {args.qr}: {error.strerror}", file=sys.stderr)
            return 2
        print(f"QR code written to {args.qr}")
    return 0


def cmd_role(args: argparse.Namespace) -> int:
    """Grant or revoke a role (coordinator of some grids, or volunteer) by chat address.

    Revoking ``volunteer`` also withdraws the person's open task offers and
    hands the tasks they accepted back to dispatch, in the same transaction; the
    messages and new waves are durable timers that the running scheduler sends.
    """
    from assistant.bootstrap import build
    from assistant.queue import SchedulerQueue
    from assistant.services import dispatch, people
    from assistant.store.base import NotFound

    app = build(_settings(args), queue=SchedulerQueue())
    grids = [g.strip() for g in (args.grids or "").split(",") if g.strip()]
    stood_down = None
    try:
        with app.unit() as tx:
            if args.action == "grant":
                person = people.grant(tx, args.address, args.role, grids)
            else:
                person = people.revoke(tx, args.address, args.role)
                if args.role == people.VOLUNTEER:
                    stood_down = dispatch.stand_down(tx, app, person["id"], "revoked")
    except (NotFound, ValueError) as error:
        print(f"Nothing changed: {error}", file=sys.stderr)
        return 2
    print(f"{args.address}: roles {', '.join(person['roles'])}")
    if stood_down is not None:
        print(
            f"Withdrew {stood_down.offers} open offer(s); "
            f"handed {stood_down.tasks} accepted task(s) back to dispatch."
        )
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    """List dead jobs (``jobs dead``) or run one again (``jobs retry ID``).

    A timer is dead when its job failed every attempt; it keeps its arguments
    so that it can be retried, and the running scheduler hands a retried one
    to the workers within a second.
    """
    from assistant.bootstrap import build
    from assistant.jobs import firing, timers
    from assistant.queue import SchedulerQueue

    app = build(_settings(args), queue=SchedulerQueue())
    if args.action == "dead":
        with app.store.snapshot() as tx:
            found = timers.dead(tx)
        for timer in found:
            print(
                f"{timer['id']}  {timer['job']}  {timer.get('attempts', 0)} attempts  "
                f"{timer.get('error', '')}  dead since {timer.get('dead_at', '')}"
            )
        print(f"{len(found)} dead job(s)" + (": assistant jobs retry ID" if found else ""))
        return 0
    if not args.id:
        print("Which one? assistant jobs retry ID (see assistant jobs dead)", file=sys.stderr)
        return 2
    try:
        with app.unit() as tx:
            timer = firing.retry(tx, app, args.id)
    except firing.NotDead:
        print(f"Nothing retried: no dead job {args.id} (see assistant jobs dead)", file=sys.stderr)
        return 2
    print(f"{timer['id']} ({timer['job']}) will run again within a second")
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    """Check the settings and print them with secrets hidden."""
    settings = _settings(args)
    print(json.dumps(settings.redacted(), ensure_ascii=False, indent=2))
    return 0


def _common_options() -> argparse.ArgumentParser:
    """``--settings`` and ``--data``, for the top level and every command alike.

    ``SUPPRESS`` keeps a command's parser from overwriting a value given before
    the command's name with its own empty default.
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--settings", default=argparse.SUPPRESS, help="settings file (default: ./settings.toml)"
    )
    common.add_argument(
        "--data", default=argparse.SUPPRESS, help="storage folder (default: [storage] dir)"
    )
    return common


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    common = _common_options()
    top = argparse.ArgumentParser(
        prog="assistant",
        description="The chat assistant of a community neighbourhood centre.",
        parents=[common],
    )
    top.add_argument("--log-level", default="", help="DEBUG, INFO, WARNING (default INFO)")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, handler: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        command = sub.add_parser(
            name, help=(handler.__doc__ or "").strip().splitlines()[0], parents=[common]
        )
        command.set_defaults(handler=handler)
        return command

    up = add("up", cmd_up)
    console = add("console", cmd_console)
    for chatty in (up, console):
        chatty.add_argument(
            "--verbose",
            action="store_true",
            help="log to stderr (default: the terminal shows only the chat; logs go to "
            "<data>/logs/assistant.log)",
        )
    console.add_argument("--jsonl", action="store_true", help="JSON lines in and out")
    console.add_argument(
        "--inline", action="store_true", help="run jobs in this process (no Redis, no workers)"
    )
    worker = add("worker", cmd_worker)
    worker.add_argument("--threads", type=int, default=None, help="worker threads")
    add("scheduler", cmd_scheduler)
    importing = add("import", cmd_import)
    importing.add_argument("what", choices=("households", "volunteers"))
    importing.add_argument("file", help="CSV file")
    add("demo-data", cmd_demo_data)
    invite = add("invite", cmd_invite)
    invite.add_argument("kind", choices=("volunteer", "household"))
    invite.add_argument("name", help="who the invitation is for")
    invite.add_argument("--qr", help="also write a QR code PNG to this file")
    role = add("role", cmd_role)
    role.add_argument("action", choices=("grant", "revoke"))
    role.add_argument("address", help="chat address, e.g. telegram:123456")
    role.add_argument("role", choices=("coordinator", "volunteer"))
    role.add_argument("--grids", help="comma-separated micro-grid ids (coordinators)")
    jobs = add("jobs", cmd_jobs)
    jobs.add_argument("action", choices=("dead", "retry"))
    jobs.add_argument("id", nargs="?", default="", help="the dead timer to retry")
    add("settings", cmd_settings)
    return top


def _setup_logging(args: argparse.Namespace) -> None:
    """Log to stderr, or to the data folder's log file when the terminal is a chat."""
    from assistant import logs

    file = logs.inherited_file()
    chat_here = args.command in ("up", "console") and not getattr(args, "jsonl", False)
    if file is None and chat_here and not getattr(args, "verbose", False):
        from assistant import runtime

        settings = _settings(args)
        if args.command == "console" or runtime.serves_console(settings):
            file = logs.log_file_of(settings.data_dir)
    quiet = args.command == "console" and file is None and not getattr(args, "verbose", False)
    level = (
        args.log_level.upper()
        or os.environ.get("ASSISTANT_LOG_LEVEL", "").upper()
        or ("WARNING" if quiet else "INFO")
    )
    logs.setup(level, file)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; settings errors stop with a message, not a traceback."""
    # Every file and folder the assistant (and the Redis it starts) creates may hold
    # personal data: readable by the service's user only, whatever the shell's umask.
    os.umask(PRIVATE_UMASK)
    args = parser().parse_args(argv)
    try:
        _setup_logging(args)
        return int(args.handler(args))
    except config.SettingsError as error:
        print(f"Settings problem: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
