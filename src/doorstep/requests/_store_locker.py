"""The evidence locker: what an agency may open, and every byte of it that leaves."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.agencies.models import Agency
from doorstep.clips import served_store as served_bytes
from doorstep.errors import NotFound
from doorstep.platform.types import utcnow
from doorstep.requests import consent
from doorstep.requests._store_shares import _move, share_domain, share_state
from doorstep.requests.models import EvidenceAccess, EvidenceAction, Rfa, Share


def locker(db: Session, agency: Agency) -> list[Share]:
    """Shares the agency may open now: active or downloaded, newest first."""
    now = utcnow()
    query = (
        select(Share)
        .join(Rfa, Rfa.id == Share.rfa_id)
        .where(
            Rfa.agency_id == agency.id,
            Share.state.in_([consent.ShareState.ACTIVE.value, consent.ShareState.DOWNLOADED.value]),
            Share.expires_at > now,
            # A share still preparing has nothing to open yet.
            Share.wrapped_key.is_not(None),
        )
        .order_by(Share.created_at.desc())
    )
    return list(db.scalars(query))


def evidence(db: Session, agency: Agency, share_id: str) -> Share:
    """A share in the agency's locker; another agency's or a closed one is NotFound (I2)."""
    share = db.get(Share, share_id)
    if share is None or share.rfa.agency_id != agency.id or share.wrapped_key is None:
        raise NotFound("no such evidence")
    if share_state(share) not in (consent.ShareState.ACTIVE, consent.ShareState.DOWNLOADED):
        raise NotFound("no such evidence")
    return share


def record_access(
    db: Session, share: Share, agency: Agency, member: User, action: EvidenceAction
) -> EvidenceAccess:
    """Note a view or download; a first download ends the owner's chance to revoke."""
    now = utcnow()
    if action is EvidenceAction.DOWNLOAD and share.state == consent.ShareState.ACTIVE.value:
        _move(db, share, consent.mark_downloaded(share_domain(share), now), downloaded_at=now)
    access = EvidenceAccess(
        share_id=share.id, user_id=member.id, agency_id=agency.id, action=action.value, at=now
    )
    db.add(access)
    db.flush()
    return access


#: Range requests by the same member within this time count as one viewing.
VIEWING_WINDOW = timedelta(minutes=30)


def recently_viewed(db: Session, share: Share, member: User) -> bool:
    """Whether ``member`` opened ``share`` within the viewing window (one record per viewing)."""
    since = utcnow() - VIEWING_WINDOW
    query = select(EvidenceAccess.id).where(
        EvidenceAccess.share_id == share.id,
        EvidenceAccess.user_id == member.id,
        EvidenceAccess.at >= since,
    )
    return db.scalar(query.limit(1)) is not None


def serve_share(
    db: Session, share: Share, reader: User, first: int, last: int
) -> served_bytes.Coverage:
    """Record bytes ``first..last`` of the share's copy as served to ``reader`` (I2, I5).

    The piece is written first and the share row locked next, so two pieces served at once are
    counted together. Once the pieces cover the whole file the share is downloaded: the owner
    can no longer revoke it (the caller records the download and tells the owner).
    """
    piece = served_bytes.insert_piece(
        db, first=first, last=last, reader_id=reader.id, share_id=share.id
    )
    locked = db.scalar(
        select(Share)
        .where(Share.id == share.id)
        # FOR NO KEY UPDATE on PostgreSQL: the piece's foreign key already holds a key-share
        # lock on this row, which a plain FOR UPDATE would wait on (two pieces: a deadlock).
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    open_states = (consent.ShareState.ACTIVE, consent.ShareState.DOWNLOADED)
    if locked is None or locked.wrapped_key is None or share_state(locked) not in open_states:
        # Revoked, withdrawn or expired while this request waited: nothing leaves.
        raise NotFound("no such evidence")
    coverage = served_bytes.coverage(db, piece, locked.size)
    if coverage.whole and locked.state == consent.ShareState.ACTIVE.value:
        now = utcnow()
        _move(db, locked, consent.mark_downloaded(share_domain(locked), now), downloaded_at=now)
    return coverage


def share_by_hash(db: Session, sha256: str) -> Share | None:
    """The share whose delivered file has this SHA-256, if any."""
    return db.scalar(select(Share).where(Share.sha256 == sha256.lower()))


def withdrawn_shares(db: Session, agency: Agency, now: datetime) -> list[Share]:
    """The agency's shares withdrawn after their copy was ready, until they would have ended."""
    query = (
        select(Share)
        .join(Rfa, Rfa.id == Share.rfa_id)
        .where(
            Rfa.agency_id == agency.id,
            Share.state == consent.ShareState.WITHDRAWN.value,
            Share.sha256 != "",
            Share.expires_at > now,
        )
    )
    return list(db.scalars(query))


def find_share(db: Session, share_id: str) -> Share | None:
    """Any share by id; the caller decides who may know of it."""
    return db.get(Share, share_id)
