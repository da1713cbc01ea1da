"""Requests for Assistance, owners' answers, shares and the evidence locker: the queries.

What an agency may learn is counted here and decided in ``rules``: coarse counts of who was asked
and who shared, every one below k withheld (never who declined, invariant I3; the ranges are
``rules.public_counts``), and only the redacted copies owners chose to share with one request
(I2, I4). The camera map of a jurisdiction (I1) is ``agencies.store.camera_map``.

A request reaches a camera when the camera's public cell is one of the request's cells, and by
nothing finer: no outline, hole or exact position can tell two homes in one cell apart (I1). The
request's cells are decided once, in ``rules.check_rfa`` (those its area meets that lie wholly
inside the jurisdiction), stored with it, and read here for the owners asked and the clips they
may share. The answers and shares are queried in ``_store_shares``, the locker in
``_store_locker``; this module is the one door to all three.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.agencies.models import Agency, AgencyStatus
from doorstep.cameras.models import Camera
from doorstep.errors import Conflict, InvalidInput, NotFound, PolicyRefused
from doorstep.geo.jurisdiction import polygon_geojson
from doorstep.platform.types import utcnow
from doorstep.requests._store_locker import (
    VIEWING_WINDOW,
    evidence,
    find_share,
    locker,
    recently_viewed,
    record_access,
    serve_share,
    share_by_hash,
    withdrawn_shares,
)
from doorstep.requests._store_shares import (
    accesses_for,
    add_clip_preview,
    add_share,
    answer_of,
    answer_state,
    clip_preview,
    clips_in_request,
    decline,
    expire_shares,
    is_preparing,
    mark_shared,
    owner_requests,
    owner_share,
    owner_shares,
    preparing_shares,
    recipient,
    replace_clip_preview,
    revoke,
    share_domain,
    share_state,
    take_agency_copy,
)
from doorstep.requests.models import Rfa, RfaCell, RfaRecipient, Share
from doorstep.requests.rules import (
    CASE_NUMBER_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    INCIDENT_TYPE_MAX_LENGTH,
    Circle,
    RfaCounts,
    RfaDraft,
    ValidatedRfa,
    check_agency_may_request,
    check_rfa,
    parse_geojson,
)
from doorstep.text.normalize import case_key
from doorstep.transparency import counts as disclosure_counts

__all__ = [
    "CELL_SLICE",
    "RfaCounts",
    "VIEWING_WINDOW",
    "accesses_for",
    "add_share",
    "agency_rfas",
    "recent_rfas",
    "take_agency_copy",
    "find_share",
    "withdrawn_shares",
    "clip_preview",
    "add_clip_preview",
    "replace_clip_preview",
    "answer_of",
    "answer_state",
    "ask_owners",
    "clips_in_request",
    "close_rfa",
    "create_rfa",
    "decline",
    "evidence",
    "expire_shares",
    "get_rfa",
    "is_preparing",
    "locker",
    "mark_shared",
    "owner_requests",
    "owner_share",
    "owner_shares",
    "preparing_shares",
    "recently_viewed",
    "recipient",
    "record_access",
    "refuse_near_duplicate",
    "requests_for_case",
    "revoke",
    "rfa_counts",
    "select_recipients",
    "serve_share",
    "share_by_hash",
    "share_domain",
    "share_state",
]

#: Cameras are looked up with ``cell IN (...)`` in slices no driver refuses.
CELL_SLICE = 900


def requests_for_case(db: Session, agency: Agency, case_number: str) -> int:
    """How many requests the agency already made for a case, however the number was written.

    Requests are counted by ``case_key``, so "rt case 7", "RT-CASE-７" and "RT-CАSE-7" are one
    case. The agency's row is locked first (on PostgreSQL) so that requests sent at the same
    moment are counted one after another.
    """
    db.execute(select(Agency.id).where(Agency.id == agency.id).with_for_update())
    query = (
        select(func.count())
        .select_from(Rfa)
        .where(Rfa.agency_id == agency.id, Rfa.case_key == case_key(case_number))
    )
    return int(db.scalar(query) or 0)


def create_rfa(
    db: Session,
    agency: Agency,
    author: User,
    draft: RfaDraft,
    *,
    cell_resolution: int,
    now: datetime | None = None,
) -> tuple[Rfa, ValidatedRfa]:
    """Check a draft against the policy and store it; ``PolicyRefused`` says why not."""
    moment = now or utcnow()
    check_agency_may_request(agency.level)
    checked = check_rfa(
        draft,
        jurisdiction=parse_geojson(agency.jurisdiction),
        existing_for_case=requests_for_case(db, agency, draft.case_number),
        now=moment,
        resolution=cell_resolution,
    )
    if len(checked.case_number) > CASE_NUMBER_MAX_LENGTH:
        raise InvalidInput(
            f"a case number is at most {CASE_NUMBER_MAX_LENGTH} characters", field="case_number"
        )
    if not checked.incident_type or len(checked.incident_type) > INCIDENT_TYPE_MAX_LENGTH:
        raise InvalidInput(
            f"name the kind of incident (1 to {INCIDENT_TYPE_MAX_LENGTH} characters)",
            field="incident_type",
        )
    if not checked.description or len(checked.description) > DESCRIPTION_MAX_LENGTH:
        raise InvalidInput(
            f"describe the incident (1 to {DESCRIPTION_MAX_LENGTH} characters)", field="description"
        )
    refuse_near_duplicate(db, agency, checked.cells, moment)
    circle = checked.area if isinstance(checked.area, Circle) else None
    shape = checked.polygon
    rfa = Rfa(
        agency_id=agency.id,
        author_id=author.id,
        case_number=checked.case_number,
        case_key=checked.case_key,
        incident_type=checked.incident_type,
        offence_category=checked.offence_category,
        description=checked.description,
        area=polygon_geojson(shape),
        circle_lat=circle.centre.lat if circle else None,
        circle_lon=circle.centre.lon if circle else None,
        circle_radius_m=circle.radius_m if circle else None,
        area_sq_mi=round(checked.area_sq_mi, 4),
        cells=sorted(checked.cells),
        window_start=checked.start,
        window_end=checked.end,
        created_at=moment,
    )
    db.add(rfa)
    db.flush()
    db.add_all(RfaCell(rfa_id=rfa.id, cell=cell) for cell in rfa.cells)
    db.flush()
    return rfa, checked


def refuse_near_duplicate(db: Session, agency: Agency, cells: Iterable[str], now: datetime) -> None:
    """``PolicyRefused`` when the cells nearly repeat an earlier request of the same agency.

    Earlier means made within ``NEAR_DUPLICATE_HORIZON``. Two such requests' counts differ by
    the owners of the few cells only one of them covers: asked in turn, they would point at a
    cell's households (I1, I3). The same cells again are allowed: they ask the same owners.
    """
    mine = sorted(set(cells))
    if not mine:
        return
    since = now - disclosure_counts.NEAR_DUPLICATE_HORIZON
    shared: dict[str, int] = {}
    for start in range(0, len(mine), CELL_SLICE):
        query = (
            select(RfaCell.rfa_id, func.count())
            .join(Rfa, Rfa.id == RfaCell.rfa_id)
            .where(
                Rfa.agency_id == agency.id,
                Rfa.created_at >= since,
                RfaCell.cell.in_(mine[start : start + CELL_SLICE]),
            )
            .group_by(RfaCell.rfa_id)
        )
        for rfa_id, n in db.execute(query):
            shared[rfa_id] = shared.get(rfa_id, 0) + int(n)
    if not shared:
        return
    sizes = dict(
        db.execute(
            select(RfaCell.rfa_id, func.count())
            .where(RfaCell.rfa_id.in_(list(shared)))
            .group_by(RfaCell.rfa_id)
        ).all()
    )
    for rfa_id, overlap in sorted(shared.items()):
        if disclosure_counts.near_duplicate(len(mine), int(sizes[rfa_id]), overlap):
            days = disclosure_counts.NEAR_DUPLICATE_HORIZON.days
            raise PolicyRefused(
                "this area nearly repeats one of your agency's requests from the last "
                f"{days} days: it shares most of its cells but not all. Ask about exactly the "
                "same area again, or about an area that shares at most half its cells with it",
                field="area",
                extra={"reason": "overlaps_earlier_request", "request": rfa_id},
            )


def select_recipients(db: Session, cells: Iterable[str]) -> dict[str, list[str]]:
    """Owners of opted-in cameras whose public cell is one of ``cells``: owner id to camera ids.

    ``cells`` are a request's (``ValidatedRfa.cells``: none reaches past the jurisdiction). The
    public cell alone decides (I1): every camera in a cell is asked, or none. An exact
    position test here would let an outline with a hole the size of one house, drawn and moved
    from request to request, tell that house's camera from its neighbours'.
    """
    chosen = sorted(set(cells))
    found: dict[str, list[str]] = {}
    for start in range(0, len(chosen), CELL_SLICE):
        query = select(Camera.id, Camera.owner_id).where(
            Camera.cell.in_(chosen[start : start + CELL_SLICE]), Camera.requests_opt_in
        )
        for camera_id, owner_id in db.execute(query):
            found.setdefault(owner_id, []).append(camera_id)
    return found


def ask_owners(db: Session, rfa: Rfa) -> list[str]:
    """Record every owner the request reaches; returns their ids (for notifications only)."""
    owners = sorted(select_recipients(db, rfa.cells))
    db.add_all(
        RfaRecipient(rfa_id=rfa.id, owner_id=owner, asked_at=rfa.created_at) for owner in owners
    )
    db.flush()
    return owners


def close_rfa(db: Session, rfa: Rfa) -> Rfa:
    """Close a request early: no more answers; what was shared stays shared."""
    if rfa.closed_at is not None:
        raise Conflict("this request is already closed")
    rfa.closed_at = utcnow()
    db.flush()
    return rfa


def get_rfa(db: Session, rfa_id: str) -> Rfa:
    """A request of a verified agency (requests are public)."""
    rfa = db.get(Rfa, rfa_id)
    if rfa is None or rfa.agency.status != AgencyStatus.VERIFIED.value:
        raise NotFound("no such request")
    return rfa


def recent_rfas(db: Session, limit: int) -> list[Rfa]:
    """The latest requests of verified agencies, newest first, out of the last ``limit`` made."""
    rows = list(db.scalars(select(Rfa).order_by(Rfa.created_at.desc()).limit(limit)))
    return [rfa for rfa in rows if rfa.agency.status == AgencyStatus.VERIFIED.value]


def offence_counts(db: Session) -> dict[str, int]:
    """How many requests verified agencies sent per offence category ("" before categories)."""
    query = (
        select(Rfa.offence_category, func.count())
        .join(Agency, Agency.id == Rfa.agency_id)
        .where(Agency.status == AgencyStatus.VERIFIED.value)
        .group_by(Rfa.offence_category)
    )
    return {category: int(count) for category, count in db.execute(query)}


def agency_rfas(db: Session, agency: Agency) -> list[Rfa]:
    """Every request the agency made, newest first."""
    query = select(Rfa).where(Rfa.agency_id == agency.id).order_by(Rfa.created_at.desc())
    return list(db.scalars(query))


def rfa_counts(db: Session, rfa_ids: Sequence[str]) -> dict[str, RfaCounts]:
    """Counts per request; declines and silence are one number nobody can split (I3)."""
    if not rfa_ids:
        return {}
    ids = list(rfa_ids)
    asked: dict[str, int] = dict(
        db.execute(
            select(RfaRecipient.rfa_id, func.count())
            .where(RfaRecipient.rfa_id.in_(ids))
            .group_by(RfaRecipient.rfa_id)
        ).all()
    )
    shared: dict[str, int] = dict(
        db.execute(
            select(Share.rfa_id, func.count(func.distinct(Share.owner_id)))
            .where(Share.rfa_id.in_(ids))
            .group_by(Share.rfa_id)
        ).all()
    )
    clips: dict[str, int] = dict(
        db.execute(
            select(Share.rfa_id, func.count()).where(Share.rfa_id.in_(ids)).group_by(Share.rfa_id)
        ).all()
    )
    return {
        rid: RfaCounts(int(asked.get(rid, 0)), int(shared.get(rid, 0)), int(clips.get(rid, 0)))
        for rid in ids
    }


# --- looked up by the demo -----------------------------------------------------------------------


def rfa_for_case_number(db: Session, case_number: str) -> Rfa | None:
    """A request with this case number, from any agency, or None."""
    return db.scalar(select(Rfa).where(Rfa.case_number == case_number))


def recipient_ids(db: Session, rfa_id: str | None = None) -> list[str]:
    """The owners one request asked (every request's, with None), once per request."""
    query = select(RfaRecipient.owner_id)
    if rfa_id is not None:
        query = query.where(RfaRecipient.rfa_id == rfa_id)
    return list(db.scalars(query))


def shares(db: Session, rfa_id: str | None = None) -> list[Share]:
    """The shares with one request (with every request, with None)."""
    query = select(Share)
    if rfa_id is not None:
        query = query.where(Share.rfa_id == rfa_id)
    return list(db.scalars(query))
