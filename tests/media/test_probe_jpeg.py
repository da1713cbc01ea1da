"""Snapshots are checked by their declared size before any decoding: no decompression bombs."""

from __future__ import annotations

import resource

import pytest

from doorstep.errors import UnsupportedMedia
from doorstep.media.probe import check_jpeg, jpeg_size
from tests.samples import tiny_jpeg


def _claiming(width: int, height: int) -> bytes:
    """The small sample JPEG with its frame header rewritten to claim ``width`` x ``height``."""
    data = bytearray(tiny_jpeg())
    at = data.find(b"\xff\xc0")
    assert at > 0
    data[at + 5 : at + 7] = height.to_bytes(2, "big")
    data[at + 7 : at + 9] = width.to_bytes(2, "big")
    return bytes(data)


def test_a_snapshot_reports_its_size() -> None:
    assert jpeg_size(tiny_jpeg()) == (160, 96)
    assert check_jpeg(tiny_jpeg()) == (160, 96)


def test_a_decompression_bomb_is_refused_before_it_is_decoded() -> None:
    bomb = _claiming(16000, 16000)
    assert len(bomb) < 2000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(UnsupportedMedia, match="16000x16000"):
        check_jpeg(bomb)
    # Decoding it would have taken about 750 MiB for the pixels alone.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024


@pytest.mark.parametrize(("width", "height"), [(9000, 100), (100, 9000), (4100, 4100)])
def test_too_wide_too_tall_or_too_many_pixels_is_refused(width: int, height: int) -> None:
    with pytest.raises(UnsupportedMedia, match="at most"):
        check_jpeg(_claiming(width, height))


@pytest.mark.parametrize(
    "data",
    [
        b"not a jpeg",
        b"\xff\xd8",
        b"\xff\xd8\xff\xda\x00\x08whatever",  # a scan before any frame header
        b"\xff\xd8\xff\xe0\x00\x01",  # a segment length that cannot be
        b"\xff\xd8\xff\xc0\x00\x11\x08\x00",  # a frame header cut short
    ],
)
def test_a_malformed_header_is_refused(data: bytes) -> None:
    with pytest.raises(UnsupportedMedia):
        check_jpeg(data)


def test_a_height_left_to_a_later_marker_is_refused() -> None:
    with pytest.raises(UnsupportedMedia, match="damaged"):
        check_jpeg(_claiming(160, 0))
