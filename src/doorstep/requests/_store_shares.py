"""Owners' answers and their shares: the queries behind the inbox and the disclosures page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.clips.models import Clip
from doorstep.errors import Conflict, NotFound
from doorstep.platform.types import utcnow
from doorstep.requests import consent
from doorstep.requests.models import ClipPreview, EvidenceAccess, Rfa, RfaRecipient, Share
from doorstep.requests.rules import ANSWER_WINDOW


def owner_requests(db: Session, owner: User) -> list[RfaRecipient]:
    """Requests that reached ``owner``, newest first."""
    query = (
        select(RfaRecipient)
        .join(Rfa, Rfa.id == RfaRecipient.rfa_id)
        .where(RfaRecipient.owner_id == owner.id)
        .order_by(Rfa.created_at.desc())
    )
    return list(db.scalars(query))


def recipient(db: Session, owner: User, rfa_id: str) -> RfaRecipient:
    """The owner's place on a request's list, or NotFound."""
    row = db.get(RfaRecipient, (rfa_id, owner.id))
    if row is None:
        raise NotFound("no such request among yours")
    return row


def answer_of(row: RfaRecipient) -> consent.OwnerAnswer:
    """The row as the domain's answer."""
    rfa = row.rfa
    respond_by = rfa.created_at + ANSWER_WINDOW
    if rfa.closed_at is not None:
        respond_by = min(respond_by, rfa.closed_at)
    return consent.OwnerAnswer(
        request_id=row.rfa_id,
        owner_id=row.owner_id,
        respond_by=respond_by,
        state=consent.AnswerState(row.state),
        answered_at=row.answered_at,
    )


def answer_state(row: RfaRecipient, now: datetime | None = None) -> consent.AnswerState:
    """Where the owner stands on the request now."""
    return consent.answer_state(answer_of(row), now or utcnow())


def clips_in_request(db: Session, owner: User, rfa: Rfa) -> list[Clip]:
    """The owner's clips from cameras in the request's cells that overlap the window, oldest first.

    The same rule as who is asked: a camera is in the request when its public cell is.
    """
    reached = set(rfa.cells)
    cameras = [camera.id for camera in owner.cameras if camera.cell in reached]
    if not cameras:
        return []
    query = select(Clip).where(
        Clip.camera_id.in_(cameras),
        Clip.owner_id == owner.id,
        Clip.started_at < rfa.window_end,
        Clip.ended_at > rfa.window_start,
        Clip.wrapped_key.is_not(None),
        Clip.e2e.is_(False),
    )
    return list(db.scalars(query.order_by(Clip.started_at)))


def decline(db: Session, row: RfaRecipient) -> RfaRecipient:
    """Decline a request; nothing the agency can read changes except that nobody shared."""
    answered = consent.decline(answer_of(row), utcnow())
    row.state = answered.state.value
    row.answered_at = answered.answered_at
    db.flush()
    return row


def mark_shared(db: Session, row: RfaRecipient) -> consent.OwnerAnswer:
    """Record that the owner agreed to share for this request."""
    answered = consent.share(answer_of(row), utcnow())
    row.state = answered.state.value
    row.answered_at = answered.answered_at
    db.flush()
    return answered


def share_domain(share: Share) -> consent.Share:
    """The row as the domain's share."""
    return consent.Share(
        share_id=share.id,
        request_id=share.rfa_id,
        owner_id=share.owner_id,
        created_at=share.created_at,
        expires_at=share.expires_at,
        state=consent.ShareState(share.state),
        changed_at=share.changed_at,
    )


def share_state(share: Share, now: datetime | None = None) -> consent.ShareState:
    """Where a share stands now, an active one past its end counted as expired."""
    return consent.share_state(share_domain(share), now or utcnow())


def is_preparing(share: Share) -> bool:
    """Whether the share's agency copy is still being made (open, but no key yet)."""
    return share.state == consent.ShareState.ACTIVE.value and share.wrapped_key is None


def preparing_shares(db: Session, created_before: datetime) -> list[str]:
    """Ids of shares still preparing that were opened before ``created_before``."""
    query = select(Share.id).where(
        Share.state == consent.ShareState.ACTIVE.value,
        Share.wrapped_key.is_(None),
        Share.created_at < created_before,
    )
    return list(db.scalars(query.order_by(Share.created_at)))


