"""Standing access: the grants, and the clips a grant may still share."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.cameras.models import Camera
from doorstep.clips.models import Clip
from doorstep.errors import Conflict, NotFound
from doorstep.requests.models import Rfa, RfaRecipient, Share, StandingGrant

#: Clips upload a little after they end: a grant is looked at this long after it stopped.
UPLOAD_GRACE = timedelta(days=1)


def request_camera(db: Session, owner: User, rfa: Rfa, camera_id: str) -> Camera:
    """One of the owner's cameras that the request reaches (by its public cell), or NotFound."""
    camera = db.get(Camera, camera_id)
    if camera is None or camera.owner_id != owner.id or camera.cell not in set(rfa.cells):
        raise NotFound("that camera is not one of yours inside this request", field="camera_id")
    return camera


def add_grant(db: Session, grant: StandingGrant) -> StandingGrant:
    """Keep a new grant; one live grant per request and camera."""
    live = select(StandingGrant.id).where(
        StandingGrant.rfa_id == grant.rfa_id,
        StandingGrant.camera_id == grant.camera_id,
        StandingGrant.revoked_at.is_(None),
        StandingGrant.ends_at > grant.granted_at,
    )
    if db.scalar(live) is not None:
        raise Conflict("this camera already has standing access for this request")
    db.add(grant)
    db.flush()
    return grant


def owner_grant(db: Session, owner: User, grant_id: str) -> StandingGrant:
    """One of the owner's grants, or NotFound."""
    grant = db.get(StandingGrant, grant_id)
    if grant is None or grant.owner_id != owner.id:
        raise NotFound("no such standing access among yours")
    return grant


def owner_grants(db: Session, owner: User, rfa_id: str) -> list[StandingGrant]:
    """The owner's grants for one request, newest first."""
    query = select(StandingGrant).where(
        StandingGrant.owner_id == owner.id, StandingGrant.rfa_id == rfa_id
    )
    return list(db.scalars(query.order_by(StandingGrant.granted_at.desc())))


def live_grants(db: Session, now: datetime) -> list[StandingGrant]:
    """Grants not revoked that stopped no longer ago than a late upload takes."""
    query = select(StandingGrant).where(
        StandingGrant.revoked_at.is_(None), StandingGrant.ends_at > now - UPLOAD_GRACE
    )
    return list(db.scalars(query.order_by(StandingGrant.granted_at)))


def unshared_clips(db: Session, grant: StandingGrant, until: datetime) -> list[Clip]:
    """The camera's clips recorded wholly between the grant and ``until``, not yet shared.

    End-to-end encrypted clips are never shared: the server cannot redact them.
    """
    shared = select(Share.clip_id).where(Share.rfa_id == grant.rfa_id, Share.clip_id.is_not(None))
    query = select(Clip).where(
        Clip.camera_id == grant.camera_id,
        Clip.owner_id == grant.owner_id,
        Clip.started_at >= grant.granted_at,
        Clip.ended_at <= until,
        Clip.wrapped_key.is_not(None),
        Clip.e2e.is_(False),
        Clip.id.not_in(shared),
    )
    return list(db.scalars(query.order_by(Clip.started_at)))


def recipient_row(db: Session, rfa_id: str, owner_id: str) -> RfaRecipient | None:
    """The grant's owner's place on its request's list."""
    return db.get(RfaRecipient, (rfa_id, owner_id))


def display_name(db: Session, owner_id: str) -> str | None:
    """The name a named grant's shares carry."""
    owner = db.get(User, owner_id)
    return owner.display_name if owner is not None else None
