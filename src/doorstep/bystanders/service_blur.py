"""Blurring a clip for a bystander: faces hidden in the stored clip, the original shredded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.orm import Session

from doorstep.clips import service as clips
from doorstep.clips.models import Clip
from doorstep.clips.service_replace import replace_footage
from doorstep.platform.keys import Keys
from doorstep.platform.scratch import scratch_folder


def _write(pieces: Iterator[bytes], path: Path) -> Path:
    with path.open("wb") as handle:
        for piece in pieces:
            handle.write(piece)
    return path


def blur_clip(db: Session, keys: Keys, clip: Clip) -> Clip:
    """Replace the owner's clip with one whose faces are hidden; returns the new clip."""
    # Imported here: only media/ loads the codecs and the face model, and only when needed.
    from doorstep.media.blur import blur_footage

    with scratch_folder(keys, "blur") as folder:
        original = _write(clips.read_video(db, keys, clip), folder / "original.mp4")
        blurred = folder / "blurred.mp4"
        made = blur_footage(original, blurred)
        return replace_footage(
            db,
            keys,
            clip,
            video=blurred,
            snapshot=made.snapshot,
            width=made.width,
            height=made.height,
        )
