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
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from assistant import config
from assistant.store import transfer
from assistant.store.base import Store, StoreError

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
    """Import households, residents, volunteers, places or listings from a CSV file."""
    from assistant.bootstrap import build
    from assistant.services.people import imports, residents_import

    settings = _settings(args)
    app = build(settings)
    try:
        text = imports.read_file(args.file)
        if args.what == "places":
            return _import_places(app, text)
        if args.what == "listings":
            return _import_listings(args, text)
        if args.what == "households":
            summary = str(imports.import_households(app.store, text))
        elif args.what == "residents":
            summary = str(residents_import.import_residents(app.store, text, _now(settings)))
        else:
            summary = str(imports.import_volunteers(app.store, text, _now(settings)))
    except imports.ImportError_ as error:
        print(f"Nothing was imported: {error}", file=sys.stderr)
        return 2
    print(f"Imported {args.what}: {summary}.")
    return 0


def _import_listings(args: argparse.Namespace, text: str) -> int:
    """``assistant import listings FILE.csv``: whole file checked, then stored in one unit of work."""
    from assistant.bootstrap import build
    from assistant.queue import SchedulerQueue
    from assistant.services.orders import files

    app = build(_settings(args), queue=SchedulerQueue())
    added, known = files.import_listings(app, text)
    print(f"Imported listings: added {added}; {known} already there.")
    return 0


def cmd_vendor(args: argparse.Namespace) -> int:
    """Set up a vendor: ``assistant vendor add ID --name 名字 --staff ADDR --pickup id=名字|Name``."""
    from assistant.bootstrap import build
    from assistant.services.orders import vendors
    from assistant.services.orders.records import Vendor

    app = build(_settings(args))
    try:
        vendor = Vendor(
            id=args.id,
            name_zh=args.name or "",
            name_en=args.name_en or args.name or "",
            kind=vendors.vendor_kind(args.kind),
            staff=tuple(s.strip() for s in (args.staff or "").split(",") if s.strip()),
            pickup_points=tuple(vendors.parse_point(p) for p in args.pickup or ()),
            delivers=bool(args.delivers),
        )
        with app.store.transaction() as tx:
            vendors.add_vendor(tx, vendor)
    except vendors.BadVendor as error:
        print(f"No vendor set up: {error}", file=sys.stderr)
        return 2
    points = ", ".join(p.id for p in vendor.pickup_points) or "none"
    print(f"Vendor {vendor.id} ({vendor.kind}): {len(vendor.staff)} staff, pickup points {points}")
    return 0


def cmd_export_orders(args: argparse.Namespace) -> int:
    """``assistant export orders --vendor X --date D``: CSV, UTF-8 with BOM (spreadsheets)."""
    from datetime import date

    from assistant.bootstrap import build
    from assistant.services.orders import files
    from assistant.services.orders.notify import vendor_of

    app = build(_settings(args))
    try:
        today = app.clock.now().astimezone(app.settings.timezone).date()
        day = date.fromisoformat(args.date) if args.date else today
    except ValueError:
        print(f"Nothing exported: --date {args.date!r} is not like 2026-06-02", file=sys.stderr)
        return 2
    if not args.vendor:
        print("export orders needs --vendor ID", file=sys.stderr)
        return 2
    with app.store.snapshot() as tx:
        vendor = vendor_of(tx, args.vendor)
        if vendor is None:
            print(f"Nothing exported: no vendor {args.vendor!r}", file=sys.stderr)
            return 2
        text = files.export_orders(tx, app, vendor, day)
    out = Path(args.out or f"orders-{vendor.id}-{day.isoformat()}.csv")
    out.write_text(text, encoding="utf-8-sig")
    print(f"Wrote {max(0, text.count(chr(10)) - 1)} orders to {out}")
    return 0


