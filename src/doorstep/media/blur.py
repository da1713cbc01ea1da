"""A clip made over with every face hidden, to be kept in place of the original."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from doorstep.errors import UnsupportedMedia
from doorstep.media.probe import encode_preview, probe_clip
from doorstep.media.redact import redact_file
from doorstep.media.source import open_source

#: Snapshots of a blurred clip are as wide as the video at most, and as good as a camera's.
SNAPSHOT_QUALITY = 85


@dataclass(frozen=True, slots=True)
class BlurredFootage:
    """The blurred video's shape and its new snapshot (a frame of the blurred video)."""

    width: int
    height: int
    has_audio: bool
    faces_found: int
    snapshot: bytes


def blur_footage(src: Path, dst: Path) -> BlurredFootage:
    """Write ``dst``: ``src`` with every face hidden (sound dropped), and a snapshot from it.

    The old snapshot may show the face too, so the new one is taken from the blurred video.
    """
    report = redact_file(src, dst, masks=(), audio=False)
    probed = probe_clip(dst)
    with open_source(dst) as source:
        first = next(iter(source.frames()), None)
    if first is None or first.image is None:
        raise UnsupportedMedia("the blurred clip has no frame to take a snapshot from")
    snapshot = encode_preview(first.image, width=probed.width, quality=SNAPSHOT_QUALITY)
    return BlurredFootage(
        width=probed.width,
        height=probed.height,
        has_audio=False,
        faces_found=report.faces_found,
        snapshot=snapshot,
    )
