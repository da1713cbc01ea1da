"""Rendered footage stored as cameras' clips, sealed like an upload."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from doorstep.cameras import service as cameras
from doorstep.cameras.models import Camera
from doorstep.clips import service as clips
from doorstep.clips.models import Clip
from doorstep.doorbell import service as doorbell
from doorstep.platform.bus.held import HeldFiles
from doorstep.platform.http.state import AppState
from doorstep.platform.keys import Keys
from doorstep.requests import service as rfa_service

#: Rendered footage per stored clip: enough for a visitor to walk up and leave, few enough
#: frames that redacting five clips keeps `doorstep demo` quick to start.
CLIP_SECONDS = 5.0
#: When, into a visit, a visitor who rings presses the button.
PRESS_AFTER = timedelta(seconds=2)
CLIP_FPS = 6


class Footage:
    """Renders a short doorstep visit and stores it as a camera's clip, sealed like an upload."""

    def __init__(self, keys: Keys, folder: Path) -> None:
        self.keys = keys
        self.folder = folder

    def clip(
        self, db: Session, camera: Camera, started_at: datetime, *, seed: int, label: str = "person"
    ) -> Clip:
        """A clip of ``camera`` starting at ``started_at``, stored as the upload API stores it.

        Some visitors (odd seeds) press the button on the way: their visit is a ring too, made
        as an agent's press would make it (with no snapshot: it would only live two minutes).
        """
        if seed % 2:
            doorbell.press(db, HeldFiles(), camera, "demo", None, now=started_at + PRESS_AFTER)
        # Imported here: only media/ loads the codecs, and only the demo's first start needs them.
        from doorstep.media.probe import encode_preview, probe_clip
        from doorstep.media.source import open_source
        from doorstep.media.synthetic import render_visit, visitor_box

        path = self.folder / f"{camera.id}-{seed}.mp4"
        render_visit(path, seconds=CLIP_SECONDS, fps=CLIP_FPS, seed=seed)
        probe = probe_clip(path)
        with open_source(path) as source:
            # The middle of the clip, when the visitor is at the door.
            middle = int(CLIP_SECONDS * source.fps / 2)
            image = next(f.image for f in source.frames() if f.index >= middle)
        assert image is not None
        box = visitor_box(middle, int(CLIP_SECONDS * CLIP_FPS), probe.width, probe.height)
        # ``label``: what the camera's detector said the visitor was (the lost-pet story's is an
        # animal).
        seen = [{"label": label, "score": 0.9, "box": list(box)}] if box else []
        return clips.store_footage(
            db,
            self.keys,
            camera,
            started_at=started_at,
            ended_at=started_at + timedelta(seconds=probe.duration_s or CLIP_SECONDS),
            peak_motion=0.38,
            labels=["motion", label],
            video=path,
            snapshot=encode_preview(image),
            width=probe.width,
            height=probe.height,
            has_audio=probe.has_audio,
            objects=seen,
        )

    def stored(self, state: AppState, camera_id: str, started_at: datetime, *, seed: int) -> None:
        """A clip stored on its own, then its redacted copy made, as an owner's preview would be.

        The redaction runs outside any write: a disclosure that follows only watermarks the copy,
        so the database is never held for long while the job queue needs it.
        """
        with state.db.session() as db:
            camera = cameras.find_camera(db, camera_id)
            assert camera is not None
            clip_id = self.clip(db, camera, started_at, seed=seed).id
        with state.db.session() as db:
            clip = clips.find_clip(db, clip_id)
            assert clip is not None
            rfa_service.redacted_preview(db, state.keys, clip)
