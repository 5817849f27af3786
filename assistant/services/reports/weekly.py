"""The coordinators' weekly picture: reports per micro-grid and per hour of day, as a PNG.

Every Monday at ``[reports] weekly_hour`` (local time) the ``reports.weekly``
timer counts last week's reports (hot and archived cases), draws two bar
charts with matplotlib (headless, the Agg backend) and writes
``<data>/charts/reports-<year>-W<week>.png``; each coordinator is sent the
chart as a picture in chat (kept through the media port, so each network
uploads it once), with the week's total and the busiest grids and hours as
its caption. The chart and its media copy are not personal data, yet they are
deleted after ``[reports] photo_retention_days`` like report photos
(``reports.expire_chart``). Chinese labels need a
CJK font: the project installs WenQuanYi Micro Hei (``make fonts``, part of
``make test``); any Noto / Source Han CJK font also works. Without one the
chart is drawn with English labels and grid ids, and a warning says so once.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.channels.common.media import forget_file, keep_file, media_dir
from assistant.clock import from_iso, to_iso
from assistant.conversation.vocabulary import Reply
from assistant.i18n import Translator
from assistant.jobs import timers
from assistant.services import people
from assistant.services.reports.notify import tell
from assistant.services.reports.records import CASES, setting, timer_key
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

CJK_FAMILIES = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Noto Serif CJK SC",
)
CJK_FILES = ("wqy-microhei", "wqy-zenhei", "notosanscjk", "notoserifcjk", "sourcehansans")


def cjk_font() -> str | None:
    """The file of a CJK font matplotlib can use, or ``None``."""
    from matplotlib import font_manager

    for font in font_manager.fontManager.ttflist:
        if font.name in CJK_FAMILIES:
            return str(font.fname)
    for path in font_manager.findSystemFonts():
        if any(
            mark in Path(path).name.lower().replace("-", "")
            for mark in (m.replace("-", "") for m in CJK_FILES)
        ):
            return str(path)
    return None


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def counts(
    reports: Iterable[tuple[str, datetime]], zone: object, start: datetime, end: datetime
) -> tuple[Counter[str], Counter[int]]:
    """Reports per grid and per local hour of day, of those made in ``[start, end)``."""
    per_grid: Counter[str] = Counter()
    per_hour: Counter[int] = Counter()
    for grid, at in reports:
        if start <= at < end:
            per_grid[grid] += 1
            per_hour[at.astimezone(zone).hour] += 1  # type: ignore[arg-type]
    return per_grid, per_hour


def week_reports(tx: Tx) -> list[tuple[str, datetime, str]]:
    """(grid id, when, grid name) of every report of every case, hot and archived."""
    out: list[tuple[str, datetime, str]] = []
    seen: set[str] = set()
    for case in [*tx.all(CASES), *tx.archived(CASES)]:
        if case["id"] in seen:
            continue
        seen.add(case["id"])
        for report in case.get("reports", []):
            out.append(
                (str(case.get("grid_id") or "-"), from_iso(report["at"]), case.get("grid_name", ""))
            )
    return out


def draw(
    path: Path,
    per_grid: Counter[str],
    per_hour: Counter[int],
    names: dict[str, str],
    title: str,
    font: str | None = "",
) -> bool:
    """Draw the two charts into ``path``; whether Chinese labels were used (a CJK font found).

    ``font`` is the CJK font file ("": look for one; ``None``: draw without).
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    font = cjk_font() if font == "" else font
    prop = font_manager.FontProperties(fname=font) if font else None
    if font is None:
        log.warning("no CJK font found (install fonts-wqy-microhei): the chart uses English labels")
    chinese = prop is not None
    grids = sorted(per_grid, key=lambda g: (-per_grid[g], g))
    labels = [(names.get(g) or g) if chinese else g for g in grids]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), dpi=100)
    left.barh(labels[::-1], [per_grid[g] for g in grids][::-1], color="#c0392b")
    left.set_title("各微网格反映数" if chinese else "Reports per micro-grid", fontproperties=prop)
    right.bar(list(range(24)), [per_hour.get(h, 0) for h in range(24)], color="#2471a3")
    right.set_xticks(list(range(0, 24, 3)))
    right.set_title("按时段（点）" if chinese else "By hour of day", fontproperties=prop)
    for tick in left.get_yticklabels():
        if prop is not None:
            tick.set_fontproperties(prop)
    figure.suptitle(title if chinese else "Reports last week", fontproperties=prop)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    figure.savefig(path, format="png")
    plt.close(figure)
    os.chmod(path, 0o600)
    return chinese


