"""Legal demands and emergency requests: scoped disclosures, the agency's copies, owners' notices.

Footage leaves an owner without their consent only here, and only inside the scope the rules in
``legal/rules.py`` allow (I2): a warrant's devices and window, or an emergency two different
reviewers approved. Copies are redacted and watermarked unless a warrant orders otherwise (I4);
end-to-end encrypted clips never go out (I7); owners hear of every disclosure (I5).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.accounts.api import Strict
from doorstep.accounts.models import User
from doorstep.accounts.roles import REVIEWERS, Role
from doorstep.agencies import service as agencies
from doorstep.cameras.models import Camera
from doorstep.clips.api import parse_range
from doorstep.clips.models import Clip
from doorstep.clips.store import Keys, read_video, scratch_folder, sha256_file
from doorstep.errors import Forbidden, InvalidInput, NotFound, PolicyRefused
from doorstep.legal import rules
from doorstep.legal import store as legal
from doorstep.legal.store import Disclosure, DisclosureBasis, EmergencyRequest, LegalDemand
from doorstep.platform import ranges as served
from doorstep.platform.bus.memory import notify_after_commit
from doorstep.platform.crypto import (
    EncryptingReader,
    iter_decrypted_range,
    new_key,
    unwrap_key,
    wrap_key,
)
from doorstep.platform.http import footage, problems
from doorstep.platform.http.deps import CurrentUser, DbDep, StateDep, require_role
from doorstep.platform.http.state import AppState
from doorstep.platform.types import new_id, utcnow
from doorstep.requests import service as redaction
from doorstep.transparency import audit_store as audit

router = APIRouter(prefix="/api/v1", tags=["legal"])

ReviewerUser = Annotated[User, Depends(require_role(Role.REVIEWER, Role.ADMIN))]
AgencyUser = Annotated[User, Depends(require_role(Role.AGENCY_MEMBER, Role.AGENCY_ADMIN))]
RangeHeader = Annotated[str | None, Header(alias="range", max_length=100)]


class DemandCreate(Strict):
    """A warrant, subpoena or court order and its scope, as the reviewer read it."""

    kind: Literal["warrant", "subpoena", "court_order"]
    agency_id: Annotated[str, Field(max_length=32)]
    court: Annotated[str, Field(max_length=200)]
    reference: Annotated[str, Field(max_length=120)]
    document_sha256: Annotated[str, Field(max_length=64)]
    account_id: Annotated[str, Field(max_length=32)]
    device_ids: Annotated[list[str], Field(max_length=50)] = []
    window_start: datetime | None = None
    window_end: datetime | None = None
    covers_footage: bool = False
    allows_unredacted: bool = False


class OrderCreate(Strict):
    """A non-disclosure order: it must say when it ends."""

    ends_at: datetime | None = None


class DiscloseBody(Strict):
    """Which clips to disclose (none named: every clip in scope), and whether unredacted."""

    clip_ids: Annotated[list[str], Field(max_length=200)] = []
    unredacted: bool = False


class CloseBody(Strict):
    """How Doorstep answered the demand."""

    outcome: Literal["complied_full", "complied_partial", "rejected"]


class EmergencyCreate(Strict):
    """An emergency request: case, cameras, a short window and a written attestation."""

    case_number: Annotated[str, Field(max_length=60)]
    device_ids: Annotated[list[str], Field(min_length=1, max_length=20)]
    window_start: datetime
    window_end: datetime
    attestation: Annotated[str, Field(max_length=4000)]


class RefuseBody(Strict):
    """Why a reviewer refused."""

    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class DisclosurePublic(BaseModel):
    """A disclosure as staff and the receiving agency see it."""

    id: str
    basis: str
    demand_id: str | None
    emergency_id: str | None
    agency_name: str
    what: str
    account_info: dict[str, Any] | None
    clip_started_at: datetime | None
    clip_ended_at: datetime | None
    unredacted: bool
    sha256: str
    size: int
    created_at: datetime
    downloaded_at: datetime | None
    video_url: str | None
    download_url: str | None = Field(
        description="POST here (never GET) to download the whole file; it is recorded and "
        "the owner is told (once the notice is due)."
    )


class OwnerDisclosure(BaseModel):
    """A disclosure as its owner is told of it."""

    id: str
    basis: str
    agency_name: str
    what: str
    legal_kind: str | None
    court: str | None
    case: str
    clip_id: str | None
    clip_started_at: datetime | None
    unredacted: bool
    disclosed_at: datetime
    notified_at: datetime | None
    downloaded_at: datetime | None
    #: Set when the notice waited: for a non-disclosure order's end or an emergency's end.
    delayed_until: datetime | None


class DemandPublic(BaseModel):
    """A recorded demand with what was disclosed under it."""

    id: str
    kind: str
    agency_id: str
    agency_name: str
    court: str
    reference: str
    document_sha256: str
    account_id: str | None
    device_ids: list[str]
    window_start: datetime | None
    window_end: datetime | None
    covers_footage: bool
    allows_unredacted: bool
    recorded_at: datetime
    status: str
    outcome: str | None
    order_ends_at: datetime | None
    disclosures: list[DisclosurePublic]


class EmergencyPublic(BaseModel):
    """An emergency request and where it stands."""

    id: str
    agency_id: str
    agency_name: str
    case_number: str
    device_ids: list[str]
    window_start: datetime
    window_end: datetime
    attestation: str
    filed_at: datetime
    state: str
    approvals: int
    refusal_reason: str | None
    approved_at: datetime | None
    over_at: datetime | None
    notice_due_at: datetime | None
    owners_notified_at: datetime | None
    #: Clips disclosed under it. How many end-to-end encrypted clips fall in its window is told
    #: to nobody: the agency would learn which cameras record, and when, without any disclosure.
    disclosed: int


# --- views ---------------------------------------------------------------------------------------


def disclosure_public(row: Disclosure) -> DisclosurePublic:
    """A disclosure without anything about the owner beyond what the legal basis reached."""
    video = f"/api/v1/evidence/disclosures/{row.id}/video" if row.what == "footage" else None
    return DisclosurePublic(
        id=row.id,
        basis=row.basis,
        demand_id=row.demand_id,
        emergency_id=row.emergency_id,
        agency_name=row.agency.name,
        what=row.what,
        account_info=row.account_info,
        clip_started_at=row.clip_started_at,
        clip_ended_at=row.clip_ended_at,
        unredacted=row.unredacted,
        sha256=row.sha256,
        size=row.size,
        created_at=row.created_at,
        downloaded_at=row.downloaded_at,
        video_url=video,
        download_url=f"/api/v1/evidence/disclosures/{row.id}/download" if video else None,
    )


def owner_disclosure(db: Session, row: Disclosure) -> OwnerDisclosure:
    """A disclosure as the owner reads it in their history."""
    demand = db.get(LegalDemand, row.demand_id) if row.demand_id else None
    emergency = db.get(EmergencyRequest, row.emergency_id) if row.emergency_id else None
    case = demand.reference if demand else (emergency.case_number if emergency else "")
    return OwnerDisclosure(
        id=row.id,
        basis=row.basis,
        agency_name=row.agency.name,
        what=row.what,
        legal_kind=demand.kind if demand else None,
        court=demand.court if demand else None,
        case=case,
        clip_id=row.clip_id,
        clip_started_at=row.clip_started_at,
        unredacted=row.unredacted,
        disclosed_at=row.created_at,
        notified_at=row.notified_at,
        downloaded_at=row.downloaded_at,
        delayed_until=row.notice_due_at if row.notice_due_at > row.created_at else None,
    )


def demand_public(db: Session, demand: LegalDemand) -> DemandPublic:
    """A demand with its order and disclosures."""
    order = legal.order_for(db, demand.id)
    return DemandPublic(
        id=demand.id,
        kind=demand.kind,
        agency_id=demand.agency_id,
        agency_name=demand.agency.name,
        court=demand.court,
        reference=demand.reference,
        document_sha256=demand.document_sha256,
        account_id=demand.account_id,
        device_ids=list(demand.device_ids),
        window_start=demand.window_start,
        window_end=demand.window_end,
        covers_footage=demand.covers_footage,
        allows_unredacted=demand.allows_unredacted,
        recorded_at=demand.recorded_at,
        status=demand.status,
        outcome=demand.outcome,
        order_ends_at=order.ends_at if order else None,
        disclosures=[disclosure_public(d) for d in legal.disclosures_for(db, demand_id=demand.id)],
    )


def emergency_public(db: Session, row: EmergencyRequest) -> EmergencyPublic:
    """An emergency request with its decision and what went out under it."""
    return EmergencyPublic(
        id=row.id,
        agency_id=row.agency_id,
        agency_name=row.agency.name,
        case_number=row.case_number,
        device_ids=list(row.device_ids),
        window_start=row.window_start,
        window_end=row.window_end,
        attestation=row.attestation,
        filed_at=row.filed_at,
        state=row.state,
        approvals=len(row.approvals),
        refusal_reason=row.refusal_reason,
        approved_at=row.approved_at,
        over_at=row.over_at,
        notice_due_at=rules.emergency_notice_due(row.rule()),
        owners_notified_at=row.owners_notified_at,
        disclosed=len(legal.disclosures_for(db, emergency_id=row.id)),
    )


# --- the agency's copy ---------------------------------------------------------------------------


def disclosure_key_context(disclosure_id: str) -> bytes:
    """Associated data binding a wrapped agency-copy key to its disclosure."""
    return b"doorstep disclosure " + disclosure_id.encode()


def _write(pieces: Iterator[bytes], path: Path) -> Path:
    with path.open("wb") as handle:
        for piece in pieces:
            handle.write(piece)
    return path


def make_copy(
    db: Session, keys: Keys, clip: Clip, row: Disclosure, *, case: str, unredacted: bool
) -> Disclosure:
    """Seal the watermarked copy the agency gets: redacted as for a share, unless ordered not."""
    from doorstep.media.watermark import watermark_file

    lines = [f"{row.agency.name} - case {case}", f"Doorstep disclosure {row.id}"]
    content_key = new_key()
    with scratch_folder(keys, "disclosure") as folder:
        source = folder / "source.mp4"
        if unredacted:
            _write(read_video(db, keys, clip), source)
            lines[1] += " - unredacted by warrant"
        else:
            preview = redaction.redacted_preview(db, keys, clip)
            _write(redaction.read_preview(keys, preview, 0, preview.size - 1), source)
            row.faces_found = preview.faces_found
        delivered = folder / "delivered.mp4"
        watermark_file(source, delivered, lines)
        row.sha256 = sha256_file(delivered)
        row.size = delivered.stat().st_size
        with delivered.open("rb") as handle:
            row.ciphertext_size = keys.blobs.put(
                row.blob_key, EncryptingReader(handle, content_key)
            )
    row.wrapped_key = wrap_key(keys.master, content_key, context=disclosure_key_context(row.id))
    return row


def read_copy(keys: Keys, row: Disclosure, start: int, end: int) -> Iterator[bytes]:
    """Plaintext bytes ``start..end`` of a disclosed copy."""
    assert row.wrapped_key is not None
    key = unwrap_key(keys.master, row.wrapped_key, context=disclosure_key_context(row.id))

    def read_at(offset: int, length: int) -> bytes:
        return keys.blobs.read_at(row.blob_key, offset, length)

    return iter_decrypted_range(read_at, key, start, end, row.ciphertext_size)


# --- notices -------------------------------------------------------------------------------------


def _notice(
    db: Session, master_key: bytes, row: Disclosure, now: datetime
) -> tuple[str, dict[str, Any]]:
    legal.mark_notified(db, row, now)
    audit.record(
        db,
        master_key,
        "disclosure.notice",
        actor=None,
        owner_id=row.owner_id,
        detail={"disclosure": row.id, "basis": row.basis, "agency": row.agency.name},
    )
    event = {
        "type": "disclosure",
        "disclosure": {
            "id": row.id,
            "basis": row.basis,
            "what": row.what,
            "agency_name": row.agency.name,
            "url": "/disclosures/legal",
        },
    }
    return row.owner_id, event


def notify_due(db: Session, master_key: bytes, now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """Tell every owner whose notice is due by ``now``; returns the notices to deliver."""
    return [_notice(db, master_key, row, now) for row in legal.due_notices(db, now)]


def _notify_now(db: Session, master_key: bytes) -> None:
    now = utcnow()
    for owner_id, event in notify_due(db, master_key, now):
        notify_after_commit(db, owner_id, event)


def send_due_notices(state: AppState, now: datetime | None = None) -> int:
    """The periodic job: notices whose order ended or emergency is over; returns how many."""
    with state.db.session() as db:
        sent = notify_due(db, state.master_key, now or utcnow())
        moment = now or utcnow()
        for row in legal.emergencies(db):
            if row.owners_notified_at is None and legal.disclosures_for(db, emergency_id=row.id):
                due = rules.emergency_notice_due(row.rule())
                if due is not None and due <= moment:
                    row.owners_notified_at = moment
    # Only after the commit, as for requests served over HTTP.
    for owner_id, event in sent:
        state.bus.publish(owner_id, event)
    return len(sent)


# --- disclosing ----------------------------------------------------------------------------------


def _disclose_clip(
    db: Session,
    state: AppState,
    actor: User,
    clip: Clip,
    *,
    basis: DisclosureBasis,
    basis_id: str,
    agency_id: str,
    case: str,
    unredacted: bool,
    notice_due_at: datetime,
) -> Disclosure:
    if clip.e2e:
        raise PolicyRefused(
            "this clip is end-to-end encrypted: Doorstep cannot read it and cannot disclose it",
            field="clip_ids",
            extra={"reason": "end_to_end_encrypted"},
        )
    if clip.wrapped_key is None:
        raise NotFound("that clip no longer exists", field="clip_ids")
    now = utcnow()
    row = Disclosure(
        id=new_id(),
        basis=basis.value,
        demand_id=basis_id if basis is DisclosureBasis.LEGAL_DEMAND else None,
        emergency_id=basis_id if basis is DisclosureBasis.EMERGENCY else None,
        agency_id=agency_id,
        owner_id=clip.owner_id,
        what="footage",
        clip_id=clip.id,
        camera_id=clip.camera_id,
        clip_started_at=clip.started_at,
        clip_ended_at=clip.ended_at,
        unredacted=unredacted,
        created_by=actor.id,
        created_at=now,
        notice_due_at=max(now, notice_due_at),
    )
    row.agency = agencies.get_agency(db, agency_id)
    make_copy(db, state.keys, clip, row, case=case, unredacted=unredacted)
    db.add(row)
    db.flush()
    told_now = row.notice_due_at <= now
    audit.record(
        db,
        state.master_key,
        f"{basis.value}.disclose",
        actor=actor,
        # An owner under a non-disclosure order must not learn of it from their own log early.
        owner_id=clip.owner_id if told_now else None,
        detail={
            "disclosure": row.id,
            "basis": basis_id,
            "agency": row.agency.name,
            "case": case,
            "sha256": row.sha256,
            "redacted": not unredacted,
        },
    )
    return row


def _chosen_clips(db: Session, clip_ids: list[str], in_scope: list[Clip]) -> list[Clip]:
    if not clip_ids:
        return [clip for clip in in_scope if not clip.e2e]
    chosen = []
    for clip_id in dict.fromkeys(clip_ids):
        clip = db.get(Clip, clip_id)
        if clip is None:
            raise NotFound("no clip has that id", field="clip_ids")
        chosen.append(clip)
    return chosen


def _open(demand: LegalDemand) -> None:
    if demand.status != legal.DemandStatus.OPEN.value:
        raise InvalidInput("this demand is closed", field="demand")


def disclose_footage(
    db: Session,
    state: AppState,
    reviewer: User,
    demand: LegalDemand,
    clip_ids: list[str],
    *,
    unredacted: bool,
) -> list[Disclosure]:
    """Disclose clips under a demand; anything outside its scope is refused with the reason."""
    _open(demand)
    rule = demand.rule()
    in_scope = legal.clips_in_scope(db, demand.device_ids, demand.window_start, demand.window_end)
    chosen = _chosen_clips(db, clip_ids, [c for c in in_scope if c.owner_id == demand.account_id])
    for clip in chosen:
        if clip.owner_id != demand.account_id:
            rules.check_account_disclosure(rule, clip.owner_id)
        rules.check_disclosure(rule, clip.camera_id, clip.started_at, clip.ended_at, unredacted)
    order = legal.order_for(db, demand.id)
    now = utcnow()
    due = rules.notice_due(
        now, rules.NonDisclosureOrder(demand.id, order.ends_at) if order else None
    )
    made = [
        _disclose_clip(
            db,
            state,
            reviewer,
            clip,
            basis=DisclosureBasis.LEGAL_DEMAND,
            basis_id=demand.id,
            agency_id=demand.agency_id,
            case=demand.reference,
            unredacted=unredacted,
            notice_due_at=due,
        )
        for clip in chosen
        if not legal.already_disclosed(db, demand.id, clip.id)
    ]
    _notify_now(db, state.master_key)
    return made


def disclose_account(
    db: Session, state: AppState, reviewer: User, demand: LegalDemand
) -> Disclosure:
    """Disclose the account information a demand reaches: name, email, camera count; no footage."""
    _open(demand)
    if demand.account_id is None:
        raise NotFound("the account this demand names no longer exists")
    rules.check_account_disclosure(demand.rule(), demand.account_id)
    owner = db.get(User, demand.account_id)
    assert owner is not None
    cameras = int(db.scalar(select(func.count()).where(Camera.owner_id == owner.id)) or 0)
    order = legal.order_for(db, demand.id)
    now = utcnow()
    due = rules.notice_due(
        now, rules.NonDisclosureOrder(demand.id, order.ends_at) if order else None
    )
    row = Disclosure(
        basis=DisclosureBasis.LEGAL_DEMAND.value,
        demand_id=demand.id,
        agency_id=demand.agency_id,
        owner_id=owner.id,
        what="account",
        account_info={"name": owner.display_name, "email": owner.email, "cameras": cameras},
        created_by=reviewer.id,
        created_at=now,
        notice_due_at=due,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        state.master_key,
        "legal_demand.disclose_account",
        actor=reviewer,
        owner_id=owner.id if due <= now else None,
        detail={"disclosure": row.id, "basis": demand.id, "agency": demand.agency.name},
    )
    _notify_now(db, state.master_key)
    return row


# --- demands -------------------------------------------------------------------------------------


def record_demand(db: Session, state: AppState, reviewer: User, body: DemandCreate) -> LegalDemand:
    """Record a demand and append it to the audit log."""
    demand = legal.record_demand(
        db,
        reviewer,
        kind=body.kind,
        agency=agencies.get_agency(db, body.agency_id),
        court=body.court,
        reference=body.reference,
        document_sha256=body.document_sha256,
        account_id=body.account_id,
        device_ids=body.device_ids,
        window_start=body.window_start,
        window_end=body.window_end,
        covers_footage=body.covers_footage,
        allows_unredacted=body.allows_unredacted,
    )
    audit.record(
        db,
        state.master_key,
        "legal_demand.record",
        actor=reviewer,
        owner_id=None,
        detail={
            "demand": demand.id,
            "kind": demand.kind,
            "agency": demand.agency.name,
            "court": demand.court,
            "document_sha256": demand.document_sha256,
            "devices": len(demand.device_ids),
            "allows_unredacted": demand.allows_unredacted,
        },
    )
    return demand


@router.post(
    "/legal/demands", status_code=status.HTTP_201_CREATED, responses=problems.responses(404)
)
def create_demand(
    body: DemandCreate, user: ReviewerUser, db: DbDep, state: StateDep
) -> DemandPublic:
    """Record a warrant, subpoena or court order with its scope (reviewers only)."""
    return demand_public(db, record_demand(db, state, user, body))


@router.get("/legal/demands")
def list_demands(user: ReviewerUser, db: DbDep) -> list[DemandPublic]:
    """Every recorded demand, newest first."""
    del user
    return [demand_public(db, demand) for demand in legal.demands(db)]


@router.get("/legal/demands/{demand_id}")
def get_demand(demand_id: str, user: ReviewerUser, db: DbDep) -> DemandPublic:
    """One demand with its order and disclosures."""
    del user
    return demand_public(db, legal.get_demand(db, demand_id))


def record_order(
    db: Session, state: AppState, reviewer: User, demand_id: str, ends_at: datetime | None
) -> LegalDemand:
    """Record a non-disclosure order for a demand and log it."""
    demand = legal.get_demand(db, demand_id)
    order = legal.record_order(db, reviewer, demand, ends_at)
    audit.record(
        db,
        state.master_key,
        "legal_demand.order",
        actor=reviewer,
        owner_id=None,
        detail={"demand": demand.id, "ends_at": order.ends_at.isoformat()},
    )
    return demand


@router.post("/legal/demands/{demand_id}/non-disclosure-order", responses=problems.responses(409))
def create_order(
    demand_id: str, body: OrderCreate, user: ReviewerUser, db: DbDep, state: StateDep
) -> DemandPublic:
    """Delay the owner's notice until the order's end date (an end date is required)."""
    return demand_public(db, record_order(db, state, user, demand_id, body.ends_at))


@router.post("/legal/demands/{demand_id}/disclose")
def disclose(
    demand_id: str, body: DiscloseBody, user: ReviewerUser, db: DbDep, state: StateDep
) -> list[DisclosurePublic]:
    """Disclose footage inside the demand's scope; a subpoena or anything outside is refused."""
    demand = legal.get_demand(db, demand_id)
    made = disclose_footage(db, state, user, demand, body.clip_ids, unredacted=body.unredacted)
    return [disclosure_public(row) for row in made]


