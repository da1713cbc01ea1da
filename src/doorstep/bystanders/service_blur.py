"""Blurring a clip for a bystander, on the task queue: faces hidden in the stored clip.

An owner's "blur" answer only records the answer and queues one job per clip once it commits
(``queue_blur``). The job decodes, finds faces and encodes with no transaction open, then, in
one short transaction, keeps the blurred clip in place of the original (shredded) and counts it
on the owner's answer. A job that fails leaves the original as it was and its count unchanged;
the queue tries it again, and a run after the clip was blurred, deleted or expired does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.orm import Session

from doorstep.bystanders import store
from doorstep.clips import service as clips
from doorstep.clips.models import Clip
from doorstep.clips.service_replace import replace_footage
from doorstep.platform.db import Database
from doorstep.platform.keys import Keys
from doorstep.platform.queue import core as queue
from doorstep.platform.scratch import scratch_folder

log = logging.getLogger(__name__)

#: The blur job's task name on the queue (registered by ``bystanders.jobs``).
BLUR_CLIP = "bystander_blur"


def queue_blur(db: Session, request_id: str, owner_id: str, clip_id: str) -> None:
    """Blur the clip on the task queue once the owner's answer has committed."""
    queue.send_after_commit(db, BLUR_CLIP, request_id, owner_id, clip_id)


def _write(pieces: Iterator[bytes], path: Path) -> Path:
    with path.open("wb") as handle:
        for piece in pieces:
            handle.write(piece)
    return path


def _blurrable(db: Session, owner_id: str, clip_id: str, *, lock: bool = False) -> Clip | None:
    """The owner's clip while it still holds footage the server can blur; None otherwise."""
    clip = db.get(Clip, clip_id, with_for_update=lock)
    if clip is None or clip.owner_id != owner_id or clip.wrapped_key is None or clip.e2e:
        return None
    return clip


def blur_for_request(
    database: Database, keys: Keys, request_id: str, owner_id: str, clip_id: str
) -> bool:
    """Blur one clip an owner chose for a bystander request; True when this run blurred it."""
    # Imported here: only media/ loads the codecs and the face model, and only when needed.
    from doorstep.media.blur import blur_footage

    with scratch_folder(keys, "blur") as folder:
        with database.session() as db:
            clip = _blurrable(db, owner_id, clip_id)
            if clip is None or not store.answered_by(db, request_id, owner_id):
                return False
            wrapped_key = clip.wrapped_key
            original = _write(clips.read_video(db, keys, clip), folder / "original.mp4")
        # No transaction is open while the footage is decoded, searched and encoded again.
        blurred = folder / "blurred.mp4"
        made = blur_footage(original, blurred)
        replaced: Clip | None = None
        try:
            with database.session() as db:
                clip = _blurrable(db, owner_id, clip_id, lock=True)
                if clip is None or clip.wrapped_key != wrapped_key:
                    # Deleted, expired or blurred by another run meanwhile: nothing left to do.
                    return False
                replaced = replace_footage(
                    db,
                    keys,
                    clip,
                    video=blurred,
                    snapshot=made.snapshot,
                    width=made.width,
                    height=made.height,
                )
                store.count_blurred(db, request_id, owner_id)
        except BaseException:
            # The original stays (its shredding rolled back); the blurred copy's sealed bytes,
            # whose row never landed, must not stay behind.
            if replaced is not None:
                keys.blobs.delete(replaced.video_key)
                keys.blobs.delete(replaced.snapshot_key)
            raise
    # No ids: which request an owner's clip was blurred for is nobody's to read in the logs.
    log.info("bystander request: a clip blurred")
    return True
