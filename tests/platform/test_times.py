"""Times on pages: the UTC <time> the browser rewrites, and form times read in the typed zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from doorstep.errors import InvalidInput
from doorstep.platform.http.times import local_day, local_instant, time_tag

MOMENT = datetime(2026, 1, 15, 17, 30, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("style", "text", "stamp"),
    [
        ("minute", "2026-01-15 17:30 UTC", "2026-01-15T17:30Z"),
        ("second", "2026-01-15 17:30:05 UTC", "2026-01-15T17:30:05Z"),
        ("time", "17:30:05 UTC", "2026-01-15T17:30:05Z"),
        ("date", "2026-01-15", "2026-01-15T17:30Z"),
    ],
)
def test_a_time_is_said_in_utc_with_the_instant_for_the_browser(
    style: str, text: str, stamp: str
) -> None:
    tag = time_tag(MOMENT, style)
    assert tag == f'<time datetime="{stamp}" data-local="{style}">{text}</time>'


def test_an_instant_in_another_offset_is_said_in_utc() -> None:
    eastern = MOMENT.astimezone(timezone(timedelta(hours=-5)))
    assert 'datetime="2026-01-15T17:30Z"' in time_tag(eastern)
    assert time_tag("2026-01-15T17:30:05+00:00", "second").endswith(
        ">2026-01-15 17:30:05 UTC</time>"
    )
    assert time_tag(None) == ""
    assert time_tag("<not a time>") == "&lt;not a time&gt;"


def test_a_typed_time_is_read_in_the_zone_it_was_typed_in() -> None:
    # 09:30 in Los Angeles in January (PST, UTC-8) is 17:30 UTC; in July (PDT, UTC-7) 16:30.
    winter = local_instant("2026-01-15T09:30", "America/Los_Angeles", "window_start")
    summer = local_instant("2026-07-15T09:30", "America/Los_Angeles", "window_start")
    assert winter == datetime(2026, 1, 15, 17, 30, tzinfo=UTC)
    assert summer == datetime(2026, 7, 15, 16, 30, tzinfo=UTC)
    assert local_instant("2026-01-15T09:30", "UTC", "f") == datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
    # A value that names its offset keeps it; an empty field is no time at all.
    assert local_instant("2026-01-15T09:30Z", "Asia/Tokyo", "f") == datetime(
        2026, 1, 15, 9, 30, tzinfo=UTC
    )
    assert local_instant("  ", "America/Los_Angeles", "f") is None


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus_Mons", "../../etc/passwd", "a//b", "/etc/localtime", "x" * 65, "\x00"]
)
def test_an_unknown_zone_is_refused_by_name(zone: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        local_instant("2026-01-15T09:30", zone, "window_start")
    assert caught.value.field == "time_zone"


def test_a_time_that_is_not_one_is_refused_on_its_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        local_instant("yesterday", "UTC", "window_end")
    assert caught.value.field == "window_end"


def test_a_picked_day_begins_at_midnight_where_it_was_picked() -> None:
    assert local_day("2026-01-15", "America/Los_Angeles", "day") == datetime(
        2026, 1, 15, 8, tzinfo=UTC
    )
    assert local_day("2026-07-15", "America/Los_Angeles", "day") == datetime(
        2026, 7, 15, 7, tzinfo=UTC
    )
    assert local_day("2026-01-15", "UTC", "day") == datetime(2026, 1, 15, tzinfo=UTC)
    assert local_day("", "UTC", "day") is None
    with pytest.raises(InvalidInput) as caught:
        local_day("yesterday", "UTC", "day")
    assert caught.value.field == "day"