@router.post("/legal/demands/{demand_id}/disclose-account")
def disclose_account_info(
    demand_id: str, user: ReviewerUser, db: DbDep, state: StateDep
) -> DisclosurePublic:
    """Disclose the named account's name, email and camera count (never footage)."""
    return disclosure_public(disclose_account(db, state, user, legal.get_demand(db, demand_id)))


def close_demand(
    db: Session, state: AppState, reviewer: User, demand_id: str, outcome: str
) -> LegalDemand:
    """Close a demand with its outcome and log it."""
    demand = legal.close_demand(db, legal.get_demand(db, demand_id), outcome)
    audit.record(
        db,
        state.master_key,
        "legal_demand.close",
        actor=reviewer,
        owner_id=None,
        detail={"demand": demand.id, "outcome": outcome},
    )
    return demand


@router.post("/legal/demands/{demand_id}/close", responses=problems.responses(409))
def close(
    demand_id: str, body: CloseBody, user: ReviewerUser, db: DbDep, state: StateDep
) -> DemandPublic:
    """Close a demand: complied in full, in part, or rejected."""
    return demand_public(db, close_demand(db, state, user, demand_id, body.outcome))


# --- emergencies ---------------------------------------------------------------------------------


def file_emergency(
    db: Session, state: AppState, member: User, body: EmergencyCreate
) -> EmergencyRequest:
    """File an emergency request for the member's agency and log it."""
    agency = agencies.agency_of(db, member)
    row = legal.file_emergency(
        db,
        agency,
        member,
        case_number=body.case_number,
        device_ids=body.device_ids,
        window_start=body.window_start,
        window_end=body.window_end,
        attestation=body.attestation,
    )
    audit.record(
        db,
        state.master_key,
        "emergency.file",
        actor=member,
        owner_id=None,
        detail={"emergency": row.id, "agency": agency.name, "case": row.case_number},
    )
    return row


