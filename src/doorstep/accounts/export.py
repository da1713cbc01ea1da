"""An owner's whole account as one ZIP: account, cameras, clips with video, posts, audit entries.

Made in two steps so the slow one holds no database permit: ``gather`` reads every row and
unwraps each clip's key inside the request's transaction, then ``stream_zip`` decrypts the
footage from the blob store and yields the archive piece by piece with no database at all, as
fast as the client reads it (nothing is written to disk, memory stays flat).

A blob that is missing or fails to decrypt once the archive has begun aborts the stream: the
bytes already sent end with no central directory, so no ZIP reader takes them for a whole
export, and the browser reports the download as failed rather than saving a shorter archive.
"""

from __future__ import annotations

import json
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.accounts.models import NoticeTarget, User
from doorstep.cameras.models import HouseholdMember
from doorstep.clips.models import Clip
from doorstep.clips.store import owner_data_key
from doorstep.errors import DoorstepError, NotFound
from doorstep.neighbors.models import Comment, Post
from doorstep.notify.models import PushDevice
from doorstep.platform.blobs import BlobStore
from doorstep.platform.crypto import clip_key_context, decrypt_stream, unwrap_key
from doorstep.platform.keys import Keys
from doorstep.platform.types import utcnow
from doorstep.transparency import audit_store as audit

log = logging.getLogger(__name__)

README = """\
This is everything Doorstep holds about your account, as of {now}.

account.json   your account, including your exact home (only you ever see it), your email, the
               devices Doorstep pushes to and the extra notification targets you added
cameras.json   your cameras, their settings and who of your household you let in
clips.json     every clip's details; the video and snapshot are in clips/
posts.json     your Neighbors posts and comments
audit.json     every recorded access to your footage by anyone but you
"""


@dataclass(frozen=True, slots=True)
class ClipFiles:
    """Where one clip's video and snapshot go in the ZIP, and what opens them."""

    stem: str
    video_key: str
    snapshot_key: str
    #: The clip's own key, unwrapped while the transaction was open.
    key: bytes


@dataclass(frozen=True, slots=True)
class Contents:
    """Everything the ZIP holds, read from the database: writing it needs only the blobs."""

    now: datetime
    account: dict[str, Any]
    cameras: list[dict[str, Any]]
    clips: list[dict[str, Any]]
    files: list[ClipFiles]
    posts: dict[str, Any]
    audit: Any


