"""Still photos for Neighbors posts: check a file really is an image, and strip its metadata."""

from __future__ import annotations

import cv2
import numpy as np

from doorstep.errors import UnsupportedMedia

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


def _decode(data: bytes) -> np.ndarray:
    if _format_of(data) is None:
        raise UnsupportedMedia("a photo must be a JPEG, PNG or WebP image")
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
