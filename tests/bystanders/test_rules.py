"""Bystander request policy: area, window, description (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from doorstep.bystanders.rules import (
    DESCRIPTION_MAX_LENGTH,
    MAX_AGE,
    BystanderCounts,
    BystanderDraft,
    check_request,
    public_counts,
)
from doorstep.errors import InvalidInput, PolicyRefused
from doorstep.geo.cells import Coordinates
from doorstep.geo.geometry import Circle

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
PORTLAND = Coordinates(45.5236, -122.6771)


def _draft(
    radius_m: float = 200,
    start: datetime = NOW - timedelta(hours=2),
    end: datetime = NOW - timedelta(hours=1),
    description: str = "",
) -> BystanderDraft:
    return BystanderDraft(Circle(PORTLAND, radius_m), start, end, description)


def _reason(draft: BystanderDraft) -> str:
    with pytest.raises(PolicyRefused) as refused:
        check_request(draft, now=NOW)
    return str(refused.value.extra["reason"])


def test_a_small_past_request_reaches_the_cells_its_area_meets() -> None:
    checked = check_request(_draft(description="  red   coat,\n grey dog "), now=NOW)
    assert checked.cells
    assert 0 < checked.area_sq_mi < 0.5
    assert checked.description == "red coat, grey dog"


def test_an_area_over_half_a_square_mile_is_refused() -> None:
    assert _reason(_draft(radius_m=800)) == "area_too_large"


def test_a_window_over_twelve_hours_is_refused() -> None:
    assert _reason(_draft(start=NOW - timedelta(hours=13, minutes=1))) == "window_too_long"


def test_a_window_in_the_future_is_refused() -> None:
    assert _reason(_draft(end=NOW + timedelta(minutes=5))) == "window_not_past"


def test_a_window_older_than_any_clip_is_refused() -> None:
    start = NOW - MAX_AGE - timedelta(hours=2)
    assert _reason(_draft(start=start, end=start + timedelta(hours=1))) == "window_too_old"


def test_a_window_without_a_time_zone_or_backwards_is_bad_input() -> None:
    with pytest.raises(InvalidInput):
        check_request(_draft(start=datetime(2026, 12, 6, 10, 0)), now=NOW)
    with pytest.raises(InvalidInput):
        check_request(_draft(start=NOW - timedelta(hours=1), end=NOW - timedelta(hours=2)), now=NOW)


def test_a_long_description_is_bad_input() -> None:
    with pytest.raises(InvalidInput):
        check_request(_draft(description="x" * (DESCRIPTION_MAX_LENGTH + 1)), now=NOW)


def test_counts_below_k_are_withheld_zero_included() -> None:
    shown = public_counts(BystanderCounts(requests=7, asked=1, blurred=0, deleted=4), k=5)
    assert [shown.asked.label, shown.blurred.label, shown.deleted.label] == ["fewer than 5"] * 3
    assert shown.requests.at_least == 5
