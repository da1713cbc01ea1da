"""Lost pets: a share is recorded first and its copy made on the task queue, with an audit entry."""

from __future__ import annotations

import json

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from doorstep.accounts.models import User
from doorstep.cameras.models import Camera
from doorstep.pets import service
from doorstep.pets.models import PetShare
from doorstep.pets.service_copies import prepare_share
from doorstep.platform.promote import work_key
from doorstep.platform.types import utcnow
from doorstep.transparency.models import AuditEntry
from tests.agencies.test_api import HOME, app_state
from tests.factories import resident
from tests.pets.test_api import FAR, _ok, owner_with_clips, post_notice


def _users(app: FastAPI) -> tuple[User, User]:
    with app_state(app).db.session() as db:
        poster, owner = (
            db.scalars(select(User).where(User.email == email)).one()
            for email in ("pat@example.org", "ann@example.org")
        )
        db.expunge_all()
    return poster, owner


def test_a_share_is_preparing_until_its_job_makes_the_copy(app: FastAPI) -> None:
    poster = TestClient(app)
    poster_csrf = resident(poster, "pat@example.org", home=FAR)
    a, _a_csrf, (clip,) = owner_with_clips(app, "ann@example.org", HOME, [["animal"]])
    notice = _ok(post_notice(poster, poster_csrf), 201)
    state = app_state(app)
    _poster, owner = _users(app)
    with state.db.session() as db:
        share = service.share_clip(db, state.keys, owner, notice["id"], clip)
        share_id, blob_key = share.id, share.blob_key
        # Nothing decoded, redacted or sealed inside the request: the row only.
        assert share.wrapped_key is None
        assert not state.keys.blobs.exists(blob_key)
        assert service.share_public(db, owner, share).state == "preparing"
        assert _ok(poster.get(f"/api/v1/pets/{notice['id']}"))["shares"] == []
    # The queue's job (run here by hand if the test queue did not already) makes the copy.
    prepare_share(state.db, state.keys, share_id)
    assert state.keys.blobs.exists(blob_key)
    assert not state.keys.blobs.exists(work_key(blob_key))
    seen = _ok(poster.get(f"/api/v1/pets/{notice['id']}"))
    assert [s["id"] for s in seen["shares"]] == [share_id]
    assert poster.get(seen["shares"][0]["video_url"]).content[4:8] == b"ftyp"
    # A second run finds nothing to do and appends nothing.
    assert prepare_share(state.db, state.keys, share_id) is False
    with state.db.session() as db:
        entries = list(db.scalars(select(AuditEntry).where(AuditEntry.action == "pet.share")))
        assert len(entries) == 1
        body = entries[0].body
        assert entries[0].owner_id == owner.id
        row = db.get(PetShare, share_id)
        assert row is not None
        camera_ids = list(db.scalars(select(Camera.id)))
    public = json.loads(body)
    assert public["detail"] == {"to": "lost-pet notice", "redacted": True}
    assert public["owner"]
    assert public["actor_role"] == "resident"
    for private in (owner.id, share_id, clip, notice["id"], *camera_ids):
        assert private not in body
    del a


def test_a_share_withdrawn_while_preparing_never_gets_a_copy(app: FastAPI) -> None:
    poster = TestClient(app)
    poster_csrf = resident(poster, "pat@example.org", home=FAR)
    a, a_csrf, (clip,) = owner_with_clips(app, "ann@example.org", HOME, [["animal"]])
    notice = _ok(post_notice(poster, poster_csrf), 201)
    state = app_state(app)
    _poster, owner = _users(app)
    with state.db.session() as db:
        share = service.share_clip(db, state.keys, owner, notice["id"], clip)
        service.withdraw_share(db, state.keys, owner, notice["id"], share.id)
        share_id, blob_key = share.id, share.blob_key
    assert prepare_share(state.db, state.keys, share_id) is False
    assert not state.keys.blobs.exists(blob_key)
    url = f"/api/v1/pets/{notice['id']}"
    assert _ok(a.get(url))["shares"][0]["state"] == "withdrawn"
    assert _ok(poster.get(url))["shares"] == []
    with state.db.session() as db:
        assert list(db.scalars(select(AuditEntry).where(AuditEntry.action == "pet.share"))) == []
    # The clip can be shared again.
    again = a.post(f"{url}/shares", json={"clip_id": clip}, headers={"x-csrf-token": a_csrf})
    assert again.status_code == 201, again.text


def test_the_owner_sees_a_preparing_share_and_may_withdraw_it(app: FastAPI) -> None:
    poster = TestClient(app)
    poster_csrf = resident(poster, "pat@example.org", home=FAR)
    a, a_csrf, (clip,) = owner_with_clips(app, "ann@example.org", HOME, [["animal"]])
    notice = _ok(post_notice(poster, poster_csrf), 201)
    state = app_state(app)
    _poster, owner = _users(app)
    with state.db.session() as db:
        # A share whose job has not run yet (no job is sent for a row added by hand).
        share = PetShare(
            notice_id=notice["id"],
            owner_id=owner.id,
            clip_id=clip,
            clip_started_at=utcnow(),
            clip_ended_at=utcnow(),
            size=0,
            ciphertext_size=0,
        )
        db.add(share)
        db.flush()
        share_id = share.id
    page = a.get(f"/pets/{notice['id']}")
    assert "preparing (faces being blurred" in page.text
    assert f"/shares/{share_id}/withdraw" in page.text
    withdrawn = a.post(
        f"/pets/{notice['id']}/shares/{share_id}/withdraw",
        data={"csrf_token": a_csrf},
        follow_redirects=False,
    )
    assert withdrawn.status_code == 303
    assert _ok(a.get(f"/api/v1/pets/{notice['id']}"))["shares"][0]["state"] == "withdrawn"
    assert prepare_share(state.db, state.keys, share_id) is False