def chart(
    tx: Tx, app: App, monday: date
) -> tuple[Path, Counter[str], Counter[int], dict[str, str]]:
    """Count the week from ``monday`` and draw its chart; the file and the counts."""
    zone = app.settings.timezone
    start = datetime.combine(monday, time(0), zone)
    end = start + timedelta(days=7)
    rows = week_reports(tx)
    names = {grid: name for grid, _, name in rows if name}
    per_grid, per_hour = counts(((g, at) for g, at, _ in rows), zone, start, end)
    iso = monday.isocalendar()
    path = app.settings.data_dir / "charts" / f"reports-{iso.year}-W{iso.week:02d}.png"
    draw(path, per_grid, per_hour, names, f"{monday:%m月%d日}起一周的反映")
    return path, per_grid, per_hour, names


def weekly_job(tx: Tx, app: App, monday_iso: str) -> None:
    """Draw last week's chart, tell every coordinator, and schedule next Monday's."""
    this_monday = date.fromisoformat(monday_iso)
    schedule_next(tx, app, app.clock.now(), after=this_monday)
    path, per_grid, per_hour, names = chart(tx, app, this_monday - timedelta(days=7))
    picture = keep_chart(tx, app, path)
    top_grids = [f"{names.get(g) or g} {n}" for g, n in per_grid.most_common(3)]
    top_hours = [f"{h}:00 {n}" for h, n in per_hour.most_common(3)]
    now = app.clock.now()

    def build(tr: Translator) -> Reply:
        none = tr.t("reports.weekly_none")
        return Reply(
            tr.t(
                "reports.weekly",
                total=sum(per_grid.values()),
                grids="、".join(top_grids) if tr.is_chinese else ", ".join(top_grids) or none,
                hours="、".join(top_hours) if tr.is_chinese else ", ".join(top_hours) or none,
                file=path.name,
            ),
            image=picture,
        )

    for coordinator in people.coordinators_for(tx, None):
        tell(tx, app, coordinator["id"], build, now)


def keep_chart(tx: Tx, app: App, path: Path) -> str:
    """The chart as a media record (its reference), deleted with the file after the
    photo retention."""
    now = app.clock.now()
    ref = keep_file(
        tx, media_dir(app.settings.data_dir), path.read_bytes(), path.name, now, purpose="chart"
    )
    due = now + timedelta(days=int(setting(app, "photo_retention_days")))
    key = timer_key("chart", ref.removeprefix("media:"))
    timers.schedule(tx, "reports.expire_chart", [ref, path.name], due, now, key=key)
    return ref


def expire_chart_job(tx: Tx, app: App, ref: str, name: str) -> None:
    """Delete a weekly chart past the retention: its media record, its bytes, its file."""
    forget_file(tx, media_dir(app.settings.data_dir), ref)
    chart_file = app.settings.data_dir / "charts" / Path(name).name
    if chart_file.exists():
        chart_file.unlink()
    log.info("a weekly chart past its retention was deleted")


def schedule_next(tx: Tx, app: App, now: datetime, after: date | None = None) -> None:
    """The next Monday's chart at ``[reports] weekly_hour`` local time (keyed by that date)."""
    zone = app.settings.timezone
    today = now.astimezone(zone).date()
    monday = week_start(today) + timedelta(days=7)
    if after is not None and monday <= after:
        monday = after + timedelta(days=7)
    due = datetime.combine(monday, time(int(setting(app, "weekly_hour"))), zone)
    key = timer_key("weekly", monday.isoformat())
    timers.schedule(tx, "reports.weekly", [monday.isoformat()], due, now, key=key)
    log.debug("weekly chart scheduled for %s", to_iso(due))


def ensure_weekly(tx: Tx, app: App) -> None:
    """Schedule the next weekly chart unless it is already (called with the first case)."""
    schedule_next(tx, app, app.clock.now())


def cases_between(tx: Tx, start: datetime, end: datetime) -> list[Doc]:
    """Cases made in ``[start, end)``, hot and archived, oldest first (for the CSV export)."""
    found: dict[str, Doc] = {}
    for case in [*tx.all(CASES), *tx.archived(CASES)]:
        if start <= from_iso(case["created_at"]) < end:
            found.setdefault(case["id"], case)
    return sorted(found.values(), key=lambda c: c["created_at"])