@router.post("/emergencies", status_code=status.HTTP_201_CREATED, responses=problems.responses(404))
def create_emergency(
    body: EmergencyCreate, user: AgencyUser, db: DbDep, state: StateDep
) -> EmergencyPublic:
    """File an emergency request; nothing is disclosed until two different reviewers approve."""
    return emergency_public(db, file_emergency(db, state, user, body))


def _visible(db: Session, user: User, row: EmergencyRequest) -> None:
    if user.role in REVIEWERS:
        return
    if agencies.agency_of(db, user).id != row.agency_id:
        raise NotFound("no such emergency request")


@router.get("/emergencies")
def list_emergencies(user: CurrentUser, db: DbDep) -> list[EmergencyPublic]:
    """Reviewers see every emergency request; an agency sees its own."""
    if user.role in REVIEWERS:
        rows = legal.emergencies(db)
    else:
        rows = legal.emergencies(db, agencies.agency_of(db, user).id)
    return [emergency_public(db, row) for row in rows]


@router.get("/emergencies/{request_id}")
def get_emergency(request_id: str, user: CurrentUser, db: DbDep) -> EmergencyPublic:
    """One emergency request."""
    row = legal.get_emergency(db, request_id)
    _visible(db, user, row)
    return emergency_public(db, row)


