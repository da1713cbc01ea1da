"""Camera settings rules: zones, quiet hours, alert modes."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from doorstep.cameras.rules import (
    check_zones,
    in_quiet_hours,
    parse_quiet_time,
    parse_zone_text,
    zone_text,
)
from doorstep.errors import InvalidInput

SQUARE = [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5], [0.1, 0.5]]


def test_valid_zones_round_trip_through_text() -> None:
    zones = check_zones([SQUARE, [[0, 0], [1, 0], [1, 1]]], field="zones")
    assert parse_zone_text(zone_text(zones), field="zones") == zones


@pytest.mark.parametrize(
    "zones",
    [
        "not a list",
        [[[0, 0], [1, 1]]],
        [[[0, 0], [0.5, 0.5], [1, 1]]],
        [[[0, 0], [2, 0], [1, 1]]],
        [[[0, 0], [float("nan"), 0], [1, 1]]],
        [[[0, 0], ["a", 0], [1, 1]]],
        [[[0, 0], [True, 0], [1, 1]]],
        [[[0, 0, 0], [1, 0], [1, 1]]],
        [SQUARE] * 33,
        [[[0.0, 0.0]] * 65],
    ],
)
def test_malformed_zones_are_refused(zones: Any) -> None:
    with pytest.raises(InvalidInput):
        check_zones(zones, field="zones")


@pytest.mark.parametrize("text", ["0,0 1,0", "a,b c,d e,f", "0,0 1,0 1"])
def test_malformed_zone_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_zone_text(text, field="zones")


def test_blank_zone_text_is_no_zones() -> None:
    assert parse_zone_text("  \n ", field="zones") == []


def test_quiet_hours_can_run_past_midnight() -> None:
    assert in_quiet_hours(time(23, 0), "22:00", "06:30")
    assert in_quiet_hours(time(5, 0), "22:00", "06:30")
    assert not in_quiet_hours(time(12, 0), "22:00", "06:30")
    assert in_quiet_hours(time(13, 0), "12:00", "14:00")
    assert not in_quiet_hours(time(13, 0), None, None)


def test_quiet_time_must_be_a_time() -> None:
    assert parse_quiet_time(" 7:05 ".replace(" 7", "07"), field="q") == "07:05"
    assert parse_quiet_time("", field="q") is None
    with pytest.raises(InvalidInput):
        parse_quiet_time("25:00", field="q")
