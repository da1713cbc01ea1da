"""Bystander requests in the database: who was asked, their clips in the window, the counts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.bystanders.models import PENDING, BystanderRecipient, BystanderRequest
from doorstep.bystanders.rules import BystanderCounts, ValidatedBystanderRequest
from doorstep.cameras.models import Camera
from doorstep.clips.models import Clip
from doorstep.errors import Conflict, NotFound
from doorstep.geo.jurisdiction import polygon_geojson

#: Cells asked about in one ``IN`` list at most.
CELL_SLICE = 500


def create_request(
    db: Session, checked: ValidatedBystanderRequest, token_hash: str, now: datetime
) -> BystanderRequest:
    """Store a checked request; the requester is known by nothing but the hash of their link."""
    row = BystanderRequest(
        token_hash=token_hash,
        area=polygon_geojson(checked.polygon),
        area_sq_mi=checked.area_sq_mi,
        cells=sorted(checked.cells),
        window_start=checked.start,
        window_end=checked.end,
        description=checked.description,
        created_at=now,
    )
    db.add(row)
    db.flush()
    return row


def owners_in(db: Session, cells: Iterable[str]) -> list[str]:
    """Owners with a camera whose public cell is one of ``cells`` (the cell alone decides, I1)."""
    chosen = sorted(set(cells))
    found: set[str] = set()
    for start in range(0, len(chosen), CELL_SLICE):
        query = select(Camera.owner_id).where(Camera.cell.in_(chosen[start : start + CELL_SLICE]))
        found.update(db.scalars(query))
    return sorted(found)


def ask_owners(db: Session, request: BystanderRequest) -> list[str]:
    """Record every owner the request reaches; returns their ids (for notifications only)."""
    owners = owners_in(db, request.cells)
    db.add_all(
        BystanderRecipient(request_id=request.id, owner_id=owner, asked_at=request.created_at)
        for owner in owners
    )
    db.flush()
    return owners


def by_token_hash(db: Session, token_hash: str) -> BystanderRequest:
    """The request a status link belongs to."""
    row = db.scalar(select(BystanderRequest).where(BystanderRequest.token_hash == token_hash))
    if row is None:
        raise NotFound("no such request")
    return row


def recipient(db: Session, owner: User, request_id: str) -> BystanderRecipient:
    """The owner's row for one request; any request that did not ask them is not found."""
    row = db.get(BystanderRecipient, (request_id, owner.id))
    if row is None:
        raise NotFound("no such request in your inbox")
    return row


def owner_requests(db: Session, owner: User) -> list[BystanderRecipient]:
    """Every bystander request that asked the owner, newest first."""
    query = (
        select(BystanderRecipient)
        .where(BystanderRecipient.owner_id == owner.id)
        .order_by(BystanderRecipient.asked_at.desc())
    )
    return list(db.scalars(query))


def pending_count(db: Session, owner: User) -> int:
    """How many bystander requests wait for the owner's answer."""
    query = select(func.count()).where(
        BystanderRecipient.owner_id == owner.id, BystanderRecipient.state == PENDING
    )
    return int(db.scalar(query) or 0)


def clips_in_window(db: Session, owner: User, request: BystanderRequest) -> list[Clip]:
    """The owner's clips from cameras in the request's cells that overlap its window, oldest first.

    End-to-end encrypted clips are listed too: their owner may delete them (not blur them).
    """
    reached = set(request.cells)
    cameras = [camera.id for camera in owner.cameras if camera.cell in reached]
    if not cameras:
        return []
    query = select(Clip).where(
        Clip.camera_id.in_(cameras),
        Clip.owner_id == owner.id,
        Clip.started_at < request.window_end,
        Clip.ended_at > request.window_start,
        Clip.wrapped_key.is_not(None),
    )
    return list(db.scalars(query.order_by(Clip.started_at)))


def record_answer(
    db: Session, row: BystanderRecipient, state: str, now: datetime, *, blurred: int, deleted: int
) -> BystanderRecipient:
    """Record what the owner did; each owner answers a request once.

    The row changes only while the database still holds it pending: of two answers sent at once,
    the second finds no pending row (whatever its session read earlier) and is refused.
    """
    answered = db.execute(
        update(BystanderRecipient)
        .where(
            BystanderRecipient.request_id == row.request_id,
            BystanderRecipient.owner_id == row.owner_id,
            BystanderRecipient.state == PENDING,
        )
        .values(state=state, answered_at=now, blurred=blurred, deleted=deleted)
        .execution_options(synchronize_session=False)
    )
    if getattr(answered, "rowcount", 0) != 1:
        raise Conflict("you already answered this request")
    db.refresh(row)
    return row


def answered_by(db: Session, request_id: str, owner_id: str) -> bool:
    """Whether the owner answered the request (a blur job runs only after an answer)."""
    row = db.get(BystanderRecipient, (request_id, owner_id))
    return row is not None and row.state != PENDING


def count_blurred(db: Session, request_id: str, owner_id: str) -> None:
    """Count one more clip blurred on the owner's answer (each blur job counts its clip once)."""
    db.execute(
        update(BystanderRecipient)
        .where(
            BystanderRecipient.request_id == request_id,
            BystanderRecipient.owner_id == owner_id,
        )
        .values(blurred=BystanderRecipient.blurred + 1)
        .execution_options(synchronize_session=False)
    )


def counts(db: Session, request_id: str | None = None) -> BystanderCounts:
    """Exact counts of one request, or of every request with None (server only)."""
    requests = select(func.count()).select_from(BystanderRequest)
    recipients = select(
        func.count(),
        func.coalesce(func.sum(BystanderRecipient.blurred), 0),
        func.coalesce(func.sum(BystanderRecipient.deleted), 0),
    )
    if request_id is not None:
        requests = requests.where(BystanderRequest.id == request_id)
        recipients = recipients.where(BystanderRecipient.request_id == request_id)
    asked, blurred, deleted = db.execute(recipients).one()
    return BystanderCounts(
        requests=int(db.scalar(requests) or 0),
        asked=int(asked),
        blurred=int(blurred),
        deleted=int(deleted),
    )