def disclose_emergency(
    db: Session, state: AppState, reviewer: User, row: EmergencyRequest, clip_ids: list[str]
) -> list[Disclosure]:
    """Disclose clips inside an approved emergency's scope; never an end-to-end encrypted one."""
    rule = row.rule()
    # Checked before the clips too: with none named or in scope, a pending one must still refuse.
    rules.check_emergency_approved(rule)
    in_scope = legal.clips_in_scope(db, row.device_ids, row.window_start, row.window_end)
    chosen = _chosen_clips(db, clip_ids, in_scope)
    for clip in chosen:
        rules.check_emergency_disclosure(rule, clip.camera_id, clip.started_at, clip.ended_at)
    due = rules.emergency_notice_due(rule)
    assert due is not None
    return [
        _disclose_clip(
            db,
            state,
            reviewer,
            clip,
            basis=DisclosureBasis.EMERGENCY,
            basis_id=row.id,
            agency_id=row.agency_id,
            case=row.case_number,
            unredacted=False,
            notice_due_at=due,
        )
        for clip in chosen
        if not legal.already_disclosed(db, row.id, clip.id)
    ]


def approve_emergency(
    db: Session, state: AppState, reviewer: User, request_id: str
) -> EmergencyRequest:
    """Add a reviewer's approval; the second different reviewer's releases the scoped clips."""
    row = legal.get_emergency(db, request_id)
    row.apply(rules.approve(row.rule(), reviewer.id, utcnow()))
    db.flush()
    audit.record(
        db,
        state.master_key,
        "emergency.approve",
        actor=reviewer,
        owner_id=None,
        detail={"emergency": row.id, "approvals": len(row.approvals), "state": row.state},
    )
    if row.state == rules.EmergencyState.APPROVED.value:
        disclose_emergency(db, state, reviewer, row, [])
    return row


