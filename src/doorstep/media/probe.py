"""Check uploads by opening them: a clip must decode as video, a snapshot as an image."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt

from doorstep.errors import UnsupportedMedia


@dataclass(frozen=True, slots=True)
class ClipProbe:
    """What an uploaded clip turned out to be."""

    codec: str
    width: int
    height: int
    duration_s: float
    has_audio: bool


def probe_clip(path: Path) -> ClipProbe:
    """Open an uploaded MP4 and decode its first frame; anything else is UnsupportedMedia."""
    try:
        with av.open(str(path), mode="r") as container:
            if container.format.name.split(",")[0] not in {"mov", "mp4", "m4a", "3gp"}:
                raise UnsupportedMedia("a clip must be an MP4 file")
            if not container.streams.video:
                raise UnsupportedMedia("the file has no video stream")
            stream = container.streams.video[0]
            frame = next(container.decode(stream), None)
            if frame is None:
                raise UnsupportedMedia("the video has no frames that decode")
            duration = float(container.duration / av.time_base) if container.duration else 0.0
            return ClipProbe(
                codec=stream.codec_context.name,
                width=frame.width,
                height=frame.height,
                duration_s=duration,
                has_audio=bool(container.streams.audio),
            )
    except (av.FFmpegError, StopIteration, UnicodeDecodeError) as err:
        raise UnsupportedMedia("the clip is damaged or not a video") from err


#: The largest snapshot side and area accepted: a 4K camera fits, a decompression bomb does not.
MAX_JPEG_SIDE = 8192
MAX_JPEG_PIXELS = 4096 * 4096
#: Start-of-frame markers (SOF0..SOF15 but DHT, JPG and DAC, which share the range).
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
#: Markers that stand alone, without a length: TEM and the restart markers.
_BARE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})


def jpeg_size(data: bytes) -> tuple[int, int]:
    """Width and height as the JPEG's frame header (SOFn) declares them, without decoding.

    Walks the marker segments up to the first frame header; anything malformed before it, a
    missing header or a height left to a later DNL marker is UnsupportedMedia.
    """
    if not data.startswith(b"\xff\xd8"):
        raise UnsupportedMedia("a snapshot must be a JPEG image")
    at = 2
    while at + 1 < len(data):
        if data[at] != 0xFF:
            break
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte before a marker
            at += 1
            continue
        at += 2
        if marker in _BARE_MARKERS:
            continue
        if marker in {0xD8, 0xD9, 0xDA} or at + 2 > len(data):
            break  # a second start, the end or the scan before any frame header
        length = int.from_bytes(data[at : at + 2], "big")
        if length < 2:
            break
        if marker in _SOF_MARKERS:
            if length < 8 or at + 7 > len(data):
                break
            height = int.from_bytes(data[at + 3 : at + 5], "big")
            width = int.from_bytes(data[at + 5 : at + 7], "big")
            if not width or not height:
                break
            return width, height
        at += length
    raise UnsupportedMedia("the snapshot is damaged")


def check_jpeg(data: bytes) -> tuple[int, int]:
    """Decode a snapshot and return its size; anything that is not a JPEG is refused.

    The size its header declares is checked first: a few hundred bytes may claim a frame whose
    decoding takes gigabytes, so one over ``MAX_JPEG_SIDE`` or ``MAX_JPEG_PIXELS`` is refused
    before anything is decoded.
    """
    width, height = jpeg_size(data)
    if max(width, height) > MAX_JPEG_SIDE or width * height > MAX_JPEG_PIXELS:
        raise UnsupportedMedia(
            f"a snapshot may be at most {MAX_JPEG_SIDE} pixels a side and "
            f"{MAX_JPEG_PIXELS // 1_000_000} megapixels; this one claims {width}x{height}"
        )
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise UnsupportedMedia("the snapshot is damaged")
    decoded_height, decoded_width = image.shape[:2]
    return int(decoded_width), int(decoded_height)


def encode_preview(image: npt.NDArray[np.uint8], *, width: int = 640, quality: int = 70) -> bytes:
    """A JPEG of ``image`` no wider than ``width``, for live view."""
    height, current = image.shape[:2]
    small = image
    if current > width:
        size = (width, round(height * width / current))
        small = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    ok, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise UnsupportedMedia("the frame could not be encoded as JPEG")
    return bytes(encoded.tobytes())


def strip_audio(path: Path) -> None:
    """Rewrite an MP4 in place with its video stream only (copied, not re-encoded)."""
    stripped = path.with_suffix(".video-only.mp4")
    try:
        with (
            av.open(str(path)) as source,
            av.open(str(stripped), mode="w", options={"movflags": "+faststart"}) as target,
        ):
            video = source.streams.video[0]
            out = target.add_stream_from_template(video)
            for packet in source.demux(video):
                if packet.dts is None:
                    continue
                packet.stream = out
                target.mux(packet)
        stripped.replace(path)
    except av.FFmpegError as err:
        raise UnsupportedMedia("the clip's audio could not be removed") from err
    finally:
        stripped.unlink(missing_ok=True)
