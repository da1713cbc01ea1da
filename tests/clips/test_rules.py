from datetime import UTC, datetime, timedelta

import pytest

from doorstep.clips.rules import (
    DEFAULT_RETENTION_DAYS,
    RETENTION_CHOICES,
    allowed_choices,
    check_retention,
    expires_at,
    is_expired,
)
from doorstep.errors import InvalidInput

RECORDED = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)


def test_choices_and_default_match_the_policy() -> None:
    assert RETENTION_CHOICES == (1, 3, 7, 14, 21, 30, 60, 90, 120, 180)
    assert DEFAULT_RETENTION_DAYS == 30


@pytest.mark.parametrize("country", ["DE", "fr", "GB", "IE", "NO"])
def test_eu_and_uk_owners_keep_clips_at_most_thirty_days(country: str) -> None:
    assert allowed_choices(country) == (1, 3, 7, 14, 21, 30)
    assert check_retention(30, country) == 30
    with pytest.raises(InvalidInput):
        check_retention(60, country)


@pytest.mark.parametrize("days", RETENTION_CHOICES)
def test_elsewhere_every_choice_is_allowed(days: int) -> None:
    assert check_retention(days, "US") == days


@pytest.mark.parametrize("days", [0, 2, 31, 181, 365, -1])
def test_other_periods_are_refused(days: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_retention(days, "US")
    assert caught.value.field == "retention_days"


def test_booleans_are_not_days() -> None:
    with pytest.raises(InvalidInput):
        check_retention(True, "US")


def test_expiry_is_recorded_time_plus_days() -> None:
    assert expires_at(RECORDED, 7) == RECORDED + timedelta(days=7)


@pytest.mark.parametrize(
    ("now", "expired"),
    [
        (RECORDED + timedelta(days=7) - timedelta(seconds=1), False),
        (RECORDED + timedelta(days=7), True),
        (RECORDED + timedelta(days=8), True),
    ],
)
def test_a_clip_expires_exactly_at_its_retention(now: datetime, expired: bool) -> None:
    assert is_expired(RECORDED, 7, now) is expired


def test_naive_times_and_unknown_periods_are_refused() -> None:
    with pytest.raises(InvalidInput):
        expires_at(RECORDED.replace(tzinfo=None), 7)
    with pytest.raises(InvalidInput):
        expires_at(RECORDED, 5)
    with pytest.raises(InvalidInput):
        is_expired(RECORDED, 7, datetime(2026, 4, 1))
