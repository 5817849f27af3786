"""The ``assistant`` command: start, chat in the terminal, import, and run workers.

Every command reads the same settings (``--settings FILE``, else
``ASSISTANT_SETTINGS``, else ``./settings.toml``; ``ASSISTANT_<SECTION>__<KEY>``
variables override) and ``--data DIR`` chooses another storage folder.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from assistant import config

log = logging.getLogger(__name__)


def _settings(args: argparse.Namespace) -> config.Settings:
    settings = config.load(args.settings)
    if getattr(args, "data", None):
        settings = settings.with_values(storage={"dir": str(Path(args.data).resolve())})
    return settings


def _now(settings: config.Settings) -> str:
    from assistant.clock import SystemClock, to_iso

    return to_iso(SystemClock().now())


def cmd_up(args: argparse.Namespace) -> int:
    """Start Redis (if embedded), the workers, the scheduler and the channels."""
    from assistant import runtime

    return runtime.up(_settings(args))


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
    from assistant.services import imports

    settings = _settings(args)
    app = build(settings)
    try:
        text = imports.read_file(args.file)
        if args.what == "households":
            result = imports.import_households(app.store, text)
        else:
            result = imports.import_volunteers(app.store, text, _now(settings))
    except imports.ImportError_ as error:
        print(f"Nothing was imported: {error}", file=sys.stderr)
        return 2
    print(f"Imported {args.what}: {result}")
    return 0


def cmd_demo_data(args: argparse.Namespace) -> int:
    """Fill an empty store with a demo community."""
    from assistant.bootstrap import build
    from assistant.services import demo

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
    from assistant.services import invitations

    settings = _settings(args)
    app = build(settings)
    code = invitations.create(app, args.kind, args.name)
    username = str(settings.get("telegram", "bot_username"))
    if not username:
        print(
            f"Invitation code: {code}\nSet [telegram] bot_username to get a link to share.",
        )
        return 0
    from assistant.channels.telegram.invite import invite_link, write_qr_png

    link = invite_link(username, code)
    print(link)
    if args.qr:
        write_qr_png(link, args.qr)
        print(f"QR code written to {args.qr}")
    return 0


def cmd_role(args: argparse.Namespace) -> int:
    """Grant or revoke a role (coordinator of some grids, or volunteer) by chat address."""
    from assistant.bootstrap import build
    from assistant.services import people
    from assistant.store.base import NotFound

    app = build(_settings(args))
    grids = [g.strip() for g in (args.grids or "").split(",") if g.strip()]
    try:
        with app.store.transaction() as tx:
            if args.action == "grant":
                person = people.grant(tx, args.address, args.role, grids)
            else:
                person = people.revoke(tx, args.address, args.role)
    except (NotFound, ValueError) as error:
        print(f"Nothing changed: {error}", file=sys.stderr)
        return 2
    print(f"{args.address}: roles {', '.join(person['roles'])}")
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    """Check the settings and print them with secrets hidden."""
    settings = _settings(args)
    print(json.dumps(settings.redacted(), ensure_ascii=False, indent=2))
    return 0


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    top = argparse.ArgumentParser(
        prog="assistant",
        description="The chat assistant of a community neighbourhood centre.",
    )
    top.add_argument("--settings", help="settings file (default: ./settings.toml)")
    top.add_argument("--log-level", default="", help="DEBUG, INFO, WARNING (default INFO)")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, handler: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=(handler.__doc__ or "").strip().splitlines()[0])
        command.add_argument("--data", help="storage folder (default: [storage] dir)")
        command.set_defaults(handler=handler)
        return command

    add("up", cmd_up)
    console = add("console", cmd_console)
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
    add("settings", cmd_settings)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; settings errors stop with a message, not a traceback."""
    args = parser().parse_args(argv)
    quiet = args.command == "console"
    level = (
        args.log_level.upper()
        or os.environ.get("ASSISTANT_LOG_LEVEL", "").upper()
        or ("WARNING" if quiet else "INFO")
    )
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.handler(args))
    except config.SettingsError as error:
        print(f"Settings problem: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
