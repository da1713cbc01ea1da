"""An owner's cameras: add, pairing codes, settings, online status, removal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import StreamingResponse

from doorstep.accounts.auth import ClipReader, ClipWriter
from doorstep.cameras import service
from doorstep.cameras.schemas import (
    CameraCreate,
    CameraPrivate,
    CameraUpdate,
    EndToEnd,
    HouseholdInvite,
    HouseholdLiveView,
    HouseholdMemberPublic,
    PairingCodePublic,
)
from doorstep.clips import service as clips
from doorstep.doorbell import service as doorbell
from doorstep.geo.cells import Coordinates
from doorstep.invitations.schemas import InvitationPending, InvitationSent
from doorstep.invitations.service import invitation_pending, invitation_sent
from doorstep.platform.http import problems
from doorstep.platform.http.deps import DbDep, StateDep

router = APIRouter(prefix="/api/v1/cameras", tags=["cameras"])


@router.get("")
def list_cameras(principal: ClipReader) -> list[CameraPrivate]:
    """The caller's cameras."""
    return service.list_cameras(principal.user)


@router.post("", status_code=status.HTTP_201_CREATED)
def add_camera(
    body: CameraCreate, principal: ClipWriter, db: DbDep, state: StateDep
) -> CameraPrivate:
    """Add a camera; then make a pairing code for its agent."""
    position = Coordinates(body.position.lat, body.position.lon) if body.position else None
    camera = service.add_camera(
        db,
        principal.user,
        name=body.name,
        position=position,
        requests_opt_in=body.requests_opt_in,
        cell_resolution=state.settings.public_cell_resolution,
    )
    return service.camera_private(camera)


@router.get("/{camera_id}")
def get_camera(camera_id: str, principal: ClipReader, db: DbDep) -> CameraPrivate:
    """One of the caller's cameras."""
    return service.camera_private(service.owned_camera(db, principal.user, camera_id))


@router.get(
    "/{camera_id}/snapshot",
    responses={200: {"content": {"image/jpeg": {}}}, **problems.responses(404)},
)
def latest_snapshot(camera_id: str, principal: ClipReader, db: DbDep, state: StateDep) -> Response:
    """The camera's newest snapshot, to draw zones over; 404 when none can be read.

    Viewable as its clips are (a household member's look is audited); never an end-to-end
    camera's, whose stills the server cannot read.
    """
    data = clips.latest_snapshot(db, state.keys, principal.user, camera_id)
    return Response(data, media_type="image/jpeg", headers={"cache-control": "private, no-store"})


@router.patch("/{camera_id}")
def update_camera(
    camera_id: str, body: CameraUpdate, principal: ClipWriter, db: DbDep
) -> CameraPrivate:
    """Change zones, what to detect, audio, alerts, quiet hours, retention or request opt-in."""
    return service.update_camera(db, principal.user, camera_id, body)


@router.post("/{camera_id}/e2e", responses=problems.responses(409))
def enable_e2e(camera_id: str, body: EndToEnd, principal: ClipWriter, db: DbDep) -> CameraPrivate:
    """Turn on end-to-end encryption; it cannot be turned off again for this camera."""
    return service.enable_e2e(db, principal.user, camera_id, body.salt, body.check)


@router.post("/{camera_id}/pairing-code", status_code=status.HTTP_201_CREATED)
def pairing_code(camera_id: str, principal: ClipWriter, db: DbDep) -> PairingCodePublic:
    """A new one-time pairing code; an agent already paired keeps working until re-paired."""
    return service.pairing_code(db, principal.user, camera_id)


@router.delete("/{camera_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_camera(camera_id: str, principal: ClipWriter, db: DbDep, state: StateDep) -> Response:
    """Remove a camera and shred all its clips."""
    service.remove_camera(db, state.keys, principal.user, camera_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{camera_id}/household")
def list_household(camera_id: str, principal: ClipReader, db: DbDep) -> list[HouseholdMemberPublic]:
    """Who may view this camera's clips besides the owner."""
    return service.household(db, principal.user, camera_id)


@router.post(
    "/{camera_id}/household",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems.responses(409),
)
def invite_household(
    camera_id: str, body: HouseholdInvite, principal: ClipWriter, db: DbDep
) -> InvitationSent:
    """Invite someone to view (not share or delete) this camera's clips, if they accept.

    The answer is the same whether or not the email has a Doorstep account.
    """
    return invitation_sent(service.invite_household(db, principal.user, camera_id, body.email))


@router.get("/{camera_id}/household/invitations")
def list_household_invitations(
    camera_id: str, principal: ClipReader, db: DbDep
) -> list[InvitationPending]:
    """Household invitations still waiting for an answer."""
    rows = service.household_invitations(db, principal.user, camera_id)
    return [invitation_pending(row) for row in rows]


@router.delete(
    "/{camera_id}/household/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems.responses(404, 409),
)
def withdraw_household_invitation(
    camera_id: str, invitation_id: str, principal: ClipWriter, db: DbDep
) -> Response:
    """Take back a household invitation nobody has answered."""
    service.withdraw_household_invitation(db, principal.user, camera_id, invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/{camera_id}/household/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_household(camera_id: str, user_id: str, principal: ClipWriter, db: DbDep) -> Response:
    """Stop a household member viewing this camera; their live sessions end at once."""
    doorbell.revoke_household(db, principal.user, camera_id, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch("/{camera_id}/household/{user_id}", responses=problems.responses(404, 409))
def set_household_live_view(
    camera_id: str, user_id: str, body: HouseholdLiveView, principal: ClipWriter, db: DbDep
) -> HouseholdMemberPublic:
    """Allow or stop a household member seeing the camera live and answering its rings.

    Every live session of a household member is in the audit log the owner reads; stopping
    it ends their open sessions at once. Only a resident can be allowed (409 for an account
    that has become an agency's or staff).
    """
    return doorbell.set_household_live_view(db, principal.user, camera_id, user_id, body.live_view)


BOUNDARY = "doorstep-live-frame"


@router.get(
    "/{camera_id}/live",
    response_class=StreamingResponse,
    responses={200: {"content": {"multipart/x-mixed-replace": {}}}, **problems.responses(409)},
)
def live_view(
    camera_id: str, request: Request, principal: ClipReader, db: DbDep, state: StateDep
) -> StreamingResponse:
    """The owner's live view as MJPEG; only while the page is open, never for anyone else."""
    live_id = service.live_camera(db, principal.user, camera_id, state.live)

    async def frames() -> AsyncIterator[bytes]:
        last = 0
        while not await request.is_disconnected():
            state.live.want(live_id)
            frame = state.live.latest(live_id)
            if frame is not None and frame[0] != last:
                last = frame[0]
                head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                head += f"Content-Length: {len(frame[1])}\r\n\r\n"
                yield head.encode() + frame[1] + b"\r\n"
            await asyncio.sleep(0.1)

    return StreamingResponse(
        frames(),
        media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
        headers={"cache-control": "no-store"},
    )
