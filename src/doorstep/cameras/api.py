"""An owner's cameras: add, pairing codes, settings, online status, removal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from doorstep.accounts.schemas import HomeLocation, Strict
from doorstep.cameras import store as cameras
from doorstep.cameras.models import Camera, HouseholdMember
from doorstep.clips.store import shred
from doorstep.errors import Conflict
from doorstep.geo.cells import Coordinates
from doorstep.invitations import service as invitations
from doorstep.invitations.schemas import InvitationPending, InvitationSent
from doorstep.invitations.service import invitation_pending, invitation_sent
from doorstep.platform.http import problems
from doorstep.platform.http.deps import ClipReader, ClipWriter, DbDep, StateDep

router = APIRouter(prefix="/api/v1/cameras", tags=["cameras"])

Zones = Annotated[list[list[list[float]]], Field(max_length=32)]
#: Settings a PATCH may clear by sending null.
CLEARABLE = frozenset({"quiet_start", "quiet_end"})


class CameraCreate(Strict):
    """A new camera; its position defaults to the owner's home and is never shown to others."""

    name: Annotated[str, Field(max_length=80)]
    position: HomeLocation | None = None
    requests_opt_in: bool = Field(
        False, description="Whether agencies' Requests for Assistance may reach this camera."
    )


class CameraUpdate(Strict):
    """Changes to a camera's settings; omitted fields stay as they are."""

    name: Annotated[str | None, Field(max_length=80)] = None
    motion_zones: Zones | None = None
    privacy_zones: Zones | None = None
    audio_enabled: bool | None = None
    alert_mode: Annotated[str | None, Field(max_length=10)] = None
    quiet_start: Annotated[str | None, Field(max_length=5)] = None
    quiet_end: Annotated[str | None, Field(max_length=5)] = None
    retention_days: int | None = None
    requests_opt_in: bool | None = None


class CameraPrivate(BaseModel):
    """A camera as its owner sees it."""

    id: str
    name: str
    position: HomeLocation | None
    online: bool
    paired: bool
    last_seen_at: datetime | None
    motion_zones: list[list[list[float]]]
    privacy_zones: list[list[list[float]]]
    audio_enabled: bool
    alert_mode: str
    quiet_start: str | None
    quiet_end: str | None
    retention_days: int
    requests_opt_in: bool
    e2e_enabled: bool
    e2e_salt: str | None
    e2e_check: str | None
    config_version: int


class EndToEnd(Strict):
    """Made in the owner's browser from the passphrase; the passphrase itself never leaves it."""

    salt: Annotated[str, Field(max_length=32, description="16 random bytes, hex")]
    check: Annotated[str, Field(max_length=64, description="HMAC check of the key, hex")]


class PairingCodePublic(BaseModel):
    """A one-time code for `doorstep agent pair --code`; valid for 15 minutes."""

    code: str
    expires_in_seconds: int


def camera_private(camera: Camera) -> CameraPrivate:
    """The owner's view of a camera."""
    position = None
    if camera.lat is not None and camera.lon is not None:
        position = HomeLocation(lat=camera.lat, lon=camera.lon)
    return CameraPrivate(
        id=camera.id,
        name=camera.name,
        position=position,
        online=cameras.is_online(camera),
        paired=camera.paired_at is not None,
        last_seen_at=camera.last_seen_at,
        motion_zones=camera.motion_zones,
        privacy_zones=camera.privacy_zones,
        audio_enabled=camera.audio_enabled,
        alert_mode=camera.alert_mode,
        quiet_start=camera.quiet_start,
        quiet_end=camera.quiet_end,
        retention_days=camera.retention_days,
        requests_opt_in=camera.requests_opt_in,
        e2e_enabled=camera.e2e_enabled,
        e2e_salt=camera.e2e_salt,
        e2e_check=camera.e2e_check,
        config_version=camera.config_version,
    )


@router.get("")
def list_cameras(principal: ClipReader) -> list[CameraPrivate]:
    """The caller's cameras."""
    return [camera_private(camera) for camera in principal.user.cameras]


@router.post("", status_code=status.HTTP_201_CREATED)
def add_camera(
    body: CameraCreate, principal: ClipWriter, db: DbDep, state: StateDep
) -> CameraPrivate:
    """Add a camera; then make a pairing code for its agent."""
    position = Coordinates(body.position.lat, body.position.lon) if body.position else None
    camera = cameras.add_camera(
        db,
        principal.user,
        name=body.name,
        position=position,
        requests_opt_in=body.requests_opt_in,
        cell_resolution=state.settings.public_cell_resolution,
    )
    return camera_private(camera)


