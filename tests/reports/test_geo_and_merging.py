"""Pure rules (cells, distances, tiers) and the merge decision reading only the index."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from assistant.bootstrap import build_for_tests
from assistant.clock import FakeClock
from assistant.domain import geo, urgency
from assistant.services import reports
from assistant.services.reports import index

NOW = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("lat", "lon"), [(999, 118), (25, 181), (float("nan"), 1), ("25", 118), (True, 1)]
)
def test_impossible_coordinates_are_no_point(lat: object, lon: object) -> None:
    assert geo.point(lat, lon) is None


def test_every_point_within_the_size_is_in_the_cells_around() -> None:
    # Given random points and random neighbours within 100 m, at several latitudes
    rng = random.Random(7)
    for _ in range(3000):
        base = geo.Point(rng.uniform(-70, 70), rng.uniform(-179, 179))
        far = rng.uniform(0, 99.9)
        bearing = rng.uniform(0, 6.283)
        import math

        dlat = far * math.cos(bearing) / geo.METRES_PER_DEGREE
        dlon = far * math.sin(bearing) / (geo.METRES_PER_DEGREE * math.cos(math.radians(base.lat)))
        other = geo.Point(base.lat + dlat, base.lon + dlon)
        if geo.distance_m(base, other) > 100:
            continue
        # Then the other's cell is one of the nine read around the base
        assert geo.cell(other, 100) in geo.cells_near(base, 100)


def test_tiers_and_deadlines() -> None:
    hours = {"red": 2.0, "yellow": 24.0, "blue": 72.0}
    assert urgency.deadline(NOW, urgency.Tier.RED, hours) == NOW + timedelta(hours=2)
    assert urgency.escalation_due(NOW, urgency.Tier.BLUE, hours, 2) == NOW + timedelta(hours=144)
    with pytest.raises(ValueError, match="tier"):
        urgency.category_of({**urgency.DEFAULT_CATEGORIES[0], "tier": "purple"})


def test_a_bad_category_in_settings_stops_with_its_name() -> None:
    from assistant.config import SettingsError, defaults

    with pytest.raises(SettingsError, match=r"\[reports\] categories"):
        defaults().with_values(
            reports={"categories": [{**urgency.DEFAULT_CATEGORIES[0], "skill": "flying"}]}
        )


def _app():  # type: ignore[no-untyped-def]
    from assistant import demo

    app = build_for_tests(clock=FakeClock(NOW))
    demo.load(app.store, NOW.isoformat())
    return app


def test_reports_merge_by_radius_and_place_but_not_across_categories_or_far_away() -> None:
    app = _app()
    gate = (25.06412, 118.18903)

    def file(reporter: str, category: str = "no_mask", **where: object) -> reports.Filed:
        with app.unit() as tx:
            return reports.submit(
                tx, app, reports.Draft(reporter_id=reporter, category=category, **where), NOW
            )  # type: ignore[arg-type]

    first = file("a", lat=gate[0], lon=gate[1])
    assert not first.merged
    assert file("b", place_id="jx-gate-east").merged  # the same known place
    assert file("c", lat=gate[0] + 0.0008, lon=gate[1]).merged  # about 89 m
    assert not file("d", lat=gate[0] + 0.0011, lon=gate[1]).merged  # about 122 m: a new case
    assert not file("e", category="noise", lat=gate[0], lon=gate[1]).merged  # another category
    with app.store.snapshot() as tx:
        case = tx.require(reports.CASES, first.case["id"])
    assert case["followers"] == ["a", "b", "c"]


def test_a_merge_reads_only_the_index_entries_near_the_place() -> None:
    # Given many open cases all over the place, each in its own index entry
    app = _app()
    with app.unit() as tx:
        for n in range(300):
            lat, lon = 25.0 + (n % 20) * 0.01, 118.0 + (n // 20) * 0.01
            reports.submit(
                tx, app, reports.Draft(reporter_id=f"r{n}", category="noise", lat=lat, lon=lon), NOW
            )
    with app.store.snapshot() as tx:
        keys = index.search_keys("noise", "", geo.Point(25.0, 118.0), 100.0)
        # Then a report's decision looks at 9 entries and one case, not 300
        assert len(keys) == 9 and len(index.candidates(tx, keys, NOW)) == 1