def gather(db: Session, keys: Keys, user: User) -> Contents:
    """Read what the export holds about ``user``, clip keys included; nothing is decrypted yet."""
    now = utcnow()
    account = {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "home": {"lat": user.home_lat, "lon": user.home_lon},
        "created_at": user.created_at,
        "email_verified_at": user.email_verified_at,
        "api_tokens": [
            {"name": t.name, "scopes": t.scopes, "created_at": t.created_at} for t in user.tokens
        ],
        # A push endpoint is a capability URL and its keys open the messages: neither is written
        # into a file that may be copied around; the device's name and push service are.
        "push_devices": [
            {
                "name": d.name,
                "push_service": d.service,
                "created_at": d.created_at,
                "last_success_at": d.last_success_at,
                "last_failure_at": d.last_failure_at,
                "last_failure": d.last_failure,
            }
            for d in db.scalars(
                select(PushDevice)
                .where(PushDevice.user_id == user.id)
                .order_by(PushDevice.created_at)
            )
        ],
        # The same for a target's URL, which may hold a password: its scheme and host, as shown.
        "notice_targets": [
            {"target": t.masked, "created_at": t.created_at, "last_failure": t.last_failure}
            for t in db.scalars(
                select(NoticeTarget)
                .where(NoticeTarget.user_id == user.id)
                .order_by(NoticeTarget.created_at)
            )
        ],
    }
    cameras = [
        {
            "id": c.id,
            "name": c.name,
            "position": {"lat": c.lat, "lon": c.lon},
            "motion_zones": c.motion_zones,
            "privacy_zones": c.privacy_zones,
            "detection_zones": c.detection_zones,
            "alert_mode": c.alert_mode,
            "object_rules": c.object_rules,
            "ignore_stationary": c.ignore_stationary,
            "quiet_hours": {"start": c.quiet_start, "end": c.quiet_end},
            "time_zone": c.time_zone,
            "audio_enabled": c.audio_enabled,
            "retention_days": c.retention_days,
            "detection_retention_days": c.detection_retention_days,
            "motion_retention_days": c.motion_retention_days,
            "requests_opt_in": c.requests_opt_in,
            "e2e_enabled": c.e2e_enabled,
            "household": [
                {"name": m.user.display_name, "live_view": m.live_view, "added_at": m.added_at}
                for m in db.scalars(
                    select(HouseholdMember).where(HouseholdMember.camera_id == c.id)
                )
            ],
        }
        for c in user.cameras
    ]
    clips = list(db.scalars(select(Clip).where(Clip.owner_id == user.id).order_by(Clip.started_at)))
    entries = []
    files = []
    data_key = owner_data_key(db, keys.master, user.id) if clips else b""
    for clip in clips:
        stem = f"clips/{clip.started_at.strftime('%Y%m%dT%H%M%S')}-{clip.id}"
        entries.append(
            {
                "id": clip.id,
                "camera_id": clip.camera_id,
                "started_at": clip.started_at,
                "ended_at": clip.ended_at,
                "labels": clip.labels,
                "kind": clip.kind,
                "objects": clip.objects,
                "expires_at": clip.expires_at,
                "video": stem + ".mp4",
                "snapshot": stem + ".jpg",
            }
        )
        if clip.wrapped_key is None:
            raise NotFound("that clip has been deleted")
        context = clip_key_context(clip.owner_id, clip.id)
        key = unwrap_key(data_key, clip.wrapped_key, context=context)
        files.append(ClipFiles(stem, clip.video_key, clip.snapshot_key, key))
    posts = db.scalars(select(Post).where(Post.author_id == user.id))
    comments = db.scalars(select(Comment).where(Comment.author_id == user.id))
    written = {
        "posts": [
            {
                "id": p.id,
                "category": p.category,
                "text": p.text,
                "area": p.cell,
                "created_at": p.created_at,
                "status": p.status,
            }
            for p in posts
        ],
        "comments": [
            {"post_id": c.post_id, "text": c.text, "created_at": c.created_at} for c in comments
        ],
    }
    return Contents(
        now=now,
        account=account,
        cameras=cameras,
        clips=entries,
        files=files,
        posts=written,
        audit=audit.about_owner(db, user.id, limit=100_000),
    )


def _dump(archive: zipfile.ZipFile, name: str, data: Any) -> None:
    archive.writestr(name, json.dumps(data, indent=2, default=str, ensure_ascii=False))


class _Pipe:
    """A write-only, unseekable file: ``zipfile`` writes into it, the response takes the bytes."""

    def __init__(self) -> None:
        self._pieces: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._pieces.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: the pieces wait for ``take``."""

    def close(self) -> None:
        """Nothing to close: the response ends the stream."""

    def take(self) -> bytes:
        data = b"".join(self._pieces)
        self._pieces.clear()
        return data


class ExportAborted(RuntimeError):
    """The export could not be finished once it had begun: the connection is cut, not answered."""


def stream_zip(contents: Contents, blobs: BlobStore) -> Iterator[bytes]:
    """The ZIP in pieces, each yielded as soon as it is written (see the module's docstring)."""
    try:
        yield from _stream_zip(contents, blobs)
    except DoorstepError as err:
        # Not a DoorstepError any more: its handler cannot answer a response already under way.
        log.warning("an account export was cut short: %s", err)
        raise ExportAborted(f"the export was cut short: {err}") from err


def _stream_zip(contents: Contents, blobs: BlobStore) -> Iterator[bytes]:
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README.format(now=contents.now.isoformat()))
        _dump(archive, "account.json", contents.account)
        _dump(archive, "cameras.json", contents.cameras)
        yield pipe.take()
        for clip in contents.files:
            # Stored, not deflated: MP4 does not shrink, and streaming keeps memory flat.
            info = zipfile.ZipInfo(clip.stem + ".mp4")
            with archive.open(info, "w", force_zip64=True) as out:
                for piece in decrypt_stream(blobs.open_stream(clip.video_key), clip.key):
                    out.write(piece)
                    yield pipe.take()
            snapshot = b"".join(decrypt_stream(blobs.open_stream(clip.snapshot_key), clip.key))
            archive.writestr(clip.stem + ".jpg", snapshot)
            yield pipe.take()
        _dump(archive, "clips.json", contents.clips)
        _dump(archive, "posts.json", contents.posts)
        _dump(archive, "audit.json", contents.audit)
    yield pipe.take()