@router.get("/{camera_id}")
def get_camera(camera_id: str, principal: ClipReader, db: DbDep) -> CameraPrivate:
    """One of the caller's cameras."""
    return camera_private(cameras.owned_camera(db, principal.user, camera_id))


@router.patch("/{camera_id}")
def update_camera(
    camera_id: str, body: CameraUpdate, principal: ClipWriter, db: DbDep
) -> CameraPrivate:
    """Change zones, audio, alerts, quiet hours, retention or request opt-in."""
    camera = cameras.owned_camera(db, principal.user, camera_id)
    # null leaves a setting as it is, like leaving it out; only quiet hours are cleared by null.
    changes: dict[str, Any] = {
        name: value
        for name, value in body.model_dump(exclude_unset=True).items()
        if value is not None or name in CLEARABLE
    }
    return camera_private(cameras.update_settings(db, camera, changes))


@router.post("/{camera_id}/e2e", responses=problems.responses(409))
def enable_e2e(camera_id: str, body: EndToEnd, principal: ClipWriter, db: DbDep) -> CameraPrivate:
    """Turn on end-to-end encryption; it cannot be turned off again for this camera."""
    camera = cameras.owned_camera(db, principal.user, camera_id)
    return camera_private(cameras.enable_e2e(camera, body.salt, body.check))


@router.post("/{camera_id}/pairing-code", status_code=status.HTTP_201_CREATED)
def pairing_code(camera_id: str, principal: ClipWriter, db: DbDep) -> PairingCodePublic:
    """A new one-time pairing code; an agent already paired keeps working until re-paired."""
    camera = cameras.owned_camera(db, principal.user, camera_id)
    code = cameras.new_pairing_code(db, camera)
    return PairingCodePublic(code=code, expires_in_seconds=int(cameras.PAIRING_TTL.total_seconds()))


@router.delete("/{camera_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_camera(camera_id: str, principal: ClipWriter, db: DbDep, state: StateDep) -> Response:
    """Remove a camera and shred all its clips."""
    camera = cameras.owned_camera(db, principal.user, camera_id)
    for clip in list(camera.clips):
        shred(db, state.keys, clip)
    # The shredded clips are gone; reload the collection so the cascade does not delete them twice.
    db.expire(camera, ["clips"])
    db.delete(camera)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class HouseholdInvite(Strict):
    """The email of the person to invite; they may view this camera's clips once they accept."""

    email: Annotated[str, Field(max_length=254)]


class HouseholdMemberPublic(BaseModel):
    """A household member as the owner sees them: someone who accepted the invitation."""

    user_id: str
    display_name: str
    email: str
    added_at: datetime


def _member(row: HouseholdMember) -> HouseholdMemberPublic:
    return HouseholdMemberPublic(
        user_id=row.user_id,
        display_name=row.user.display_name,
        email=row.user.email,
        added_at=row.added_at,
    )


@router.get("/{camera_id}/household")
def list_household(camera_id: str, principal: ClipReader, db: DbDep) -> list[HouseholdMemberPublic]:
    """Who may view this camera's clips besides the owner."""
    camera = cameras.owned_camera(db, principal.user, camera_id)
    return [_member(row) for row in cameras.household(db, camera)]


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
    camera = cameras.owned_camera(db, principal.user, camera_id)
    return invitation_sent(invitations.invite_to_household(db, camera, principal.user, body.email))


@router.get("/{camera_id}/household/invitations")
def list_household_invitations(
    camera_id: str, principal: ClipReader, db: DbDep
) -> list[InvitationPending]:
    """Household invitations still waiting for an answer."""
    camera = cameras.owned_camera(db, principal.user, camera_id)
    return [invitation_pending(row) for row in invitations.pending_for_camera(db, camera)]


@router.delete(
    "/{camera_id}/household/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems.responses(404, 409),
)
def withdraw_household_invitation(
    camera_id: str, invitation_id: str, principal: ClipWriter, db: DbDep
) -> Response:
    """Take back a household invitation nobody has answered."""
    camera = cameras.owned_camera(db, principal.user, camera_id)
    invitations.withdraw(db, invitation_id, camera=camera)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/{camera_id}/household/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_household(camera_id: str, user_id: str, principal: ClipWriter, db: DbDep) -> Response:
    """Stop a household member viewing this camera."""
    cameras.remove_household_member(
        db, cameras.owned_camera(db, principal.user, camera_id), user_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


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
    camera = cameras.owned_camera(db, principal.user, camera_id)
    if camera.e2e_enabled:
        raise Conflict(
            "live view is not available for an end-to-end encrypted camera: its pictures "
            "would have to pass through the server unencrypted"
        )
    live_id = camera.id

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
