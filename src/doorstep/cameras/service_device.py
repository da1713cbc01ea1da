"""What a camera agent does through the server: pair, heartbeat, read its settings, upload a clip.

An upload is checked here (the metadata against the camera, the snapshot, the video's codec or
sealed envelope, audio the owner has not allowed) and handed to ``clips.service`` to seal and store.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from doorstep.accounts.models import ApiToken
from doorstep.cameras import store
from doorstep.cameras.models import Camera
from doorstep.cameras.schemas import (
    MAX_EVENT_SNAPSHOT,
    MAX_SNAPSHOT,
    ClipUploadMeta,
    EventAnnounced,
    EventStartMeta,
)
from doorstep.clips import service as clips
from doorstep.clips import service_events as events
from doorstep.clips.schemas import ClipPublic
from doorstep.clips.store import ClipMeta
from doorstep.errors import Conflict, InvalidInput, PayloadTooLarge, UnsupportedMedia
from doorstep.media.probe import ClipProbe, check_jpeg, probe_clip, strip_audio
from doorstep.platform.bus.live import LiveHub
from doorstep.platform.bus.mqtt import SharedLive
from doorstep.platform.crypto import DecryptionFailed, check_sealed_layout
from doorstep.platform.folders import private_folder
from doorstep.platform.http import metrics
from doorstep.platform.keys import Keys


def pair(db: Session, code: str, agent_version: str) -> tuple[Camera, str]:
    """Exchange a one-time pairing code for the camera and its device token."""
    return store.pair(db, code, agent_version)


def device_camera(db: Session, token: ApiToken | None) -> Camera:
    """The camera a device token belongs to."""
    return store.device_camera(db, token)


def heartbeat(
    db: Session,
    token: ApiToken | None,
    agent_version: str | None,
    spool: tuple[int, int] | None = None,
    detection: tuple[int, float] = (0, 0.0),
) -> Camera:
    """Mark the token's camera online, note its spool and detection figures if told; return it."""
    camera = store.device_camera(db, token)
    store.heartbeat(camera, agent_version)
    if spool is not None:
        metrics.SPOOLS.report(camera.id, *spool)
    metrics.AGENT_DETECTION_FRAMES.inc(detection[0])
    metrics.AGENT_DETECTION_SECONDS.inc(detection[1])
    return camera


def agent_config(camera: Camera) -> dict[str, Any]:
    """The camera's zones, audio and encryption settings, as its agent reads them."""
    return store.agent_config(camera)


def device_key(camera_id: str) -> str:
    """The bus key a camera's agent waits on: a live session for it, or its MJPEG page opened."""
    return f"camera:{camera_id}"


def mjpeg_wanted(camera: Camera, live: LiveHub | SharedLive) -> bool:
    """Whether the owner's MJPEG live page of the camera is open right now."""
    # An end-to-end camera's pictures must never pass through the server in the clear.
    return live.wanted(camera.id) and not camera.e2e_enabled


def announce_event(
    db: Session,
    held: events.Held,
    token: ApiToken | None,
    meta: EventStartMeta,
    snapshot: bytes | None,
) -> EventAnnounced:
    """An event has begun (or learnt a label): tell the owner's pages now, before any clip.

    The snapshot, a plain JPEG, is held in memory for a short while; an end-to-end camera's
    pictures never reach the server in the clear, so it sends none.
    """
    camera = store.device_camera(db, token)
    if snapshot is not None:
        if camera.e2e_enabled:
            raise InvalidInput(
                "this camera is end-to-end encrypted: it sends no snapshot in the clear",
                field="snapshot",
            )
        if len(snapshot) > MAX_EVENT_SNAPSHOT:
            raise PayloadTooLarge("an event snapshot is at most 1 MiB")
        check_jpeg(snapshot)
    sent = events.announce(
        db,
        held,
        camera,
        event_id=str(meta.event_id),
        started_at=meta.started_at,
        labels=meta.labels,
        snapshot=snapshot,
        objects=meta.objects,
    )
    store.heartbeat(camera, None)
    return EventAnnounced(event_id=str(meta.event_id), sent=sent)


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


def _save_upload(upload: BinaryIO, folder: Path, limit: int) -> Path:
    private_folder(folder)
    handle = tempfile.NamedTemporaryFile(dir=folder, suffix=".upload", delete=False)  # noqa: SIM115
    path = Path(handle.name)
    try:
        with handle:
            shutil.copyfileobj(upload, handle, 1024 * 1024)
        if path.stat().st_size > limit:
            raise PayloadTooLarge("the clip is larger than the upload limit")
        if path.stat().st_size == 0:
            raise InvalidInput("the clip is empty", field="video")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def receive_clip(
    db: Session,
    keys: Keys,
    camera: Camera,
    meta: ClipUploadMeta,
    *,
    video: BinaryIO,
    snapshot: BinaryIO,
    uploads: Path,
    max_bytes: int,
) -> tuple[ClipPublic, bool]:
    """Check a camera's upload and store it; the same content twice is stored once (``False``)."""
    if camera.e2e_enabled and not meta.e2e:
        raise Conflict("this camera is end-to-end encrypted: the agent must seal clips first")
    if meta.e2e and not camera.e2e_enabled:
        raise InvalidInput("end-to-end encryption is off for this camera", field="meta")
    snapshot_bytes = snapshot.read(MAX_SNAPSHOT + 1)
    if len(snapshot_bytes) > MAX_SNAPSHOT:
        raise PayloadTooLarge("the snapshot is larger than 5 MiB")
    if meta.e2e:
        check_sealed(snapshot_bytes, field="snapshot")
    else:
        check_jpeg(snapshot_bytes)
    path = _save_upload(video, uploads, max_bytes)
    try:
        # The server cannot open a sealed clip; it checks the envelope instead of the video.
        probe = sealed_probe(path) if meta.e2e else probe_clip(path)
        if probe.has_audio and not camera.audio_enabled:
            # Audio is off until the owner turns it on (I7), whatever the camera sends.
            strip_audio(path)
            probe = probe_clip(path)
        received = clips.receive_clip(
            db,
            keys,
            camera,
            ClipMeta(
                meta.started_at,
                meta.ended_at,
                meta.peak_motion,
                meta.labels,
                event_id=str(meta.event_id) if meta.event_id is not None else None,
                segment=meta.segment,
                objects=meta.objects,
            ),
            video=path,
            snapshot=snapshot_bytes,
            width=probe.width,
            height=probe.height,
            has_audio=probe.has_audio,
            e2e=meta.e2e,
        )
    finally:
        path.unlink(missing_ok=True)
    store.heartbeat(camera, None)
    return received
