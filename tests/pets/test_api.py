"""Lost pets: nothing searched across owners, nothing sent without the owner's click."""

from __future__ import annotations

import json
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from doorstep.accounts.models import User
from doorstep.cameras.models import Camera
from doorstep.clips.models import Clip
from doorstep.pets import service
from doorstep.pets.models import PetNotice, PetShare
from doorstep.pets.rules import OPEN_AFTER_WINDOW
from doorstep.platform.types import utcnow
from tests.agencies.test_api import HOME, app_state
from tests.cameras.test_api_devices import _camera, _pair, _upload
from tests.factories import resident
from tests.samples import tiny_clip

#: With a task queue, the ``client`` fixture runs its worker, which makes the shared copies.
pytestmark = pytest.mark.usefixtures("client")

#: Two homes a few dozen metres apart: both in the cells a notice around HOME reaches.
NEIGHBOUR = {"lat": 45.52389, "lon": -122.67639}
FAR = {"lat": 45.60, "lon": -122.50}


def notice_body(**overrides: Any) -> dict[str, Any]:
    """A notice that passes the rules: 300 m around HOME, the last two hours."""
    now = utcnow()
    body: dict[str, Any] = {
        "species": "dog",
        "name": "Biscuit",
        "description": "Small brown terrier with a red collar.",
        "centre": HOME,
        "radius_m": 300,
        "window_start": (now - timedelta(hours=2)).isoformat(),
        "window_end": (now - timedelta(minutes=1)).isoformat(),
    }
    body.update(overrides)
    return body


def owner_with_clips(
    app: FastAPI, email: str, position: dict[str, float], labels: list[list[str]]
) -> tuple[TestClient, str, list[str]]:
    """A resident with one camera at ``position`` and a clip per label list, minutes ago."""
    owner = TestClient(app)
    csrf = resident(owner, email, display_name=email.split("@")[0].title(), home=position)
    token = _pair(owner, csrf, _camera(owner, csrf)["id"])
    ids = []
    with tempfile.TemporaryDirectory() as folder:
        for n, kept in enumerate(labels):
            video = tiny_clip(Path(folder) / f"clip{n}.mp4", frames=12 + n).read_bytes()
            start = utcnow() - timedelta(minutes=30 - n)
            meta = {
                "started_at": start.isoformat(),
                "ended_at": (start + timedelta(seconds=2)).isoformat(),
                "peak_motion": 0.2,
                "labels": kept,
            }
            uploaded = _upload(owner, token, video, meta=json.dumps(meta))
            assert uploaded.status_code == 201, uploaded.text
            ids.append(uploaded.json()["id"])
    return owner, csrf, ids


def post_notice(client: TestClient, csrf: str, **overrides: Any) -> Any:
    """Post a notice through the API."""
    return client.post(
        "/api/v1/pets", json=notice_body(**overrides), headers={"x-csrf-token": csrf}
    )


def ready(poster: TestClient, url: str, share_id: str) -> dict[str, Any]:
    """The notice as its poster sees it once the share's copy is made (by the queue's worker)."""
    deadline = time.monotonic() + 120
    while share_id not in json.dumps(seen := _ok(poster.get(url))):
        assert time.monotonic() < deadline, "the shared copy was never made"
        time.sleep(0.1)
    return seen


def _ok(response: Any, code: int = 200) -> dict[str, Any]:
    assert response.status_code == code, response.text
    body: dict[str, Any] = response.json()
    return body


