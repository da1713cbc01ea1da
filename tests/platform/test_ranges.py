"""Pieces of a file add up to what left: overlaps count once, adjoining pieces join."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorstep.errors import RangeNotSatisfiable
from doorstep.platform.ranges import (
    PLAYBACK_CHUNK,
    Interval,
    add_piece,
    bytes_covered,
    merge,
    parse_range,
    playback_span,
)


def test_pieces_that_meet_or_overlap_join() -> None:
    assert merge([(5, 9), (0, 4), (20, 29), (8, 12)]) == [(0, 12), (20, 29)]


def test_two_ranges_that_join_are_the_whole_file() -> None:
    coverage = add_piece([(0, 98)], (99, 99), 100)
    assert (coverage.before, coverage.after, coverage.whole, coverage.completed) == (
        99,
        100,
        True,
        True,
    )
    again = add_piece([(0, 98), (99, 99)], (0, 0), 100)
    assert again.whole
    assert not again.completed


def test_reading_the_same_piece_again_adds_nothing() -> None:
    assert bytes_covered([(0, 9), (0, 9), (3, 5)]) == 10


def test_playback_is_capped_and_a_plain_get_is_the_whole_file() -> None:
    size = 3 * PLAYBACK_CHUNK
    assert playback_span((10, size - 1), size) == (10, 10 + PLAYBACK_CHUNK - 1)
    assert playback_span((0, 99), size) == (0, 99)
    assert playback_span(None, size) == (0, size - 1)


pieces = st.lists(
    st.tuples(st.integers(0, 200), st.integers(0, 50)).map(lambda p: (p[0], p[0] + p[1])),
    max_size=30,
)


@given(pieces)
def test_covered_bytes_are_exactly_the_distinct_bytes_served(spans: list[Interval]) -> None:
    distinct = {byte for first, last in spans for byte in range(first, last + 1)}
    assert bytes_covered(spans) == len(distinct)
    joined = merge(spans)
    assert all(a[1] + 1 < b[0] for a, b in zip(joined, joined[1:], strict=False))


@given(pieces, st.integers(1, 260))
def test_the_whole_file_is_downloaded_exactly_when_every_byte_left(
    spans: list[Interval], size: int
) -> None:
    inside = [(first, min(last, size - 1)) for first, last in spans if first < size]
    if not inside:
        return
    *earlier, piece = inside
    distinct = {byte for first, last in inside for byte in range(first, last + 1)}
    assert add_piece(earlier, piece, size).whole == (len(distinct) == size)


def test_one_range_header_is_read_as_inclusive_bounds() -> None:
    assert parse_range(None, 10, what="the clip") is None
    assert parse_range("bytes=2-4", 10, what="the clip") == (2, 4)
    assert parse_range("bytes=8-", 10, what="the clip") == (8, 9)
    assert parse_range("bytes=-3", 10, what="the clip") == (7, 9)
    assert parse_range("bytes=5-99", 10, what="the clip") == (5, 9)
    for bad in ("bytes=10-", "bytes=4-2", "bytes=-", "bytes=0-1,3-4", "items=0-1"):
        with pytest.raises(RangeNotSatisfiable) as refused:
            parse_range(bad, 10, what="the base map")
        assert refused.value.extra == {"size": 10}
    with pytest.raises(RangeNotSatisfiable, match="the base map has 0 bytes"):
        parse_range("bytes=0-", 0, what="the base map")
