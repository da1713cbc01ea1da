"""Camera settings rules: zones, quiet hours, alert modes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from doorstep.cameras.rules import (
    check_time_zone,
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


def _utc(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_quiet_hours_can_run_past_midnight() -> None:
    assert in_quiet_hours(_utc(1, 23), "22:00", "06:30")
    assert in_quiet_hours(_utc(1, 5), "22:00", "06:30")
    assert not in_quiet_hours(_utc(1, 12), "22:00", "06:30")
    assert in_quiet_hours(_utc(1, 13), "12:00", "14:00")
    assert not in_quiet_hours(_utc(1, 13), None, None)


def test_quiet_hours_are_read_on_the_camera_s_clock_across_daylight_saving() -> None:
    la = "America/Los_Angeles"
    # 22:00-07:00 in Los Angeles, not in UTC: 15:00 UTC is 07:00/08:00 there, awake.
    assert not in_quiet_hours(_utc(1, 15), "22:00", "07:00", la)
    # Winter (PST, UTC-8): 21:59 local is 05:59 UTC, 22:00 local is 06:00 UTC.
    assert not in_quiet_hours(_utc(7, 5, 59), "22:00", "07:00", la)
    assert in_quiet_hours(_utc(7, 6, 0), "22:00", "07:00", la)
    # Clocks go forward on 8 March 2026; summer (PDT, UTC-7): 22:00 local is 05:00 UTC.
    assert not in_quiet_hours(_utc(9, 4, 59), "22:00", "07:00", la)
    assert in_quiet_hours(_utc(9, 5, 0), "22:00", "07:00", la)
    # The night of the change: 06:59 PDT is 13:59 UTC (quiet), 07:00 PDT is 14:00 UTC (not).
    assert in_quiet_hours(_utc(8, 13, 59), "22:00", "07:00", la)
    assert not in_quiet_hours(_utc(8, 14, 0), "22:00", "07:00", la)
    # A naive instant is UTC, still read on the camera's clock.
    assert in_quiet_hours(datetime(2026, 3, 7, 6, 0), "22:00", "07:00", la)


def test_a_camera_s_time_zone_must_be_known() -> None:
    assert check_time_zone("") == "UTC"
    assert check_time_zone(" Europe/Paris ") == "Europe/Paris"
    for bad in ("Mars/Olympus", "../etc/passwd", "x" * 100):
        with pytest.raises(InvalidInput, match="time zone"):
            check_time_zone(bad)


def test_quiet_time_must_be_a_time() -> None:
    assert parse_quiet_time(" 7:05 ".replace(" 7", "07"), field="q") == "07:05"
    assert parse_quiet_time("", field="q") is None
    with pytest.raises(InvalidInput):
        parse_quiet_time("25:00", field="q")


def test_a_zone_whose_edges_cross_is_refused() -> None:
    bow_tie = [[0.1, 0.1], [0.6, 0.5], [0.6, 0.1], [0.1, 0.3]]
    with pytest.raises(InvalidInput, match="edges cross"):
        check_zones([bow_tie], field="motion_zones")
    # A concave zone whose edges touch only at their shared corners is fine.
    arrow = [[0.1, 0.1], [0.5, 0.3], [0.1, 0.5], [0.3, 0.3]]
    assert check_zones([arrow], field="motion_zones") == [arrow]
    # A point lying on a far edge is a crossing too.
    touching = [[0.1, 0.1], [0.5, 0.1], [0.3, 0.1], [0.3, 0.5]]
    with pytest.raises(InvalidInput):
        check_zones([touching], field="motion_zones")
