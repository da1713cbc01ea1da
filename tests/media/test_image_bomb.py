"""A Neighbors photo whose header claims an enormous frame is refused before it is decoded."""

from __future__ import annotations

import zlib

import cv2
import numpy as np
import pytest

from doorstep.errors import UnsupportedMedia
from doorstep.media.image import MAX_PIXELS, clean_photo, declared_size
from tests.media.test_probe_jpeg import _claiming

SIDE = 30_000  # 900 MP, 2.5 GiB once decoded
assert SIDE * SIDE > MAX_PIXELS


def _encoded(extension: str, *params: int) -> bytes:
    image = np.full((96, 160, 3), 120, dtype=np.uint8)
    ok, encoded = cv2.imencode(extension, image, list(params))
    assert ok
    return bytes(encoded.tobytes())


def _png_claiming(side: int) -> bytes:
    data = bytearray(_encoded(".png"))
    data[16:24] = side.to_bytes(4, "big") * 2
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")  # a valid header, CRC too
    return bytes(data)


def _webp_claiming(side: int) -> bytes:
    data = bytearray(_encoded(".webp", cv2.IMWRITE_WEBP_QUALITY, 80))
    assert data[12:16] == b"VP8 "
    data[26:30] = side.to_bytes(2, "little") * 2
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (_encoded(".jpg"), "JPEG"),
        (_encoded(".png"), "PNG"),
        (_encoded(".webp", cv2.IMWRITE_WEBP_QUALITY, 80), "WebP"),
        (_encoded(".webp", cv2.IMWRITE_WEBP_QUALITY, 101), "WebP"),
    ],
    ids=["jpeg", "png", "webp-lossy", "webp-lossless"],
)
def test_the_declared_size_is_read_from_the_header(data: bytes, kind: str) -> None:
    assert declared_size(data, kind) == (160, 96)
    assert clean_photo(data).startswith(b"\xff\xd8")


@pytest.mark.parametrize(
    "bomb",
    [_claiming(SIDE, SIDE), _png_claiming(SIDE), _webp_claiming(16_000)],
    ids=["jpeg", "png", "webp"],
)
def test_a_bomb_is_refused_by_its_header_without_decoding(
    bomb: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*_: object) -> None:
        raise AssertionError("a bomb was handed to the decoder")

    monkeypatch.setattr(cv2, "imdecode", never)
    with pytest.raises(UnsupportedMedia, match="too many pixels"):
        clean_photo(bomb)


def test_a_header_that_cannot_be_read_is_refused() -> None:
    with pytest.raises(UnsupportedMedia, match="damaged"):
        clean_photo(b"RIFF\x00\x00\x00\x00WEBPVP8?")