@router.post("/emergencies/{request_id}/approve", responses=problems.responses(409))
def approve(request_id: str, user: ReviewerUser, db: DbDep, state: StateDep) -> EmergencyPublic:
    """Approve; the same reviewer twice is refused (409), two different ones release the clips."""
    return emergency_public(db, approve_emergency(db, state, user, request_id))


def refuse_emergency(
    db: Session, state: AppState, reviewer: User, request_id: str, reason: str
) -> EmergencyRequest:
    """Refuse an emergency request with the reason; one refusal ends it."""
    text = " ".join(reason.split())
    if not text:
        raise InvalidInput("say why the request is refused", field="reason")
    row = legal.get_emergency(db, request_id)
    row.apply(rules.refuse(row.rule(), reviewer.id))
    row.refusal_reason = text
    db.flush()
    audit.record(
        db,
        state.master_key,
        "emergency.refuse",
        actor=reviewer,
        owner_id=None,
        detail={"emergency": row.id, "reason": text},
    )
    return row


@router.post("/emergencies/{request_id}/refuse", responses=problems.responses(409))
def refuse(
    request_id: str, body: RefuseBody, user: ReviewerUser, db: DbDep, state: StateDep
) -> EmergencyPublic:
    """Refuse with a reason."""
    return emergency_public(db, refuse_emergency(db, state, user, request_id, body.reason))


