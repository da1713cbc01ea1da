"""Footage made over by its owner's choice (faces blurred) kept in place of the original clip."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from doorstep.clips import store
from doorstep.clips.models import Clip
from doorstep.clips.store import ClipMeta
from doorstep.platform.keys import Keys


def replace_footage(
    db: Session, keys: Keys, clip: Clip, *, video: Path, snapshot: bytes, width: int, height: int
) -> Clip:
    """Keep ``video`` in place of ``clip``, which is shredded with every copy made from it.

    The original's key goes first; the new clip keeps its times, labels and event, and is sealed
    under a new key as an upload is. Its sound is dropped (a voice identifies too).
    """
    camera = clip.camera
    meta = ClipMeta(
        started_at=clip.started_at,
        ended_at=clip.ended_at,
        peak_motion=clip.peak_motion,
        labels=list(clip.labels),
        event_id=clip.event_id,
        segment=clip.segment,
        objects=list(clip.objects),
    )
    store.shred(db, keys, clip)
    replaced, _created = store.store_clip(
        db,
        keys,
        camera,
        meta,
        video=video,
        snapshot=snapshot,
        width=width,
        height=height,
        has_audio=False,
    )
    return replaced
