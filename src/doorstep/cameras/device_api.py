"""What camera agents call: pair, heartbeat, fetch their configuration, upload clips."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile, status
from pydantic import BaseModel, Field, ValidationError

from doorstep import __version__
from doorstep.accounts import throttling
from doorstep.accounts.schemas import Strict
from doorstep.cameras import store as cameras
from doorstep.cameras.rules import in_quiet_hours, should_alert
from doorstep.clips.api import ClipPublic, clip_public
from doorstep.clips.store import ClipMeta, store_clip
from doorstep.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    PayloadTooLarge,
    UnsupportedMedia,
)
from doorstep.media.probe import ClipProbe, check_jpeg, probe_clip, strip_audio
from doorstep.platform.bus.memory import notify_after_commit
from doorstep.platform.crypto import DecryptionFailed, check_sealed_layout
from doorstep.platform.folders import private_folder
from doorstep.platform.http import problems
from doorstep.platform.http.deps import DbDep, DevicePrincipal, StateDep
from doorstep.platform.types import utcnow

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])

MAX_SNAPSHOT = 5 * 1024 * 1024
MAX_LIVE_FRAME = 1024 * 1024


class PairRequest(Strict):
    """A pairing code typed into the agent."""

    code: Annotated[str, Field(max_length=40)]
    agent_version: Annotated[str, Field(max_length=40)] = "unknown"


class PairResponse(BaseModel):
    """The device token (shown once) and the camera's configuration."""

    camera_id: str
    token: str
    config: dict[str, Any]


class Heartbeat(Strict):
    """The agent is alive."""

    agent_version: Annotated[str | None, Field(max_length=40)] = None


class HeartbeatResponse(BaseModel):
    """Tells the agent whether its configuration changed."""

    config_version: int
    server_version: str


class ClipUploadMeta(Strict):
    """Event metadata sent with a clip."""

    started_at: datetime
    ended_at: datetime
    peak_motion: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
    labels: Annotated[list[str], Field(max_length=5)] = []
    e2e: bool = Field(False, description="The video and snapshot are sealed with the owner's key")


@router.post("/pair", status_code=status.HTTP_201_CREATED, responses=problems.responses(401, 429))
def pair(body: PairRequest, request: Request, db: DbDep, state: StateDep) -> PairResponse:
    """Exchange a one-time pairing code for this camera's device token.

    Each client address may try a few codes that do not work per window.
    """
    attempt = throttling.count_pairing(db, request, state)
    camera, token = cameras.pair(db, body.code, body.agent_version)
    throttling.paired(db, attempt)
    return PairResponse(camera_id=camera.id, token=token, config=cameras.agent_config(camera))


@router.post("/heartbeat")
def heartbeat(body: Heartbeat, principal: DevicePrincipal, db: DbDep) -> HeartbeatResponse:
    """Mark the camera online."""
    camera = cameras.device_camera(db, principal.token)
    cameras.heartbeat(camera, body.agent_version)
    return HeartbeatResponse(config_version=camera.config_version, server_version=__version__)


@router.get("/config")
def config(principal: DevicePrincipal, db: DbDep) -> dict[str, Any]:
    """The camera's current zones, audio and encryption settings."""
    return cameras.agent_config(cameras.device_camera(db, principal.token))


def check_sealed(data: bytes, *, field: str) -> None:
    """Refuse bytes that are not a sealed Doorstep clip (magic, version and a possible size)."""
    try:
        check_sealed_layout(len(data))
    except (DecryptionFailed, ValueError) as err:
        raise UnsupportedMedia("that is not an end-to-end sealed file", field=field) from err
    if not data.startswith(b"DSCL\x01"):
        raise UnsupportedMedia("that is not an end-to-end sealed file", field=field)


def sealed_probe(path: Path) -> ClipProbe:
    """What the server can know of a sealed clip: nothing but that it is one."""
    with path.open("rb") as handle:
        head = handle.read(5)
    size = path.stat().st_size
    try:
        check_sealed_layout(size)
    except (DecryptionFailed, ValueError) as err:
        raise UnsupportedMedia("that is not an end-to-end sealed clip", field="video") from err
    if head != b"DSCL\x01":
        raise UnsupportedMedia("that is not an end-to-end sealed clip", field="video")
    return ClipProbe(codec="sealed", width=0, height=0, duration_s=0.0, has_audio=False)