def _import_places(app: App, text: str) -> int:
    """``assistant import places FILE.csv``: the known places reports are made at."""
    from assistant.clock import SystemClock
    from assistant.services import reports

    try:
        summary = reports.import_places(app.store, text, SystemClock().now())
    except reports.PlacesFileError as error:
        print(f"Nothing was imported: {error}", file=sys.stderr)
        return 2
    print(f"Imported places: {summary}.")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Export cases (reports) between two dates, or a vendor's orders of a day, as CSV."""
    from datetime import date, datetime, time, timedelta

    from assistant.bootstrap import build
    from assistant.services import reports

    if args.what == "orders":
        return cmd_export_orders(args)
    if not args.date_from or not args.date_to:
        print("export cases needs --from and --to (dates like 2026-06-01)", file=sys.stderr)
        return 2
    settings = _settings(args)
    try:
        start = datetime.combine(date.fromisoformat(args.date_from), time(0), settings.timezone)
        end = datetime.combine(date.fromisoformat(args.date_to), time(0), settings.timezone)
    except ValueError:
        print("--from and --to must be dates like 2026-06-01", file=sys.stderr)
        return 2
    app = build(settings)
    with app.store.snapshot() as tx:
        text = reports.export(tx, app, start, end + timedelta(days=1))
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"Exported {text.count(chr(10)) - 1} cases to {args.out}.")
    else:
        sys.stdout.write(text)
    return 0


def cmd_activities(args: argparse.Namespace) -> int:
    """An activity's attendance list as CSV, or the canteen's meals booked per day."""
    from datetime import date

    from assistant.bootstrap import build
    from assistant.services import activities

    settings = _settings(args)
    app = build(settings)
    try:
        day = date.fromisoformat(args.day) if args.day else None
    except ValueError:
        print("--day must be a date like 2026-06-01", file=sys.stderr)
        return 2
    with app.store.snapshot() as tx:
        try:
            if args.action == "meals":
                counts = activities.meal_counts(tx, args.id)
                text = "date,meals\n" + "".join(f"{d},{n}\n" for d, n in counts.items())
            else:
                text = activities.export_csv(tx, app, args.id, day)
        except activities.UnknownSession:
            print(f"no activity {args.id}", file=sys.stderr)
            return 2
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"Wrote {text.count(chr(10)) - 1} rows to {args.out}.")
    else:
        sys.stdout.write(text)
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


def _open_store(where: str, settings: config.Settings, *, create: bool = False) -> Store:
    """The store at ``where``: a ``postgresql://`` URL, or a data folder (its store is DIR/store).

    A folder that is itself a store folder (it holds ``.store.lock``) is taken as it is.
    ``create`` upgrades a database's schema first (a copy's target).
    """
    from assistant.bootstrap import SHARDED
    from assistant.store.postgres import PostgresStore, upgrade
    from assistant.store.tinydb_store import TinyDbStore

    if where.startswith(("postgresql://", "postgres://")):
        if create:
            upgrade(where)
        return PostgresStore(where)
    folder = Path(where).expanduser().resolve()
    if not (folder / ".store.lock").exists():
        folder = folder / "store"
    if not create and not folder.is_dir():
        raise StoreError(f"no store in {where} (looked for {folder})")
    return TinyDbStore(folder, shards=SHARDED)


def _configured(settings: config.Settings) -> str:
    """Where the settings keep the records: ``[storage] url``, else the data folder."""
    return str(settings.get("storage", "url")) or str(settings.data_dir)


def _print_tally(parts: transfer.Tally, out: TextIO) -> None:
    for (collection, part), value in sorted(parts.items()):
        print(f"  {collection:<24} {part:<9} {value.count:>8}  {value.checksum}", file=out)
    total = sum(value.count for value in parts.values())
    print(f"  {total} records in {len({c for c, _ in parts})} collections", file=out)


def cmd_db(args: argparse.Namespace) -> int:
    """The database: ``db upgrade`` the schema, ``db copy`` a community, ``db backup`` one."""
    from assistant.store.postgres import redact, upgrade

    settings = _settings(args)
    try:
        if args.action == "upgrade":
            url = args.url or str(settings.get("storage", "url"))
            if not url:
                print("Nothing to upgrade: [storage] url is empty (TinyDB needs no schema).")
                return 0
            applied = upgrade(url)
            names = ", ".join(f"{m.version} {m.name}" for m in applied) or "none, already current"
            print(f"{redact(url)}: migrations applied: {names}")
            return 0
        if args.action == "copy":
            if not args.source or not args.target:
                print("Usage: assistant db copy --from DIR|URL|FILE --to DIR|URL", file=sys.stderr)
                return 2
            return _db_copy(args.source, args.target, settings)
        return _db_backup(args.source or _configured(settings), Path(args.file), settings)
    except StoreError as error:
        print(f"Nothing done: {error}", file=sys.stderr)
        return 2