def owner_share(db: Session, owner: User, share_id: str) -> Share:
    """One of the owner's shares, or NotFound."""
    share = db.get(Share, share_id)
    if share is None or share.owner_id != owner.id:
        raise NotFound("no such share among yours")
    return share


def owner_shares(db: Session, owner: User) -> list[Share]:
    """Everything the owner ever shared, newest first."""
    query = select(Share).where(Share.owner_id == owner.id).order_by(Share.created_at.desc())
    return list(db.scalars(query))


def accesses_for(db: Session, share_ids: Sequence[str]) -> dict[str, list[EvidenceAccess]]:
    """Every view and download of some shares, oldest first."""
    result: dict[str, list[EvidenceAccess]] = {share_id: [] for share_id in share_ids}
    if not share_ids:
        return result
    query = (
        select(EvidenceAccess)
        .where(EvidenceAccess.share_id.in_(list(share_ids)))
        .order_by(EvidenceAccess.at)
    )
    for access in db.scalars(query):
        result[access.share_id].append(access)
    return result


def _move(db: Session, share: Share, changed: consent.Share, **columns: Any) -> Share:
    """Apply the rule's new state only if the row still holds the state it was decided from.

    One conditional UPDATE: a download finishing while the owner revokes cannot both succeed,
    whichever database and whichever order (the loser gets 409 and the current state).
    """
    moved = db.execute(
        update(Share)
        .where(Share.id == share.id, Share.state == share.state)
        .values(state=changed.state.value, changed_at=changed.changed_at, **columns)
        .execution_options(synchronize_session=False)
    )
    db.refresh(share)
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"this share is {share.state} now; it cannot become {changed.state.value}")
    return share


def revoke(db: Session, share: Share) -> Share:
    """Withdraw a share the agency has not downloaded; its copy's key is destroyed."""
    changed = consent.revoke(share_domain(share), utcnow())
    return _move(db, share, changed, wrapped_key=None)


def expire_shares(db: Session, now: datetime | None = None) -> list[Share]:
    """Close active shares past their end and destroy their copies' keys; returns them."""
    moment = now or utcnow()
    query = select(Share).where(
        Share.state == consent.ShareState.ACTIVE.value, Share.expires_at <= moment
    )
    expired = list(db.scalars(query))
    for share in expired:
        changed = consent.expire_share(share_domain(share), moment)
        share.state = changed.state.value
        share.changed_at = changed.changed_at
        share.wrapped_key = None
    # A downloaded share stays "downloaded" in the owner's history, but Doorstep's own copy
    # goes at the end of its lifetime too: no copy is kept past it (invariant I6).
    spent = select(Share).where(
        Share.state == consent.ShareState.DOWNLOADED.value,
        Share.expires_at <= moment,
        Share.wrapped_key.is_not(None),
    )
    for share in db.scalars(spent):
        share.wrapped_key = None
        expired.append(share)
    db.flush()
    return expired


def add_share(db: Session, share: Share) -> Share:
    """Keep a share just opened; it is "preparing" until its copy is made."""
    db.add(share)
    db.flush()
    return share


def take_agency_copy(db: Session, share_id: str, **copy: Any) -> bool:
    """Give a share its sealed copy, only while it is still open and preparing; True if it took.

    One conditional UPDATE: a share revoked or expired while its copy was being made never
    gets a key, whatever the order.
    """
    taken = db.execute(
        update(Share)
        .where(
            Share.id == share_id,
            Share.state == consent.ShareState.ACTIVE.value,
            Share.wrapped_key.is_(None),
        )
        .values(**copy)
        .execution_options(synchronize_session=False)
    )
    return bool(cast(CursorResult[Any], taken).rowcount)


def clip_preview(db: Session, clip_id: str) -> ClipPreview | None:
    """The redacted preview already made of a clip, if any."""
    return db.get(ClipPreview, clip_id)


def replace_clip_preview(db: Session, existing: ClipPreview, made: ClipPreview) -> None:
    """Keep ``made`` in place of ``existing``: its key, sizes and method (the old key is gone)."""
    existing.wrapped_key = made.wrapped_key
    existing.size = made.size
    existing.ciphertext_size = made.ciphertext_size
    existing.faces_found = made.faces_found
    existing.method = made.method
    existing.created_at = utcnow()
    db.flush()


def add_clip_preview(db: Session, preview: ClipPreview) -> ClipPreview:
    """Keep a newly made preview."""
    db.add(preview)
    db.flush()
    return preview
