"""Shredding at the storage layer: copies left without their clip, and bytes kept on rollback."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path

import pytest

from doorstep.clips.models import Clip
from doorstep.clips.store import ClipMeta, expire, read_snapshot, shred, store_clip
from doorstep.legal.models import Disclosure
from doorstep.platform.blobs import LocalBlobStore
from doorstep.platform.crypto import EncryptingReader, new_key, wrap_key
from doorstep.platform.db import Database
from doorstep.platform.keys import Keys
from doorstep.platform.types import utcnow
from doorstep.requests.models import Share
from doorstep.requests.service import share_key_context
from tests.requests.test_store import _agency, _camera, _rfa, _user

SNAPSHOT = b"\xff\xd8 a snapshot"


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    return Keys(
        master=new_key(), blobs=LocalBlobStore(tmp_path / "blobs"), scratch=tmp_path / "work"
    )


def _stored_clip(database: Database, keys: Keys, tmp_path: Path) -> tuple[str, list[str]]:
    video = tmp_path / "clip.mp4"
    video.write_bytes(os.urandom(3000))
    now = utcnow()
    meta = ClipMeta(
        started_at=now - timedelta(minutes=5),
        ended_at=now - timedelta(minutes=4),
        peak_motion=0.1,
        labels=["motion"],
    )
    with database.session() as db:
        camera = _camera(db, _user(db, "owner@example.org"), 0)
        clip, created = store_clip(
            db,
            keys,
            camera,
            meta,
            video=video,
            snapshot=SNAPSHOT,
            width=64,
            height=48,
            has_audio=False,
        )
        assert created
        return clip.id, [clip.video_key, clip.snapshot_key]


def test_a_rolled_back_delete_keeps_the_clip_playable(
    database: Database, keys: Keys, tmp_path: Path
) -> None:
    clip_id, blob_keys = _stored_clip(database, keys, tmp_path)

    def delete_then_fail() -> None:
        with database.session() as db:
            clip = db.get(Clip, clip_id)
            assert clip is not None
            shred(db, keys, clip)
            raise RuntimeError("the request failed after the delete")

    with pytest.raises(RuntimeError):
        delete_then_fail()
    assert all(keys.blobs.exists(key) for key in blob_keys)
    with database.session() as db:
        clip = db.get(Clip, clip_id)
        assert clip is not None
        assert read_snapshot(db, keys, clip) == SNAPSHOT
    # Inside a savepoint the bytes wait for the outer commit, then go.
    with database.session() as db:
        with db.begin_nested():
            clip = db.get(Clip, clip_id)
            assert clip is not None
            shred(db, keys, clip)
        assert all(keys.blobs.exists(key) for key in blob_keys)
    assert not any(keys.blobs.exists(key) for key in blob_keys)


def test_the_sweep_shreds_copies_whose_clip_is_already_gone(database: Database, keys: Keys) -> None:
    now = utcnow()
    with database.session() as db:
        agency, chief = _agency(db)
        owner = _user(db, "owner@example.org")
        rfa = _rfa(db, agency, chief)
        share = Share(
            rfa_id=rfa.id,
            owner_id=owner.id,
            clip_id=None,
            anonymous=True,
            clip_started_at=now,
            clip_ended_at=now,
            sha256="1" * 64,
            size=10,
            ciphertext_size=10,
            created_at=now,
            expires_at=now + timedelta(days=90),
        )
        db.add(share)
        db.flush()
        share.wrapped_key = wrap_key(keys.master, new_key(), context=share_key_context(share.id))
        disclosed = Disclosure(
            basis="legal_demand",
            agency_id=agency.id,
            owner_id=owner.id,
            what="footage",
            clip_id=None,
            wrapped_key=b"k" * 60,
            created_at=now,
            notice_due_at=now,
        )
        db.add(disclosed)
        db.flush()
        share_id, disclosure_id = share.id, disclosed.id
        blob_keys = [share.blob_key, disclosed.blob_key]
    for key in blob_keys:
        keys.blobs.put(key, EncryptingReader(io.BytesIO(b"left behind"), new_key()))
    with database.session() as db:
        assert expire(db, keys) == 0
    with database.session() as db:
        after = db.get(Share, share_id)
        gone = db.get(Disclosure, disclosure_id)
        assert after is not None
        assert gone is not None
        assert (after.state, after.wrapped_key) == ("withdrawn", None)
        assert gone.wrapped_key is None
    assert not any(keys.blobs.exists(key) for key in blob_keys)
    # A second sweep finds nothing more to do.
    with database.session() as db:
        assert expire(db, keys) == 0
