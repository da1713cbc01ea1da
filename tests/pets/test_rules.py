"""Lost-pet rules: the window, the area and which clips a notice may ever list; pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from doorstep.errors import InvalidInput, PolicyRefused
from doorstep.geo.cells import Coordinates
from doorstep.geo.geometry import Circle
from doorstep.pets.rules import (
    MAX_WINDOW,
    NoticeDraft,
    check_notice,
    closes_at,
    is_open,
    shows_animal,
)

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
HOME = Coordinates(45.5236, -122.6771)


def _draft(**overrides: object) -> NoticeDraft:
    fields: dict[str, object] = {
        "species": "cat",
        "name": "",
        "description": "Grey tabby, shy.",
        "area": Circle(HOME, 300),
        "start": NOW - timedelta(hours=3),
        "end": NOW - timedelta(hours=1),
    }
    fields.update(overrides)
    return NoticeDraft(**fields)  # type: ignore[arg-type]


def _reason(draft: NoticeDraft) -> str:
    with pytest.raises(PolicyRefused) as refused:
        check_notice(draft, now=NOW, resolution=8)
    return str(refused.value.extra["reason"])


def test_a_good_notice_reaches_the_cells_its_area_meets() -> None:
    checked = check_notice(_draft(), now=NOW, resolution=8)
    assert checked.cells
    assert 0 < checked.area_sq_mi < 0.5


def test_the_window_is_at_most_72_hours_and_already_past() -> None:
    assert check_notice(_draft(start=NOW - MAX_WINDOW, end=NOW), now=NOW, resolution=8)
    long = _draft(start=NOW - MAX_WINDOW - timedelta(minutes=1), end=NOW)
    assert _reason(long) == "window_too_long"
    assert _reason(_draft(end=NOW + timedelta(minutes=1))) == "window_not_past"
    old = _draft(start=NOW - timedelta(days=8), end=NOW - timedelta(days=7, seconds=1))
    assert _reason(old) == "window_too_old"
    with pytest.raises(InvalidInput):
        check_notice(_draft(end=NOW - timedelta(hours=4)), now=NOW, resolution=8)


def test_the_area_is_at_most_half_a_square_mile() -> None:
    assert _reason(_draft(area=Circle(HOME, 1000))) == "area_too_large"


def test_species_and_description_are_checked() -> None:
    with pytest.raises(InvalidInput):
        check_notice(_draft(species="parrot"), now=NOW, resolution=8)
    with pytest.raises(InvalidInput):
        check_notice(_draft(description=" "), now=NOW, resolution=8)


def test_a_notice_closes_seven_days_after_its_window_or_when_closed() -> None:
    end = NOW - timedelta(hours=1)
    assert is_open(end, None, NOW)
    assert not is_open(end, NOW, NOW)
    assert not is_open(end, None, closes_at(end))


def test_only_clips_with_an_animal_are_ever_listed() -> None:
    assert shows_animal(["animal", "person"])
    assert not shows_animal(["person", "vehicle"])
    assert not shows_animal([])