def _save_upload(upload: UploadFile, folder: Path, limit: int) -> Path:
    private_folder(folder)
    handle = tempfile.NamedTemporaryFile(dir=folder, suffix=".upload", delete=False)  # noqa: SIM115
    path = Path(handle.name)
    try:
        with handle:
            shutil.copyfileobj(upload.file, handle, 1024 * 1024)
        if path.stat().st_size > limit:
            raise PayloadTooLarge("the clip is larger than the upload limit")
        if path.stat().st_size == 0:
            raise InvalidInput("the clip is empty", field="video")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


@router.post("/clips", responses=problems.responses(409, 415))
def upload_clip(
    principal: DevicePrincipal,
    db: DbDep,
    state: StateDep,
    response: Response,
    meta: Annotated[str, Form(max_length=4096, description="ClipUploadMeta as JSON")],
    video: Annotated[UploadFile, File(description="H.264 MP4")],
    snapshot: Annotated[UploadFile, File(description="JPEG")],
) -> ClipPublic:
    """Upload a clip with its snapshot; the same content twice is stored once (200 the 2nd time)."""
    camera = cameras.device_camera(db, principal.token)
    try:
        parsed = ClipUploadMeta.model_validate(json.loads(meta))
    except (ValueError, ValidationError) as err:
        raise InvalidInput(f"meta is not valid event metadata: {err}", field="meta") from err
    if camera.e2e_enabled and not parsed.e2e:
        raise Conflict("this camera is end-to-end encrypted: the agent must seal clips first")
    if parsed.e2e and not camera.e2e_enabled:
        raise InvalidInput("end-to-end encryption is off for this camera", field="meta")
    snapshot_bytes = snapshot.file.read(MAX_SNAPSHOT + 1)
    if len(snapshot_bytes) > MAX_SNAPSHOT:
        raise PayloadTooLarge("the snapshot is larger than 5 MiB")
    if parsed.e2e:
        check_sealed(snapshot_bytes, field="snapshot")
    else:
        check_jpeg(snapshot_bytes)
    path = _save_upload(video, state.settings.data_dir / "uploads", state.settings.max_upload_bytes)
    try:
        # The server cannot open a sealed clip; it checks the envelope instead of the video.
        probe = sealed_probe(path) if parsed.e2e else probe_clip(path)
        if probe.has_audio and not camera.audio_enabled:
            # Audio is off until the owner turns it on (I7), whatever the camera sends.
            strip_audio(path)
            probe = probe_clip(path)
        clip, created = store_clip(
            db,
            state.keys,
            camera,
            ClipMeta(parsed.started_at, parsed.ended_at, parsed.peak_motion, parsed.labels),
            video=path,
            snapshot=snapshot_bytes,
            width=probe.width,
            height=probe.height,
            has_audio=probe.has_audio,
            e2e=parsed.e2e,
        )
    finally:
        path.unlink(missing_ok=True)
    cameras.heartbeat(camera, None)
    body = clip_public(clip, camera.name)
    if created:
        quiet = in_quiet_hours(utcnow().time(), camera.quiet_start, camera.quiet_end)
        notify_after_commit(
            db,
            camera.owner_id,
            {
                "type": "clip",
                "alert": should_alert(camera.alert_mode, clip.labels, quiet=quiet),
                "clip": body.model_dump(mode="json"),
            },
        )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return body


class LiveWanted(BaseModel):
    """Whether the owner is watching this camera live right now."""

    wanted: bool


@router.get("/live")
def live_wanted(principal: DevicePrincipal, db: DbDep, state: StateDep) -> LiveWanted:
    """Asked every second or so by the agent; true while the owner's live page is open."""
    camera = cameras.device_camera(db, principal.token)
    # An end-to-end camera's pictures must never pass through the server in the clear.
    return LiveWanted(wanted=state.live.wanted(camera.id) and not camera.e2e_enabled)


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
