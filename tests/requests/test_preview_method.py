"""A preview kept from the old redaction is made again before anyone sees or shares it."""

from __future__ import annotations

import io
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.clips.models import Clip
from doorstep.media.redact import METHOD
from doorstep.platform.http.state import AppState
from doorstep.requests.models import LEGACY_PREVIEW_METHOD, ClipPreview
from doorstep.requests.service import read_preview, redacted_preview
from tests.cameras.test_api_devices import _camera, _pair, _upload
from tests.factories import resident
from tests.samples import tiny_clip


def test_an_old_blurred_preview_is_made_again_and_its_blob_shredded(
    app: FastAPI, client: TestClient, tmp_path: Path
) -> None:
    csrf = resident(client)
    token = _pair(client, csrf, _camera(client, csrf)["id"])
    uploaded = _upload(client, token, tiny_clip(tmp_path / "a.mp4", frames=12).read_bytes())
    state: AppState = app.state.doorstep
    with state.db.session() as db:
        clip = db.get(Clip, uploaded.json()["id"])
        assert clip is not None
        made = redacted_preview(db, state.keys, clip)
        assert made.method == METHOD
        first_key = made.blob_key
        # The same preview is kept while the method is the same.
        assert redacted_preview(db, state.keys, clip).blob_key == first_key
        # Pretend it was made by the old blur, as every preview from before the change was.
        made.method = LEGACY_PREVIEW_METHOD
        old_key = made.blob_key
        state.keys.blobs.put(old_key, io.BytesIO(b"old sealed blur"))
        db.flush()
    assert state.keys.blobs.exists(old_key)
    with state.db.session() as db:
        clip = db.get(Clip, uploaded.json()["id"])
        assert clip is not None
        remade = redacted_preview(db, state.keys, clip)
        assert remade.method == METHOD
        assert remade.blob_key != old_key
        plain = b"".join(read_preview(state.keys, remade, 0, remade.size - 1))
        assert plain[4:8] == b"ftyp"
    with state.db.session() as db:
        row = db.get(ClipPreview, uploaded.json()["id"])
        assert row is not None
        assert row.method == METHOD
    # The old blob went once the new preview was committed.
    assert not state.keys.blobs.exists(old_key)
