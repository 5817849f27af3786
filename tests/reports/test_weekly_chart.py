"""The weekly chart: a PNG per week, Chinese labels with a CJK font, English without one."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from assistant import demo
from assistant.bootstrap import build_for_tests
from assistant.clock import FakeClock
from assistant.config import defaults
from assistant.jobs.firing import bound
from assistant.jobs.scheduler import tick
from assistant.services import reports
from assistant.services.reports import weekly

PNG = b"\x89PNG\r\n\x1a\n"


def test_the_chart_is_drawn_with_the_installed_cjk_font_or_english_labels(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    per_grid = Counter({"jx-1": 5, "ssw-2": 2})
    per_hour = Counter({9: 3, 20: 4})
    names = {"jx-1": "锦绣家园一网格", "ssw-2": "山水湾二网格"}
    font = reports.cjk_font()
    if font is not None:
        assert weekly.draw(tmp_path / "zh.png", per_grid, per_hour, names, "上周的反映", font)
        assert (tmp_path / "zh.png").read_bytes().startswith(PNG)
    elif __import__("os").environ.get("CI"):
        pytest.fail("CI must have a CJK font: make fonts installs fonts-wqy-microhei")
    with caplog.at_level(logging.WARNING):
        assert not weekly.draw(tmp_path / "en.png", per_grid, per_hour, names, "上周的反映", None)
    assert (tmp_path / "en.png").read_bytes().startswith(PNG)
    assert "no CJK font found" in caplog.text


def test_every_monday_each_coordinator_gets_last_weeks_figures(tmp_path: Path) -> None:
    # Given reports on Tuesday 2 June 2026 (the demo's cases are of Monday 1 June)
    clock = FakeClock(datetime(2026, 6, 2, 1, 0, tzinfo=UTC))
    app = build_for_tests(defaults().with_values(storage={"dir": str(tmp_path)}), clock=clock)
    demo.load(app.store, "2026-06-01T00:00:00+00:00")
    with app.unit() as tx:
        for n in range(3):
            draft = reports.Draft(reporter_id=f"r{n}", category="noise", place_id="market")
            reports.submit(tx, app, draft, clock.now())
    app.queue.run_all(bound(app))  # type: ignore[attr-defined]
    # When next Monday 09:00 comes
    clock.advance(days=6, hours=1)
    tick(app)
    app.queue.run_all(bound(app))  # type: ignore[attr-defined]
    # Then the chart file is there and the coordinator is told the busiest grid
    monday = date(2026, 6, 8)
    chart = (
        tmp_path
        / "charts"
        / f"reports-2026-W{(monday - timedelta(days=7)).isocalendar().week:02d}.png"
    )
    assert chart.read_bytes().startswith(PNG)
    sent = [m for m in app.delivery.sent if m.to == "console:grid"]  # type: ignore[attr-defined]
    assert any("上周一共收到" in m.reply.text and "山水湾二网格" in m.reply.text for m in sent)
