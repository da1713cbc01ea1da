"""Still photos for Neighbors posts: check a file really is an image, and strip its metadata."""

from __future__ import annotations

import cv2
import numpy as np

from doorstep.errors import UnsupportedMedia
from doorstep.media.probe import jpeg_size

#: The image formats a post may carry, by the bytes each file starts with.
_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
)
#: Photos larger than this on their long side are scaled down; nobody needs more on a feed.
MAX_SIDE = 2048
MAX_PIXELS = 50_000_000
JPEG_QUALITY = 88


def _format_of(data: bytes) -> str | None:
    for signature, name in _SIGNATURES:
        if data.startswith(signature):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    return None


def declared_size(data: bytes, image_format: str) -> tuple[int, int]:
    """Width and height as the file's header declares them, read without decoding anything."""
    try:
        if image_format == "JPEG":
            return jpeg_size(data)
        if image_format == "PNG" and data[12:16] == b"IHDR":
            return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        chunk = data[12:16]
        if chunk == b"VP8X" and len(data) >= 30:
            width = 1 + int.from_bytes(data[24:27], "little")
            return width, 1 + int.from_bytes(data[27:30], "little")
        if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a" and len(data) >= 30:
            width = int.from_bytes(data[26:28], "little") & 0x3FFF
            return width, int.from_bytes(data[28:30], "little") & 0x3FFF
        if chunk == b"VP8L" and data[20:21] == b"\x2f" and len(data) >= 25:
            bits = int.from_bytes(data[21:25], "little")
            return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    except UnsupportedMedia:
        pass
    raise UnsupportedMedia("the photo could not be decoded; it may be damaged")


def _decode(data: bytes) -> np.ndarray:
    image_format = _format_of(data)
    if image_format is None:
        raise UnsupportedMedia("a photo must be a JPEG, PNG or WebP image")
    # Checked before decoding: a few hundred bytes may claim a frame that takes gigabytes.
    width, height = declared_size(data, image_format)
    if width * height > MAX_PIXELS:
        raise UnsupportedMedia("the photo has too many pixels")
    try:
        # IMREAD_COLOR applies the EXIF orientation, so the re-encoded photo stays upright.
        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as err:
        raise UnsupportedMedia("the photo could not be decoded; it may be damaged") from err
    if image is None or image.size == 0:
        raise UnsupportedMedia("the photo could not be decoded; it may be damaged")
    height, width = image.shape[:2]
    if width * height > MAX_PIXELS:
        raise UnsupportedMedia("the photo has too many pixels")
    return image


def decode_image_size(data: bytes) -> tuple[int, int]:
    """Decode ``data`` as a JPEG, PNG or WebP image and return its (width, height)."""
    image = _decode(data)
    height, width = image.shape[:2]
    return int(width), int(height)


def clean_photo(data: bytes) -> bytes:
    """Decode a photo and re-encode it as a JPEG with no metadata (no EXIF, so no GPS)."""
    image = _decode(data)
    height, width = image.shape[:2]
    scale = MAX_SIDE / max(width, height)
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise UnsupportedMedia("the photo could not be re-encoded")
    return bytes(encoded.tobytes())
