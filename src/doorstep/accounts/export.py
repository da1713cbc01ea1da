"""An owner's whole account as one ZIP: account, cameras, clips with video, posts, audit entries."""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.clips.models import Clip
from doorstep.clips.store import read_snapshot, read_video
from doorstep.neighbors.store import Comment, Post
from doorstep.platform.folders import private_folder
from doorstep.platform.keys import Keys
from doorstep.transparency import audit_store as audit

README = """\
This is everything Doorstep holds about your account, as of {now}.

account.json   your account, including your exact home (only you ever see it)
cameras.json   your cameras and their settings
clips.json     every clip's details; the video and snapshot are in clips/
posts.json     your Neighbors posts and comments
audit.json     every recorded access to your footage by anyone but you
"""


def _dump(archive: zipfile.ZipFile, name: str, data: Any) -> None:
    archive.writestr(name, json.dumps(data, indent=2, default=str, ensure_ascii=False))


def export_account(db: Session, keys: Keys, user: User, folder: Path) -> Path:
    """Write the ZIP into ``folder`` and return its path (the caller removes it when sent)."""
    from doorstep.platform.types import utcnow

    private_folder(folder)
    handle = tempfile.NamedTemporaryFile(dir=folder, suffix=".zip", delete=False)  # noqa: SIM115
    path = Path(handle.name)
    handle.close()
    try:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("README.txt", README.format(now=utcnow().isoformat()))
            _dump(
                archive,
                "account.json",
                {
                    "id": user.id,
                    "email": user.email,
                    "display_name": user.display_name,
                    "role": user.role,
                    "home": {"lat": user.home_lat, "lon": user.home_lon},
                    "created_at": user.created_at,
                    "api_tokens": [
                        {"name": t.name, "scopes": t.scopes, "created_at": t.created_at}
                        for t in user.tokens
                    ],
                },
            )
            _dump(
                archive,
                "cameras.json",
                [
                    {
                        "id": c.id,
                        "name": c.name,
                        "position": {"lat": c.lat, "lon": c.lon},
                        "motion_zones": c.motion_zones,
                        "privacy_zones": c.privacy_zones,
                        "audio_enabled": c.audio_enabled,
                        "retention_days": c.retention_days,
                        "requests_opt_in": c.requests_opt_in,
                    }
                    for c in user.cameras
                ],
            )
            clips = list(
                db.scalars(select(Clip).where(Clip.owner_id == user.id).order_by(Clip.started_at))
            )
            entries = []
            for clip in clips:
                stem = f"clips/{clip.started_at.strftime('%Y%m%dT%H%M%S')}-{clip.id}"
                entries.append(
                    {
                        "id": clip.id,
                        "camera_id": clip.camera_id,
                        "started_at": clip.started_at,
                        "ended_at": clip.ended_at,
                        "labels": clip.labels,
                        "video": stem + ".mp4",
                        "snapshot": stem + ".jpg",
                    }
                )
                # Stored, not deflated: MP4 does not shrink, and streaming keeps memory flat.
                with archive.open(zipfile.ZipInfo(stem + ".mp4"), "w", force_zip64=True) as out:
                    for piece in read_video(db, keys, clip):
                        out.write(piece)
                archive.writestr(stem + ".jpg", read_snapshot(db, keys, clip))
            _dump(archive, "clips.json", entries)
            posts = db.scalars(select(Post).where(Post.author_id == user.id))
            comments = db.scalars(select(Comment).where(Comment.author_id == user.id))
            _dump(
                archive,
                "posts.json",
                {
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
                        {"post_id": c.post_id, "text": c.text, "created_at": c.created_at}
                        for c in comments
                    ],
                },
            )
            _dump(archive, "audit.json", audit.about_owner(db, user.id, limit=100_000))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
