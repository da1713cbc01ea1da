"""Agencies: apply, verification by an admin, members, the public directory, the camera map."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from doorstep.accounts.auth import CurrentUser, ReviewerUser
from doorstep.agencies import service
from doorstep.agencies.schemas import (
    AgencyApply,
    AgencyPrivate,
    AgencyPublic,
    AgencyVerify,
    CameraMap,
    MemberInvite,
    MemberPublic,
)
from doorstep.invitations.schemas import InvitationPending, InvitationSent
from doorstep.invitations.service import invitation_pending, invitation_sent
from doorstep.platform.http import problems
from doorstep.platform.http.deps import DbDep, StateDep
from doorstep.platform.http.middleware import body_limit

router = APIRouter(prefix="/api/v1/agencies", tags=["agencies"])
#: A jurisdiction may have 100,000 positions (``geo``); written out at full precision, with the
#: JSON around them, that is up to about 5 MiB.
JURISDICTION_BODY_BYTES = 6 * 1024 * 1024


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problems.responses(409, 413),
    openapi_extra=body_limit(JURISDICTION_BODY_BYTES),
)
def apply(body: AgencyApply, user: CurrentUser, db: DbDep, state: StateDep) -> AgencyPrivate:
    """Apply for an agency; you become its admin once a Doorstep admin verifies it."""
    agency = service.apply(
        db,
        user,
        name=body.name,
        kind=body.kind,
        jurisdiction=body.jurisdiction,
        contact=body.contact,
        cell_resolution=state.settings.public_cell_resolution,
        level=body.level,
    )
    return service.agency_private(agency)


@router.get("")
def directory(db: DbDep, state: StateDep) -> list[AgencyPublic]:
    """Every verified agency with its jurisdiction, every request it made and its statistics.

    A request that reached fewer than k owners does not say how many (I3).
    """
    k = state.settings.camera_map_k
    return service.directory(db, k)


@router.get("/applications")
def applications(_staff: ReviewerUser, db: DbDep) -> list[AgencyPrivate]:
    """Agencies waiting for verification (admins and reviewers)."""
    return [service.agency_private(agency) for agency in service.applications(db)]


@router.get("/mine", responses=problems.responses(404))
def mine(user: CurrentUser, db: DbDep) -> AgencyPrivate:
    """The agency the caller applied for or works for."""
    return service.agency_private(service.mine(db, user))


@router.get("/{agency_id}")
def get_agency(agency_id: str, db: DbDep, state: StateDep) -> AgencyPublic:
    """One verified agency, as the public sees it; fewer than k asked is not told (I3)."""
    k = state.settings.camera_map_k
    return service.agency_public(db, service.public_agency(db, agency_id), k)


@router.post("/{agency_id}/verify", responses=problems.responses(409))
def verify(
    agency_id: str, staff: ReviewerUser, db: DbDep, body: AgencyVerify | None = None
) -> AgencyPrivate:
    """Verify an agency at the level confirmed: it appears in the directory; local ones may ask."""
    level = body.level if body is not None else None
    return service.agency_private(service.decide(db, agency_id, staff, verify=True, level=level))


@router.post("/{agency_id}/reject", responses=problems.responses(409))
def reject(agency_id: str, staff: ReviewerUser, db: DbDep) -> AgencyPrivate:
    """Refuse an application."""
    return service.agency_private(service.decide(db, agency_id, staff, verify=False))


@router.get("/{agency_id}/members")
def list_members(agency_id: str, user: CurrentUser, db: DbDep) -> list[MemberPublic]:
    """The agency's members (members of that agency only)."""
    agency = service.own_agency(db, user, agency_id)
    return [
        MemberPublic(
            user_id=m.user_id,
            display_name=m.user.display_name,
            email=m.user.email,
            role=m.role,
            added_at=m.added_at,
        )
        for m in service.members(db, agency)
    ]


@router.post(
    "/{agency_id}/members",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems.responses(409),
)
def invite(agency_id: str, body: MemberInvite, user: CurrentUser, db: DbDep) -> InvitationSent:
    """Invite someone to the agency (agency admins only); they join only if they accept.

    The answer is the same whether or not the email has a Doorstep account.
    """
    agency = service.own_agency(db, user, agency_id, admin=True)
    return invitation_sent(service.invite(db, agency, user, body.email))


@router.get("/{agency_id}/invitations")
def list_invitations(agency_id: str, user: CurrentUser, db: DbDep) -> list[InvitationPending]:
    """Invitations still waiting for an answer (agency admins only)."""
    agency = service.own_agency(db, user, agency_id, admin=True)
    return [invitation_pending(row) for row in service.pending_invitations(db, agency)]


@router.delete(
    "/{agency_id}/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems.responses(404, 409),
)
def withdraw_invitation(
    agency_id: str, invitation_id: str, user: CurrentUser, db: DbDep
) -> Response:
    """Take back an invitation nobody has answered (agency admins only)."""
    agency = service.own_agency(db, user, agency_id, admin=True)
    service.withdraw_invitation(db, agency, invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{agency_id}/camera-map")
def camera_map(agency_id: str, user: CurrentUser, db: DbDep, state: StateDep) -> CameraMap:
    """Opted-in cameras per cell of the jurisdiction; cells under k are left out (I1)."""
    agency = service.own_agency(db, user, agency_id)
    return service.camera_map_of(db, agency, state.settings.camera_map_k)
