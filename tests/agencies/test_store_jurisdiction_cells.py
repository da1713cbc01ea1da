"""A jurisdiction's cells: refused from an estimate before any are listed; public counts (I3)."""

from __future__ import annotations

from typing import Any

import h3
import pytest

from doorstep.errors import InvalidInput
from doorstep.geo import _geojson, geometry
from doorstep.geo import jurisdiction as agencies
from doorstep.requests.rules import PublicCounts, RfaCounts, public_counts, public_totals
from doorstep.transparency.counts import CountRange
from tests.agencies.test_api_jurisdiction_limits import CONTINENT


def _square(lat: float, lon: float, size: float) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _never(*_args: Any, **_kwargs: Any) -> Any:
    raise AssertionError("cells were listed before the size was checked")


def test_a_continent_is_refused_before_any_cell_is_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(geometry, "cells_covering", _never)
    monkeypatch.setattr(h3, "h3shape_to_cells", _never)
    with pytest.raises(InvalidInput, match="too large to map") as refused:
        agencies.cells_of(CONTINENT, 8)
    assert refused.value.field == "jurisdiction"
    assert refused.value.extra["estimated_cells"] > 1_000_000


def test_too_many_points_are_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    # The domain's one size check runs before a single ring is read.
    monkeypatch.setattr(_geojson, "_polygon_from_rings", _never)
    ring = [[-122.7 + i * 1e-6, 45.5 + (i % 2) * 1e-6] for i in range(20_000)]
    region = {"type": "MultiPolygon", "coordinates": [[[*ring, ring[0]]]] * 6}
    with pytest.raises(InvalidInput, match="at most 100,000 points"):
        agencies.cells_of(region, 8)


@pytest.mark.parametrize(
    ("lat", "lon", "size"),
    [
        (45.49, -122.72, 0.1),
        (45.0, -122.0, 1.0),
        (45.0, -122.0, 1.8),
        (0.0, 10.0, 1.5),
        (60, 10, 1),
    ],
)
def test_the_estimate_errs_low_so_a_real_jurisdiction_is_not_refused(
    lat: float, lon: float, size: float
) -> None:
    region = _square(lat, lon, size)
    estimate, box = agencies.estimated_cells(geometry.parse_geojson(region), 8)
    exact = agencies.cells_of(region, 8)
    assert len(exact) <= agencies.MAX_JURISDICTION_CELLS
    assert estimate <= len(exact)
    assert box <= agencies.MAX_BOUNDING_BOX_CELLS
    if len(exact) > 1_000:
        assert estimate >= 0.9 * len(exact)


def test_a_region_just_over_the_limit_is_refused_on_its_estimate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(geometry, "cells_covering", _never)
    with pytest.raises(InvalidInput, match="too large to map"):
        agencies.cells_of(_square(45.0, -122.0, 2.1), 8)


def test_a_hole_inside_its_polygon_is_accepted() -> None:
    outer = _square(45.49, -122.72, 0.1)["coordinates"][0]
    hole = [[-122.69, 45.51], [-122.68, 45.51], [-122.68, 45.52], [-122.69, 45.51]]
    cells = agencies.cells_of({"type": "Polygon", "coordinates": [outer, hole]}, 8)
    assert cells


def test_public_counts_withhold_every_count_below_k() -> None:
    withheld = CountRange(0, 4, 5)
    assert public_counts(RfaCounts(asked=1, shared=0, clips=0), 5).asked == withheld
    assert public_counts(RfaCounts(asked=0, shared=0, clips=0), 5).asked == withheld
    assert public_counts(RfaCounts(asked=4, shared=3, clips=7), 5) == PublicCounts(
        asked=withheld, shared=withheld, clips=CountRange(5, 9, 5), k=5
    )
    assert public_counts(RfaCounts(asked=14, shared=0, clips=0), 5).asked == CountRange(10, 19, 5)


def test_totals_add_up_only_what_is_shown() -> None:
    rows = [
        public_counts(RfaCounts(asked=7, shared=2, clips=3), 5),
        public_counts(RfaCounts(asked=1, shared=0, clips=0), 5),
    ]
    totals = public_totals(rows, 5)
    # 5-9 and 0-4: the total is 5-13 whatever the counts, 8 or 12.
    assert (totals.requests, totals.asked) == (2, CountRange(5, 13, 5))
    assert (totals.shared, totals.clips, totals.k) == (CountRange(0, 8, 5), CountRange(0, 8, 5), 5)
    with pytest.raises(ValueError, match="another k"):
        public_totals(rows, 6)