def test_each_owner_sees_only_their_own_animal_clips(app: FastAPI) -> None:
    poster = TestClient(app)
    poster_csrf = resident(poster, "pat@example.org", home=FAR)
    a, _a_csrf, (a_animal, a_person) = owner_with_clips(
        app, "ann@example.org", HOME, [["animal"], ["person"]]
    )
    b, _b_csrf, (b_animal,) = owner_with_clips(app, "ben@example.org", NEIGHBOUR, [["animal"]])
    notice = _ok(post_notice(poster, poster_csrf), 201)
    seen_by_a = _ok(a.get(f"/api/v1/pets/{notice['id']}"))
    seen_by_b = _ok(b.get(f"/api/v1/pets/{notice['id']}"))
    assert [clip["id"] for clip in seen_by_a["my_animal_clips"]] == [a_animal]
    assert [clip["id"] for clip in seen_by_b["my_animal_clips"]] == [b_animal]
    assert a_person not in json.dumps(seen_by_a)
    # B cannot share A's clip, even knowing its id.
    stolen = b.post(
        f"/api/v1/pets/{notice['id']}/shares",
        json={"clip_id": a_animal},
        headers={"x-csrf-token": _b_csrf},
    )
    assert stolen.status_code == 404
    # The poster is shown no clip at all, and nothing was shared.
    mine = _ok(poster.get(f"/api/v1/pets/{notice['id']}"))
    assert mine["my_animal_clips"] == []
    assert mine["shares"] == []
    assert a_animal not in json.dumps(mine)
    assert b_animal not in json.dumps(mine)


def test_a_far_owner_never_sees_the_notice(app: FastAPI) -> None:
    poster = TestClient(app)
    csrf = resident(poster, "pat@example.org", home=HOME)
    far, _csrf, _ids = owner_with_clips(app, "far@example.org", FAR, [["animal"]])
    notice = _ok(post_notice(poster, csrf), 201)
    assert far.get(f"/api/v1/pets/{notice['id']}").status_code == 404
    assert _ok(far.get("/api/v1/pets"))["near"] == []


def test_the_poster_sees_the_shared_clip_and_nothing_else_until_withdrawn(app: FastAPI) -> None:
    poster = TestClient(app)
    poster_csrf = resident(poster, "pat@example.org", home=FAR)
    a, a_csrf, (shared, kept) = owner_with_clips(
        app, "ann@example.org", HOME, [["animal"], ["animal"]]
    )
    notice = _ok(post_notice(poster, poster_csrf), 201)
    url = f"/api/v1/pets/{notice['id']}"
    share = _ok(
        a.post(f"{url}/shares", json={"clip_id": shared}, headers={"x-csrf-token": a_csrf}), 201
    )
    seen = ready(poster, url, share["id"])
    assert [s["id"] for s in seen["shares"]] == [share["id"]]
    assert kept not in json.dumps(seen)
    assert shared not in json.dumps(seen)
    video = poster.get(seen["shares"][0]["video_url"])
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"
    # Nobody else may watch it, not even the owner of another clip.
    assert a.get(seen["shares"][0]["video_url"]).status_code == 404
    # Sharing the same clip twice is refused; the other clip stays unshared.
    again = a.post(f"{url}/shares", json={"clip_id": shared}, headers={"x-csrf-token": a_csrf})
    assert again.status_code == 409
    owner_view = _ok(a.get(url))
    assert {c["id"]: c["shared"] for c in owner_view["my_animal_clips"]} == {
        shared: True,
        kept: False,
    }
    withdrawn = a.delete(f"{url}/shares/{share['id']}", headers={"x-csrf-token": a_csrf})
    assert _ok(withdrawn)["state"] == "withdrawn"
    assert _ok(poster.get(url))["shares"] == []
    assert poster.get(seen["shares"][0]["video_url"]).status_code == 404


