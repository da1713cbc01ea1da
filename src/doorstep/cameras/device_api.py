"""What camera agents call: pair, heartbeat, fetch their configuration, upload clips, live frames.

Whether the owner's MJPEG live page is open reaches the agent in the doorbell's long-poll
(``doorbell/device_api.py``, its ``mjpeg`` flag); the frames come back here.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile, status
from pydantic import ValidationError

from doorstep import __version__
from doorstep.accounts import throttling
from doorstep.accounts.auth import DevicePrincipal
from doorstep.cameras import service_device as device
from doorstep.cameras.schemas import (
    MAX_EVENT_SNAPSHOT,
    MAX_LIVE_FRAME,
    ClipUploadMeta,
    EventAnnounced,
    EventStartMeta,
    Heartbeat,
    HeartbeatResponse,
    PairRequest,
    PairResponse,
)
from doorstep.clips.schemas import ClipPublic
from doorstep.errors import InvalidInput, NotAuthenticated, PayloadTooLarge, UnsupportedMedia
from doorstep.platform.http import problems
from doorstep.platform.http.deps import DbDep, StateDep
from doorstep.platform.http.middleware import body_limit

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])
#: Room for the metadata of a busy scene: 50 objects, each with its zones.
META_LIMIT = 65536


@router.post("/pair", status_code=status.HTTP_201_CREATED, responses=problems.responses(401, 429))
def pair(body: PairRequest, request: Request, db: DbDep, state: StateDep) -> PairResponse:
    """Exchange a one-time pairing code for this camera's device token.

    Each client address may try a few codes that do not work per window.
    """
    attempt = throttling.count_pairing(db, request, state)
    camera, token = device.pair(db, body.code, body.agent_version)
    throttling.paired(db, attempt)
    return PairResponse(camera_id=camera.id, token=token, config=device.agent_config(camera))


@router.post("/heartbeat")
def heartbeat(body: Heartbeat, principal: DevicePrincipal, db: DbDep) -> HeartbeatResponse:
    """Mark the camera online; its spool's backlog, if sent, goes to the operator's metrics."""
    spool = None
    if body.spool_clips is not None and body.spool_bytes is not None:
        spool = (body.spool_clips, body.spool_bytes)
    detection = (body.detect_frames, body.detect_seconds)
    camera = device.heartbeat(db, principal.token, body.agent_version, spool, detection)
    return HeartbeatResponse(config_version=camera.config_version, server_version=__version__)


@router.get("/config")
def config(principal: DevicePrincipal, db: DbDep) -> dict[str, Any]:
    """The camera's current zones, audio and encryption settings."""
    return device.agent_config(device.device_camera(db, principal.token))


@router.post(
    "/clips", responses=problems.responses(409, 413, 415), openapi_extra=body_limit("upload")
)
def upload_clip(
    principal: DevicePrincipal,
    db: DbDep,
    state: StateDep,
    response: Response,
    meta: Annotated[str, Form(max_length=META_LIMIT, description="ClipUploadMeta as JSON")],
    video: Annotated[UploadFile, File(description="H.264 MP4")],
    snapshot: Annotated[UploadFile, File(description="JPEG")],
) -> ClipPublic:
    """Upload a clip with its snapshot; the same content twice is stored once (200 the 2nd time)."""
    camera = device.device_camera(db, principal.token)
    try:
        parsed = ClipUploadMeta.model_validate(json.loads(meta))
    except (ValueError, RecursionError, ValidationError) as err:
        raise InvalidInput(f"meta is not valid event metadata: {err}", field="meta") from err
    body, created = device.receive_clip(
        db,
        state.keys,
        camera,
        parsed,
        video=video.file,
        snapshot=snapshot.file,
        uploads=state.settings.data_dir / "uploads",
        max_bytes=state.settings.max_upload_bytes,
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return body


@router.post(
    "/events",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems.responses(413, 415),
    openapi_extra=body_limit("upload"),
)
def announce_event(
    principal: DevicePrincipal,
    db: DbDep,
    state: StateDep,
    meta: Annotated[str, Form(max_length=META_LIMIT, description="EventStartMeta as JSON")],
    snapshot: Annotated[UploadFile | None, File(description="JPEG; none from e2e cameras")] = None,
) -> EventAnnounced:
    """An event began (or learnt a label): the owner's pages hear it now, not when it ends."""
    try:
        parsed = EventStartMeta.model_validate(json.loads(meta))
    except (ValueError, RecursionError, ValidationError) as err:
        raise InvalidInput(f"meta is not a valid event start: {err}", field="meta") from err
    # One byte past the limit is enough to know it is too large.
    data = snapshot.file.read(MAX_EVENT_SNAPSHOT + 1) if snapshot is not None else None
    return device.announce_event(db, state.held, principal.token, parsed, data)


async def live_frame_body(request: Request) -> bytes:
    """The frame's bytes, read in full before the request takes a database permit."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_LIVE_FRAME:
            raise PayloadTooLarge("a live frame is at most 1 MiB")
    return bytes(body)


@router.post("/live", status_code=status.HTTP_204_NO_CONTENT, responses=problems.responses(415))
async def live_frame(
    # The body first: dependencies resolve in order, and a camera on a slow uplink must not
    # hold one of the few database permits while its frame arrives.
    body: Annotated[bytes, Depends(live_frame_body)],
    principal: DevicePrincipal,
    state: StateDep,
) -> Response:
    """One JPEG frame for the owner's live view; dropped when nobody is watching."""
    camera_id = principal.token.camera_id if principal.token else None
    if camera_id is None or "device" not in (principal.token.scopes if principal.token else []):
        raise NotAuthenticated("this endpoint needs a camera's device token")
    if not body.startswith(b"\xff\xd8"):
        raise UnsupportedMedia("a live frame must be a JPEG image")
    state.live.publish(camera_id, body)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