@router.post("/emergencies/{request_id}/disclose")
def disclose_more(
    request_id: str, body: DiscloseBody, user: ReviewerUser, db: DbDep, state: StateDep
) -> list[DisclosurePublic]:
    """Disclose named clips under an approved emergency (in scope, never end-to-end encrypted)."""
    if body.unredacted:
        raise PolicyRefused(
            "emergency disclosures are always redacted", extra={"reason": "unredacted_not_allowed"}
        )
    row = legal.get_emergency(db, request_id)
    return [disclosure_public(d) for d in disclose_emergency(db, state, user, row, body.clip_ids)]


def end_emergency(
    db: Session, state: AppState, user: User, request_id: str, now: datetime | None = None
) -> EmergencyRequest:
    """Mark an emergency over and tell every owner whose footage went out."""
    row = legal.get_emergency(db, request_id)
    _visible(db, user, row)
    moment = now or utcnow()
    legal.mark_over(db, row, moment)
    audit.record(
        db,
        state.master_key,
        "emergency.over",
        actor=user,
        owner_id=None,
        detail={"emergency": row.id},
    )
    for owner_id, event in notify_due(db, state.master_key, moment):
        notify_after_commit(db, owner_id, event)
    row.owners_notified_at = moment
    db.flush()
    return row


