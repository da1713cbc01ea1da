"""The owner's redacted previews: the made ones, and the jobs making them with how far they got."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from doorstep.requests.models import ClipPreview, PreviewJob, PreviewState, RfaRecipient


def clip_preview(db: Session, clip_id: str) -> ClipPreview | None:
    """The redacted preview already made of a clip, if any."""
    return db.get(ClipPreview, clip_id)


def add_clip_preview(db: Session, preview: ClipPreview) -> bool:
    """Keep a newly made preview; False when another run kept one for the clip first."""
    try:
        with db.begin_nested():
            db.add(preview)
    except IntegrityError:
        return False
    return True


def preview_job(db: Session, clip_id: str) -> PreviewJob | None:
    """The job making the clip's preview, while there is one."""
    return db.get(PreviewJob, clip_id)


def queue_preview(db: Session, clip_id: str, now: datetime, stale_before: datetime) -> bool:
    """Mark the clip's preview queued; True when a job must be sent for it.

    Nothing to send when the preview is made, or a job is queued or running and was heard from
    since ``stale_before``. A failed job, or one lost with its process, is queued again.
    """
    if clip_preview(db, clip_id) is not None:
        return False
    job = preview_job(db, clip_id)
    if job is None:
        try:
            with db.begin_nested():
                db.add(PreviewJob(clip_id=clip_id, state=PreviewState.QUEUED, updated_at=now))
        except IntegrityError:
            # Another request queued it at the same moment.
            return False
        return True
    if job.state != PreviewState.FAILED and job.updated_at >= stale_before:
        return False
    job.state, job.progress, job.updated_at = PreviewState.QUEUED, 0.0, now
    db.flush()
    return True


def _changed(db: Session, statement: Any) -> int:
    return cast(CursorResult[Any], db.execute(statement)).rowcount


def claim_preview(db: Session, clip_id: str, now: datetime, stale_before: datetime) -> bool:
    """Take the queued job (or one whose runner went silent); False when another run has it."""
    statement = (
        update(PreviewJob)
        .where(
            PreviewJob.clip_id == clip_id,
            or_(
                PreviewJob.state == PreviewState.QUEUED,
                (PreviewJob.state == PreviewState.RUNNING) & (PreviewJob.updated_at < stale_before),
            ),
        )
        .values(state=PreviewState.RUNNING, progress=0.0, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return _changed(db, statement) == 1


def preview_progress(db: Session, clip_id: str, fraction: float, now: datetime) -> None:
    """Record how far the running job got."""
    statement = (
        update(PreviewJob)
        .where(PreviewJob.clip_id == clip_id, PreviewJob.state == PreviewState.RUNNING)
        .values(progress=fraction, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.execute(statement)


def fail_preview(db: Session, clip_id: str, now: datetime) -> None:
    """The job gave up; the owner's next look queues it again."""
    statement = (
        update(PreviewJob)
        .where(PreviewJob.clip_id == clip_id)
        .values(state=PreviewState.FAILED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.execute(statement)


def finish_preview(db: Session, clip_id: str) -> None:
    """The preview is made: its job row goes (a ``ClipPreview`` row now says ready)."""
    db.execute(
        delete(PreviewJob)
        .where(PreviewJob.clip_id == clip_id)
        .execution_options(synchronize_session=False)
    )


def asked_owner_ids(db: Session, rfa_id: str) -> list[str]:
    """Every owner a request reached."""
    query = select(RfaRecipient.owner_id).where(RfaRecipient.rfa_id == rfa_id)
    return sorted(db.scalars(query))
