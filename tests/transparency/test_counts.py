"""Coarse counts and near-duplicate requests: the pure rules behind what agencies may read."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorstep.requests.rules import TARGETING_RESOLUTION
from doorstep.settings import Settings
from doorstep.transparency import counts as disclosure_counts
from doorstep.transparency.counts import CountRange, coarse, near_duplicate, total


@pytest.mark.parametrize(
    ("n", "label"),
    [
        (0, "fewer than 5"),
        (1, "fewer than 5"),
        (4, "fewer than 5"),
        (5, "5–9"),
        (9, "5–9"),
        (13, "10–19"),
        (14, "10–19"),
        (20, "20–49"),
        (99, "50–99"),
        (100, "100–199"),
        (1234, "1,000–1,999"),
    ],
)
def test_buckets_for_k_5(n: int, label: str) -> None:
    assert coarse(n, 5).label == label


@given(st.integers(0, 10**7), st.integers(2, 1000))
def test_every_count_shows_as_a_range_that_holds_it_and_hides_small_ones(n: int, k: int) -> None:
    shown = coarse(n, k)
    assert shown.at_least <= n <= shown.at_most
    assert disclosure_counts.is_coarse(shown)
    # Every range is at least k wide.
    assert shown.at_most - shown.at_least + 1 >= k
    if n < k:
        assert shown == CountRange(0, k - 1, k)


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(2, 50))
def test_a_larger_count_never_shows_a_lower_range(a: int, b: int, k: int) -> None:
    low, high = sorted((a, b))
    assert coarse(low, k).at_least <= coarse(high, k).at_least


def test_totals_are_the_sums_of_what_each_shows() -> None:
    shown = [coarse(7, 5), coarse(1, 5), coarse(14, 5)]
    assert total(shown, 5) == CountRange(15, 32, 5)
    assert total([], 5) == CountRange(0, 4, 5)
    with pytest.raises(ValueError, match="another k"):
        total(shown, 6)


@given(st.integers(1, 60), st.integers(1, 60), st.data())
def test_near_duplicates_are_symmetric_and_never_identical(
    new: int, earlier: int, data: st.DataObject
) -> None:
    shared = data.draw(st.integers(0, min(new, earlier)))
    assert near_duplicate(new, earlier, shared) == near_duplicate(earlier, new, shared)
    if new == earlier == shared:
        assert not near_duplicate(new, earlier, shared)
    if shared == 0:
        assert not near_duplicate(new, earlier, shared)


def test_one_cell_more_or_less_is_a_near_duplicate() -> None:
    assert near_duplicate(2, 1, 1)
    assert near_duplicate(7, 8, 7)
    assert near_duplicate(6, 6, 5)
    # Half their cells apart: the difference is as large as what they share.
    assert not near_duplicate(4, 4, 1)
    with pytest.raises(ValueError, match="at most"):
        near_duplicate(2, 2, 3)


def test_requests_target_at_the_public_cell_resolution() -> None:
    # Cameras' cells are stored at the public resolution; requests list theirs at the same one.
    assert Settings.model_fields["public_cell_resolution"].default == TARGETING_RESOLUTION