def _db_copy(source: str, target: str, settings: config.Settings) -> int:
    """Copy every record, then read the target back and compare counts and checksums."""
    from assistant.store.postgres import redact

    backup = Path(source)
    if backup.is_file():
        expected = transfer.tally(transfer.read_backup(backup))
        records: Iterable[transfer.Record] = transfer.read_backup(backup)
    else:
        origin = _open_store(source, settings)
        records = list(transfer.records(origin))
        expected = transfer.tally(records)
        origin.close()
    into = _open_store(target, settings, create=True)
    try:
        written = transfer.copy(records, into)
        found = transfer.tally(transfer.records(into))
    finally:
        into.close()
    problems = transfer.differences(expected, written) + transfer.differences(expected, found)
    print(f"Copied {redact(source)} to {redact(target)}:")
    _print_tally(found, sys.stdout)
    if problems:
        print("The copy does not match its source:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print("Verified: every collection has the same records and checksums in both stores.")
    return 0


def _db_backup(source: str, file: Path, settings: config.Settings) -> int:
    """Write a consistent JSON-lines dump of a store."""
    from assistant.store.postgres import redact

    store = _open_store(source, settings)
    try:
        written = transfer.write_backup(
            transfer.records(store), file, redact(source), _now(settings)
        )
    finally:
        store.close()
    print(f"Backed up {redact(source)} to {file}:")
    _print_tally(written, sys.stdout)
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
    importing.add_argument(
        "what", choices=("households", "residents", "volunteers", "places", "listings")
    )
    importing.add_argument("file", help="CSV file")
    add("demo-data", cmd_demo_data)
    exporting = add("export", cmd_export)
    exporting.add_argument("what", choices=("cases", "orders"))
    exporting.add_argument("--from", dest="date_from", default="", help="cases: first day")
    exporting.add_argument("--to", dest="date_to", default="", help="cases: last day (included)")
    exporting.add_argument("--vendor", default="", help="orders: the vendor's id")
    exporting.add_argument("--date", default="", help="orders: the day (default today)")
    exporting.add_argument("--out", default="", help="write to this file (default: stdout)")
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
    db = add("db", cmd_db)
    db.add_argument("action", choices=("upgrade", "copy", "backup"))
    db.add_argument("file", nargs="?", default="", help="backup: the JSON-lines file to write")
    db.add_argument("--url", default="", help="upgrade: this database (default: [storage] url)")
    db.add_argument(
        "--from",
        dest="source",
        default="",
        help="copy, backup: a data folder, a postgresql:// URL or (copy) a backup file "
        "(backup default: the configured store)",
    )
    db.add_argument("--to", dest="target", default="", help="copy: a data folder or a URL")
    add("settings", cmd_settings)
    acts = add("activities", cmd_activities)
    acts.add_argument("action", choices=("attendance", "meals"))
    acts.add_argument("id", help="the activity's id, e.g. ac-canteen")
    acts.add_argument("--day", default="", help="attendance: only this day, 2026-06-01")
    acts.add_argument("--out", default="", help="write to this file (default: standard output)")
    vendor = add("vendor", cmd_vendor)
    vendor.add_argument("action", choices=("add",))
    vendor.add_argument("id", help="a short id such as cd-fresh")
    vendor.add_argument("--name", required=True, help="the Chinese name")
    vendor.add_argument("--name-en", default="", help="the English name")
    vendor.add_argument("--kind", default="supermarket", help="livestream, supermarket or farm")
    vendor.add_argument("--staff", default="", help="comma-separated chat addresses of its staff")
    vendor.add_argument(
        "--pickup", action="append", help="a pickup point id=中文名|English name (repeatable)"
    )
    vendor.add_argument("--delivers", action="store_true", help="the vendor delivers itself")

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