def test_closing_shreds_what_was_shared_and_stops_sharing(app: FastAPI) -> None:
    poster = TestClient(app)
    poster_csrf = resident(poster, "pat@example.org", home=FAR)
    a, a_csrf, (clip,) = owner_with_clips(app, "ann@example.org", HOME, [["animal"]])
    notice = _ok(post_notice(poster, poster_csrf), 201)
    url = f"/api/v1/pets/{notice['id']}"
    share = _ok(
        a.post(f"{url}/shares", json={"clip_id": clip}, headers={"x-csrf-token": a_csrf}), 201
    )
    assert a.post(f"{url}/close", headers={"x-csrf-token": a_csrf}).status_code == 404
    closed = _ok(poster.post(f"{url}/close", headers={"x-csrf-token": poster_csrf}))
    assert closed["open"] is False
    assert poster.get(f"{url}/shares/{share['id']}/video").status_code == 404
    late = a.post(f"{url}/shares", json={"clip_id": clip}, headers={"x-csrf-token": a_csrf})
    assert late.status_code == 409
    assert _ok(a.get(url))["shares"][0]["state"] == "withdrawn"


def test_bad_notices_are_refused_with_a_reason(app: FastAPI) -> None:
    poster = TestClient(app)
    csrf = resident(poster, "pat@example.org", home=HOME)
    now = utcnow()
    too_long = post_notice(
        poster,
        csrf,
        window_start=(now - timedelta(hours=80)).isoformat(),
        window_end=(now - timedelta(minutes=1)).isoformat(),
    )
    assert too_long.status_code == 422
    assert too_long.json()["reason"] == "window_too_long"
    too_big = post_notice(poster, csrf, radius_m=2000)
    assert too_big.status_code == 422
    assert too_big.json()["reason"] == "area_too_large"
    future = post_notice(poster, csrf, window_end=(now + timedelta(hours=1)).isoformat())
    assert future.json()["reason"] == "window_not_past"
    assert post_notice(poster, csrf, species="parrot").status_code == 422
    assert post_notice(poster, csrf, description="  ").status_code == 422


def test_the_sweep_closes_a_notice_past_its_time_and_shreds_its_copies(app: FastAPI) -> None:
    poster = TestClient(app)
    poster_csrf = resident(poster, "pat@example.org", home=FAR)
    a, a_csrf, (clip,) = owner_with_clips(app, "ann@example.org", HOME, [["animal"]])
    notice = _ok(post_notice(poster, poster_csrf), 201)
    url = f"/api/v1/pets/{notice['id']}"
    share = _ok(
        a.post(f"{url}/shares", json={"clip_id": clip}, headers={"x-csrf-token": a_csrf}), 201
    )
    ready(poster, url, share["id"])
    state = app_state(app)
    assert service.sweep_closed(state.db, state.keys) == 0
    with state.db.session() as db:
        row = db.get(PetNotice, notice["id"])
        assert row is not None
        row.window_end = utcnow() - OPEN_AFTER_WINDOW
        (row_share,) = db.scalars(select(PetShare).where(PetShare.notice_id == row.id))
        blob_key = row_share.blob_key
    assert state.keys.blobs.exists(blob_key)
    assert service.sweep_closed(state.db, state.keys) == 1
    assert _ok(poster.get(url))["shares"] == []
    assert not state.keys.blobs.exists(blob_key)


def test_deleting_the_clip_shreds_the_copy_shared_with_a_notice(app: FastAPI) -> None:
    poster = TestClient(app)
    poster_csrf = resident(poster, "pat@example.org", home=FAR)
    a, a_csrf, (clip,) = owner_with_clips(app, "ann@example.org", HOME, [["animal"]])
    notice = _ok(post_notice(poster, poster_csrf), 201)
    url = f"/api/v1/pets/{notice['id']}"
    share = _ok(
        a.post(f"{url}/shares", json={"clip_id": clip}, headers={"x-csrf-token": a_csrf}), 201
    )
    ready(poster, url, share["id"])
    state = app_state(app)
    blob_key = f"pets/{share['id']}.mp4.sealed"
    assert state.keys.blobs.exists(blob_key)
    deleted = a.delete(f"/api/v1/clips/{clip}", headers={"x-csrf-token": a_csrf})
    assert deleted.status_code in (200, 204), deleted.text
    assert _ok(poster.get(url))["shares"] == []
    assert poster.get(f"{url}/shares/{share['id']}/video").status_code == 404
    assert _ok(a.get(url))["shares"][0]["state"] == "withdrawn"
    assert not state.keys.blobs.exists(blob_key)