@router.post("/emergencies/{request_id}/over", responses=problems.responses(409))
def over(request_id: str, user: CurrentUser, db: DbDep, state: StateDep) -> EmergencyPublic:
    """Mark the emergency over (a reviewer or the filing agency); owners are told now."""
    if user.role not in (
        Role.REVIEWER.value,
        Role.ADMIN.value,
        Role.AGENCY_MEMBER.value,
        Role.AGENCY_ADMIN.value,
    ):
        raise Forbidden("only reviewers or the filing agency may end an emergency")
    return emergency_public(db, end_emergency(db, state, user, request_id))


# --- the agency's locker and the owner's history --------------------------------------------------


@router.get("/evidence/disclosures")
def agency_disclosures(user: AgencyUser, db: DbDep) -> list[DisclosurePublic]:
    """What the caller's agency received under legal process or emergencies, newest first."""
    agency = agencies.agency_of(db, user)
    return [disclosure_public(row) for row in legal.agency_disclosures(db, agency)]


def open_disclosure(
    db: Session,
    state: AppState,
    user: User,
    disclosure_id: str,
    *,
    download: bool,
    span: served.Interval | None = None,
) -> tuple[Disclosure, served.Interval]:
    """Check the agency may open a disclosed copy and account for the bytes ``span`` it gets.

    Every piece is an audit entry. A download, or the piece that makes the bytes served the whole
    file (however many ranges it took), is a download: it is dated, and the owner is told now
    if they already know of the disclosure, or sees it with the notice when that is due (I5).
    """
    agency = agencies.agency_of(db, user)
    row = legal.agency_disclosure(db, agency, disclosure_id)
    if row.wrapped_key is None:
        raise NotFound("no such disclosure")
    if span is None:
        whole = (0, row.size - 1)
        span = whole if download else served.playback_span(whole, row.size)
    coverage = legal.serve_disclosure(db, row, user, *span)
    download = download or coverage.completed
    notified = row.notified_at is not None
    audit.record(
        db,
        state.master_key,
        "disclosure.download" if download else "disclosure.view",
        actor=user,
        # Under a non-disclosure order the owner may not learn of it yet, not even here.
        owner_id=row.owner_id if notified else None,
        detail={"disclosure": row.id, "agency": agency.name, "bytes": f"{span[0]}-{span[1]}"},
    )
    if download and notified:
        event = {
            "type": "disclosure",
            "disclosure": {
                "id": row.id,
                "action": "download",
                "agency_name": agency.name,
                "url": "/disclosures/legal",
            },
        }
        notify_after_commit(db, row.owner_id, event)
    return row, span


