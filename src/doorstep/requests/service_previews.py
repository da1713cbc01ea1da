"""The owner's redacted preview as a background job, with a state any API process can read.

A Request for Assistance queues the previews of the clips it asks about once it is committed, so
they are usually made before the owner looks. The preview route never redacts: it queues the job
if needed and waits, polling the job's row, for a bounded time. The job records how far it got
(``media.redact``'s progress callback) and, when it gives up, that it failed.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.clips.models import Clip
from doorstep.platform.db import Database
from doorstep.platform.keys import Keys
from doorstep.platform.queue import core as queue
from doorstep.platform.types import utcnow
from doorstep.requests import store
from doorstep.requests.models import ClipPreview, PreviewState, Rfa
from doorstep.requests.schemas import PreviewStatus
from doorstep.requests.service_consent import preview_clip
from doorstep.requests.service_copies import (
    POLL_SECONDS,
    PREVIEW_STALE_AFTER,
    claimed_preview,
)

log = logging.getLogger(__name__)

#: Make one clip's preview.
PREVIEW_MAKE = "preview_make"
#: Queue the previews of every clip a request asks about.
PREVIEW_REQUEST = "preview_request"
#: How long the preview route waits for the job before answering 202.
PREVIEW_WAIT_SECONDS = 60.0
#: What a 202 tells the client to wait before asking again.
RETRY_AFTER_SECONDS = 2


def _status(db: Session, clip_id: str) -> PreviewStatus:
    if store.clip_preview(db, clip_id) is not None:
        return PreviewStatus(state="ready", progress=1.0)
    job = store.preview_job(db, clip_id)
    if job is None:
        return PreviewStatus(state="queued", progress=0.0)
    state = PreviewState(job.state)
    progress = min(1.0, max(0.0, job.progress))
    if state == PreviewState.QUEUED:
        return PreviewStatus(state="queued", progress=0.0)
    if state == PreviewState.RUNNING:
        return PreviewStatus(state="running", progress=progress)
    return PreviewStatus(state="failed", progress=progress)


def preview_status(db: Session, owner: User, rfa_id: str, clip_id: str) -> PreviewStatus:
    """Where the preview of one of the owner's clips inside a request stands; queues nothing."""
    return _status(db, preview_clip(db, owner, rfa_id, clip_id).id)


def preview_states(db: Session, clip_ids: list[str]) -> dict[str, PreviewStatus]:
    """Where each clip's preview stands (for a page listing the clips of a request)."""
    return {clip_id: _status(db, clip_id) for clip_id in clip_ids}


def _queue(db: Session, clip_id: str) -> bool:
    now = utcnow()
    return store.queue_preview(db, clip_id, now, now - PREVIEW_STALE_AFTER)


def ready_preview(
    db: Session, owner: User, rfa_id: str, clip_id: str, *, wait: float | None = None
) -> ClipPreview | PreviewStatus:
    """The preview once it is made, waiting up to ``wait`` seconds; else where it stands.

    Queues the job when none is queued or running (a failed one is tried again), commits so a
    worker sees it, then reads the job's row until it is made or failed, for ``wait`` seconds
    (``PREVIEW_WAIT_SECONDS`` unless given). Never redacts here.
    """
    clip = preview_clip(db, owner, rfa_id, clip_id)
    made = store.clip_preview(db, clip.id)
    if made is not None:
        return made
    if _queue(db, clip.id):
        queue.send_after_commit(db, PREVIEW_MAKE, clip.id)
    db.commit()
    deadline = time.monotonic() + (PREVIEW_WAIT_SECONDS if wait is None else wait)
    while True:
        status = _status(db, clip_id)
        if status.state == "ready":
            made = store.clip_preview(db, clip_id)
            assert made is not None
            return made
        # Ends the read, so the next one sees what the job committed since.
        db.commit()
        if status.state == "failed" or time.monotonic() >= deadline:
            return status
        time.sleep(POLL_SECONDS)


def queue_request_previews(database: Database, rfa_id: str) -> list[str]:
    """Queue the preview of every clip a request asks about; returns the clips to send jobs for."""
    queued = []
    with database.session() as db:
        rfa = db.get(Rfa, rfa_id)
        if rfa is None:
            return []
        for owner_id in store.asked_owner_ids(db, rfa_id):
            owner = db.get(User, owner_id)
            if owner is None:
                continue
            queued += [
                clip.id for clip in store.clips_in_request(db, owner, rfa) if _queue(db, clip.id)
            ]
    return queued


def make_preview(database: Database, keys: Keys, clip_id: str) -> bool:
    """Make a clip's preview; True when this run made it, False when nothing was to do or it failed.

    Safe to run twice: only the run that claims the queued job works on it. A failure is recorded
    as the job's state (the owner's next look tries again), not raised to be retried blindly.
    """
    now = utcnow()
    with database.session() as db:
        if not store.claim_preview(db, clip_id, now, now - PREVIEW_STALE_AFTER):
            return False
    with database.session() as db:
        clip = db.get(Clip, clip_id)
        if clip is None or clip.wrapped_key is None:
            # Deleted meanwhile: nothing is left to preview.
            store.finish_preview(db, clip_id)
            return False
        try:
            claimed_preview(database, db, keys, clip)
        except Exception:
            log.exception("preview of clip %s failed", clip_id)
            return False
    return True