def test_only_residents_post_notices_or_receive_shares(app: FastAPI) -> None:
    poster = TestClient(app)
    poster_csrf = resident(poster, "pat@example.org", home=FAR)
    a, a_csrf, (clip,) = owner_with_clips(app, "ann@example.org", HOME, [["animal"]])
    notice = _ok(post_notice(poster, poster_csrf), 201)
    state = app_state(app)
    for role in ("agency_member", "agency_admin", "reviewer", "admin"):
        with state.db.session() as db:
            (account,) = db.scalars(select(User).where(User.email == "pat@example.org"))
            account.role = role
        refused = post_notice(poster, poster_csrf)
        assert refused.status_code == 403, refused.text
        assert refused.json()["reason"] == "residents_only"
        # A notice posted while a resident receives nothing once its poster is no longer one.
        url = f"/api/v1/pets/{notice['id']}/shares"
        shared = a.post(url, json={"clip_id": clip}, headers={"x-csrf-token": a_csrf})
        assert shared.status_code == 403, shared.text
    with state.db.session() as db:
        assert db.scalars(select(PetShare)).all() == []


def test_an_indoor_cameras_clips_are_never_offered(app: FastAPI) -> None:
    poster = TestClient(app)
    poster_csrf = resident(poster, "pat@example.org", home=FAR)
    a, a_csrf, (clip,) = owner_with_clips(app, "ann@example.org", HOME, [["animal"]])
    notice = _ok(post_notice(poster, poster_csrf), 201)
    url = f"/api/v1/pets/{notice['id']}"
    assert [c["id"] for c in _ok(a.get(url))["my_animal_clips"]] == [clip]
    state = app_state(app)
    with state.db.session() as db:
        row = db.get(Clip, clip)
        assert row is not None
        camera = db.get(Camera, row.camera_id)
        assert camera is not None
        camera.indoor = True
    assert _ok(a.get(url))["my_animal_clips"] == []
    shared = a.post(f"{url}/shares", json={"clip_id": clip}, headers={"x-csrf-token": a_csrf})
    assert shared.status_code == 404


def test_a_poster_has_at_most_three_open_notices(app: FastAPI) -> None:
    poster = TestClient(app)
    csrf = resident(poster, "pat@example.org", home=HOME)
    first = _ok(post_notice(poster, csrf), 201)
    for _ in range(2):
        _ok(post_notice(poster, csrf), 201)
    fourth = post_notice(poster, csrf)
    assert fourth.status_code == 422
    assert fourth.json()["reason"] == "too_many_open_notices"
    _ok(poster.post(f"/api/v1/pets/{first['id']}/close", headers={"x-csrf-token": csrf}))
    _ok(post_notice(poster, csrf), 201)


def test_the_list_reads_only_notices_in_the_owners_cells(app: FastAPI) -> None:
    near_poster = TestClient(app)
    near_csrf = resident(near_poster, "pat@example.org", home=FAR)
    far_poster = TestClient(app)
    far_csrf = resident(far_poster, "fay@example.org", home=HOME)
    near = _ok(post_notice(near_poster, near_csrf), 201)
    far = _ok(post_notice(far_poster, far_csrf, centre=FAR), 201)
    a, _a_csrf, _ids = owner_with_clips(app, "ann@example.org", HOME, [["animal"]])
    loaded: list[str] = []

    def count(target: PetNotice, _context: Any) -> None:
        loaded.append(target.id)

    event.listen(PetNotice, "load", count)
    try:
        listed = _ok(a.get("/api/v1/pets"))
    finally:
        event.remove(PetNotice, "load", count)
    assert [n["id"] for n in listed["near"]] == [near["id"]]
    # The notice around FAR was never read from the database for this owner's page.
    assert far["id"] not in loaded