def _download_url(disclosure_id: str) -> str:
    return f"/api/v1/evidence/disclosures/{disclosure_id}/download"


@router.get(
    "/evidence/disclosures/{disclosure_id}/video",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"video/mp4": {}}},
        206: {"content": {"video/mp4": {}}},
        **problems.responses(405),
    },
)
def disclosure_video(
    disclosure_id: str,
    request: Request,
    user: AgencyUser,
    db: DbDep,
    state: StateDep,
    range_header: RangeHeader = None,
    download: bool = False,
) -> StreamingResponse:
    """Play a disclosed clip (watermarked) by byte ranges; every range is logged for the owner.

    Ranges that add up to the whole file are a download. To download, POST to ``download_url``.
    """
    footage.refuse_download_by_get(download, _download_url(disclosure_id))
    footage.refuse_cross_site(request)
    row = legal.agency_disclosure(db, agencies.agency_of(db, user), disclosure_id)
    if row.wrapped_key is None:
        raise NotFound("no such disclosure")
    bounds = parse_range(range_header, row.size)
    span = served.playback_span(bounds, row.size)
    row, span = open_disclosure(db, state, user, disclosure_id, download=False, span=span)
    return footage.copy_response(
        read_copy(state.keys, row, *span),
        span,
        row.size,
        ranged=bounds is not None,
        sha256=row.sha256,
    )


@router.post(
    "/evidence/disclosures/{disclosure_id}/download",
    response_class=StreamingResponse,
    responses={200: {"content": {"video/mp4": {}}}},
)
def disclosure_download(
    disclosure_id: str, user: AgencyUser, db: DbDep, state: StateDep
) -> StreamingResponse:
    """Download a disclosed clip whole: recorded, dated, and told to the owner."""
    row, span = open_disclosure(db, state, user, disclosure_id, download=True)
    return footage.copy_response(
        read_copy(state.keys, row, *span),
        span,
        row.size,
        ranged=False,
        sha256=row.sha256,
        filename=f"doorstep-disclosure-{row.id}.mp4",
    )


@router.get("/me/disclosures/legal")
def my_disclosures(user: CurrentUser, db: DbDep) -> list[OwnerDisclosure]:
    """Every disclosure of the caller's footage or account under legal process or an emergency."""
    return [owner_disclosure(db, row) for row in legal.owner_disclosures(db, user)]
