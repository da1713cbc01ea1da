"""Lost-pet notices and their shares: the queries.

A notice reaches an owner when one of the owner's cameras' public cells is one of the notice's
cells, by nothing finer (I1). An owner is shown only their own clips, never another's: the
query for them is the owner's cameras' clips and nothing else.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.cameras.models import Camera
from doorstep.clips.models import Clip
from doorstep.errors import NotFound
from doorstep.pets import rules
from doorstep.pets.models import PetNotice, PetShare


def add_notice(db: Session, notice: PetNotice) -> PetNotice:
    """Store a new notice."""
    db.add(notice)
    db.flush()
    return notice


def _reached_cameras(db: Session, owner: User, notice: PetNotice) -> list[Camera]:
    reached = set(notice.cells)
    query = select(Camera).where(Camera.owner_id == owner.id)
    return [camera for camera in db.scalars(query) if camera.cell in reached]


def reaches(db: Session, owner: User, notice: PetNotice) -> bool:
    """Whether one of the owner's cameras is in a cell the notice reaches."""
    return bool(_reached_cameras(db, owner, notice))


def visible_notice(db: Session, viewer: User, notice_id: str) -> PetNotice:
    """A notice its poster, or an owner of a camera it reaches, may see; ``NotFound`` to others."""
    notice = db.get(PetNotice, notice_id)
    if notice is None or (notice.poster_id != viewer.id and not reaches(db, viewer, notice)):
        raise NotFound("no such lost-pet notice near your cameras")
    return notice


def own_notice(db: Session, poster: User, notice_id: str) -> PetNotice:
    """One of the poster's own notices."""
    notice = db.get(PetNotice, notice_id)
    if notice is None or notice.poster_id != poster.id:
        raise NotFound("no such notice among yours")
    return notice


def posted_by(db: Session, poster: User) -> list[PetNotice]:
    """The poster's notices, newest first."""
    query = select(PetNotice).where(PetNotice.poster_id == poster.id)
    return list(db.scalars(query.order_by(PetNotice.created_at.desc())))


def open_near(db: Session, owner: User, now: datetime) -> list[PetNotice]:
    """Open notices of others that reach one of the owner's cameras, newest first."""
    cells = {
        camera.cell
        for camera in db.scalars(select(Camera).where(Camera.owner_id == owner.id))
        if camera.cell
    }
    if not cells:
        return []
    # Only notices naming one of the owner's cells are read: the stored list is JSON text, so a
    # cell id in quotes (hex digits, nothing LIKE treats specially) picks them out in SQL; the
    # exact intersection below is the rule, the match only keeps every other notice unread.
    text = cast(PetNotice.cells, String)
    query = select(PetNotice).where(
        PetNotice.closed_at.is_(None),
        PetNotice.window_end > now - rules.OPEN_AFTER_WINDOW,
        PetNotice.poster_id != owner.id,
        or_(*(text.like(f'%"{cell}"%') for cell in sorted(cells))),
    )
    rows = db.scalars(query.order_by(PetNotice.created_at.desc()))
    return [notice for notice in rows if cells.intersection(notice.cells)]


def open_count(db: Session, poster: User, now: datetime) -> int:
    """How many of the poster's notices are still open."""
    query = select(func.count()).where(
        PetNotice.poster_id == poster.id,
        PetNotice.closed_at.is_(None),
        PetNotice.window_end > now - rules.OPEN_AFTER_WINDOW,
    )
    return db.scalar(query) or 0


def animal_clips(db: Session, owner: User, notice: PetNotice) -> list[Clip]:
    """The owner's own clips in the notice's cells and window with an animal, oldest first.

    Never an indoor camera's: inside a home is not where a lost pet is looked for, and what it
    sees is the household's own life.
    """
    cameras = [camera.id for camera in _reached_cameras(db, owner, notice) if not camera.indoor]
    if not cameras:
        return []
    query = select(Clip).where(
        Clip.camera_id.in_(cameras),
        Clip.owner_id == owner.id,
        Clip.started_at < notice.window_end,
        Clip.ended_at > notice.window_start,
        Clip.wrapped_key.is_not(None),
        # End-to-end encrypted clips cannot be redacted here: the server cannot read them.
        Clip.e2e.is_(False),
    )
    return [c for c in db.scalars(query.order_by(Clip.started_at)) if rules.shows_animal(c.labels)]


def add_share(db: Session, share: PetShare) -> PetShare:
    """Store a share whose copy is sealed."""
    db.add(share)
    db.flush()
    return share


def shares_of(db: Session, notice: PetNotice) -> list[PetShare]:
    """Every share with a notice, oldest first."""
    query = select(PetShare).where(PetShare.notice_id == notice.id)
    return list(db.scalars(query.order_by(PetShare.created_at)))


def owner_share(db: Session, owner: User, notice_id: str, share_id: str) -> PetShare:
    """One of the owner's shares with one notice."""
    share = db.get(PetShare, share_id)
    if share is None or share.owner_id != owner.id or share.notice_id != notice_id:
        raise NotFound("no such share of yours")
    return share


def live_share(db: Session, poster: User, notice_id: str, share_id: str, now: datetime) -> PetShare:
    """A share the poster may watch: of their open notice, not withdrawn."""
    notice = own_notice(db, poster, notice_id)
    share = db.get(PetShare, share_id)
    if (
        share is None
        or share.notice_id != notice.id
        or share.wrapped_key is None
        or not notice.is_open(now)
    ):
        raise NotFound("no such shared clip")
    return share


def shred(db: Session, share: PetShare, now: datetime) -> PetShare:
    """Forget a share's key: its sealed copy can never be read again."""
    share.wrapped_key = None
    if share.withdrawn_at is None:
        share.withdrawn_at = now
    db.flush()
    return share


def close(db: Session, notice: PetNotice, now: datetime) -> list[PetShare]:
    """Close a notice and shred every copy shared with it, or still being made; returns those."""
    notice.closed_at = now
    live = [share for share in shares_of(db, notice) if share.withdrawn_at is None]
    for share in live:
        shred(db, share, now)
    return live


def past_closing(db: Session, now: datetime) -> list[PetNotice]:
    """Notices no one closed whose time is up, with copies still to shred."""
    query = select(PetNotice).where(
        PetNotice.closed_at.is_(None), PetNotice.window_end <= now - rules.OPEN_AFTER_WINDOW
    )
    return list(db.scalars(query))
