"""Cameras, pairing, heartbeat, clip upload, playback with Range, deletion by crypto-shred."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import av
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from doorstep.accounts.models import ApiToken, BrowserSession, OwnerKey
from doorstep.cameras.models import PairingCode
from doorstep.clips import _store_timeline as timeline_store
from doorstep.clips.models import Clip
from doorstep.clips.store import owner_data_key
from doorstep.platform.crypto import DecryptionFailed, decrypt_all
from doorstep.platform.http.state import AppState
from doorstep.platform.types import utcnow
from tests.factories import resident
from tests.samples import tiny_clip, tiny_jpeg


def _state(app: FastAPI) -> AppState:
    state: AppState = app.state.doorstep
    return state


def _camera(client: TestClient, csrf: str, **extra: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/cameras", json={"name": "Front door", **extra}, headers={"x-csrf-token": csrf}
    )
    assert response.status_code == 201, response.text
    camera: dict[str, Any] = response.json()
    return camera


def _pair(client: TestClient, csrf: str, camera_id: str) -> str:
    code = client.post(
        f"/api/v1/cameras/{camera_id}/pairing-code", headers={"x-csrf-token": csrf}
    ).json()["code"]
    paired = client.post("/api/v1/devices/pair", json={"code": code, "agent_version": "t"})
    assert paired.status_code == 201, paired.text
    token: str = paired.json()["token"]
    return token


def _meta(**overrides: Any) -> str:
    start = utcnow() - timedelta(minutes=5)
    meta: dict[str, Any] = {
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(seconds=2)).isoformat(),
        "peak_motion": 0.2,
        "labels": ["person"],
    }
    meta.update(overrides)
    return json.dumps(meta)


def _upload(
    device: TestClient,
    token: str,
    video: bytes,
    *,
    meta: str | None = None,
    jpeg: bytes | None = None,
) -> Any:
    return device.post(
        "/api/v1/devices/clips",
        headers={"authorization": f"Bearer {token}"},
        data={"meta": meta or _meta()},
        files={
            "video": ("clip.mp4", video, "video/mp4"),
            "snapshot": ("snap.jpg", jpeg if jpeg is not None else tiny_jpeg(), "image/jpeg"),
        },
    )


@pytest.fixture
def clip_bytes(tmp_path: Path) -> bytes:
    return tiny_clip(tmp_path / "clip.mp4").read_bytes()


@pytest.fixture
def owner(client: TestClient) -> str:
    return resident(client, home={"lat": 45.5236, "lon": -122.6771})


def test_pairing_gives_a_device_token_once(app: FastAPI, client: TestClient, owner: str) -> None:
    camera = _camera(client, owner)
    assert camera["position"] == {"lat": 45.5236, "lon": -122.6771}
    assert camera["audio_enabled"] is False
    assert camera["online"] is False
    code = client.post(
        f"/api/v1/cameras/{camera['id']}/pairing-code", headers={"x-csrf-token": owner}
    ).json()["code"]
    with TestClient(app) as agent:
        first = agent.post("/api/v1/devices/pair", json={"code": code.lower()})
        assert first.status_code == 201
        assert first.json()["config"]["camera_id"] == camera["id"]
        again = agent.post("/api/v1/devices/pair", json={"code": code})
        assert again.status_code == 401
        token = first.json()["token"]
        beat = agent.post(
            "/api/v1/devices/heartbeat", json={}, headers={"authorization": f"Bearer {token}"}
        )
        assert beat.status_code == 200
        me = agent.get("/api/v1/me", headers={"authorization": f"Bearer {token}"})
        assert me.status_code == 403
    assert client.get(f"/api/v1/cameras/{camera['id']}").json()["online"] is True


def test_expired_codes_are_refused(app: FastAPI, client: TestClient, owner: str) -> None:
    camera = _camera(client, owner)
    code = client.post(
        f"/api/v1/cameras/{camera['id']}/pairing-code", headers={"x-csrf-token": owner}
    ).json()["code"]
    with _state(app).db.session() as db:
        for row in db.scalars(select(PairingCode)):
            row.expires_at = utcnow() - timedelta(seconds=1)
    response = client.post("/api/v1/devices/pair", json={"code": code})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_settings_changes_bump_the_config_version(client: TestClient, owner: str) -> None:
    camera = _camera(client, owner)
    token = _pair(client, owner, camera["id"])
    zones = [[[0.0, 0.0], [0.5, 0.0], [0.5, 0.5]]]
    patched = client.patch(
        f"/api/v1/cameras/{camera['id']}",
        json={"privacy_zones": zones, "audio_enabled": True, "retention_days": 7},
        headers={"x-csrf-token": owner},
    )
    assert patched.status_code == 200
    config = client.get("/api/v1/devices/config", headers={"authorization": f"Bearer {token}"})
    assert config.json()["privacy_zones"] == zones
    assert config.json()["audio_enabled"] is True
    assert config.json()["config_version"] == camera["config_version"] + 1


@pytest.mark.parametrize(
    "change",
    [
        {"retention_days": 5},
        {"alert_mode": "sometimes"},
        {"privacy_zones": [[[0, 0], [2, 0], [1, 1]]]},
        {"quiet_start": "25:61"},
        {"owner_id": "someone"},
    ],
)
def test_bad_camera_settings_are_refused(
    client: TestClient, owner: str, change: dict[str, Any]
) -> None:
    camera = _camera(client, owner)
    response = client.patch(
        f"/api/v1/cameras/{camera['id']}", json=change, headers={"x-csrf-token": owner}
    )
    assert response.status_code == 422
    assert client.get(f"/api/v1/cameras/{camera['id']}").json() == camera


def test_upload_list_play_and_range(client: TestClient, owner: str, clip_bytes: bytes) -> None:
    camera = _camera(client, owner)
    token = _pair(client, owner, camera["id"])
    uploaded = _upload(client, token, clip_bytes)
    assert uploaded.status_code == 201, uploaded.text
    clip = uploaded.json()
    assert clip["labels"] == ["person"]
    assert clip["size"] == len(clip_bytes)
    again = _upload(client, token, clip_bytes)
    assert again.status_code == 200
    assert again.json()["id"] == clip["id"]

    timeline = client.get("/api/v1/clips").json()["clips"]
    assert [c["id"] for c in timeline] == [clip["id"]]
    assert client.get("/api/v1/clips?label=motion").json()["clips"] == []
    whole = client.get(clip["video_url"])
    assert whole.status_code == 200
    assert whole.content == clip_bytes
    part = client.get(clip["video_url"], headers={"range": "bytes=100-1099"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-1099/{len(clip_bytes)}"
    assert part.content == clip_bytes[100:1100]
    tail = client.get(clip["video_url"], headers={"range": "bytes=-10"})
    assert tail.content == clip_bytes[-10:]
    snap = client.get(clip["snapshot_url"])
    assert snap.headers["content-type"] == "image/jpeg"
    assert snap.content.startswith(b"\xff\xd8")
    container = av.open(io.BytesIO(whole.content))
    assert container.streams.video[0].codec_context.name == "h264"
    container.close()


def test_timeline_pages_and_filters_by_camera_time_and_label(
    client: TestClient, owner: str, clip_bytes: bytes
) -> None:
    porch, yard = _camera(client, owner), _camera(client, owner, name="Yard")
    tokens = {
        porch["id"]: _pair(client, owner, porch["id"]),
        yard["id"]: _pair(client, owner, yard["id"]),
    }
    start = utcnow() - timedelta(hours=1)
    made: list[dict[str, Any]] = []
    for minute in range(5):
        camera = porch if minute % 2 == 0 else yard
        at = start + timedelta(minutes=minute)
        meta = _meta(
            started_at=at.isoformat(),
            ended_at=(at + timedelta(seconds=2)).isoformat(),
            labels=["person"] if minute < 3 else [],
        )
        # Distinct bytes: the same content twice is stored once.
        uploaded = _upload(client, tokens[camera["id"]], clip_bytes + bytes([minute]), meta=meta)
        assert uploaded.status_code == 201, uploaded.text
        made.append(uploaded.json())
    newest_first = [c["id"] for c in reversed(made)]

    first = client.get("/api/v1/clips?limit=2").json()
    assert [c["id"] for c in first["clips"]] == newest_first[:2]
    assert [c["camera_name"] for c in first["clips"]] == ["Front door", "Yard"]
    cursor = first["next_cursor"]
    second = client.get("/api/v1/clips", params={"limit": 2, "cursor": cursor}).json()
    assert [c["id"] for c in second["clips"]] == newest_first[2:4]
    third = client.get("/api/v1/clips", params={"limit": 2, "cursor": second["next_cursor"]})
    assert [c["id"] for c in third.json()["clips"]] == newest_first[4:]
    assert third.json()["next_cursor"] is None
    before = made[3]["started_at"]
    earlier = client.get("/api/v1/clips", params={"before": before}).json()["clips"]
    assert [c["id"] for c in earlier] == newest_first[2:]

    since = (start + timedelta(minutes=3)).isoformat()
    assert [
        c["id"] for c in client.get("/api/v1/clips", params={"since": since}).json()["clips"]
    ] == newest_first[:2]
    by_yard = client.get("/api/v1/clips", params={"camera_id": yard["id"]}).json()["clips"]
    assert [c["id"] for c in by_yard] == [made[3]["id"], made[1]["id"]]
    assert {c["camera_name"] for c in by_yard} == {"Yard"}
    people = client.get("/api/v1/clips", params={"label": "person", "camera_id": porch["id"]})
    assert [c["id"] for c in people.json()["clips"]] == [made[2]["id"], made[0]["id"]]
    motion = client.get("/api/v1/clips", params={"label": "motion", "before": since})
    assert motion.json()["clips"] == []


def _clips_of_one_camera(
    client: TestClient, owner: str, clip_bytes: bytes, labels: list[list[str]], *, same_start: bool
) -> list[str]:
    """Upload one clip per entry of ``labels``, oldest first; return their ids newest first."""
    token = _pair(client, owner, _camera(client, owner)["id"])
    start = utcnow() - timedelta(hours=2)
    ids = []
    for index, clip_labels in enumerate(labels):
        at = start if same_start else start + timedelta(seconds=index)
        meta = _meta(
            started_at=at.isoformat(),
            ended_at=(at + timedelta(seconds=1)).isoformat(),
            labels=clip_labels,
        )
        uploaded = _upload(client, token, clip_bytes + bytes([index]), meta=meta)
        assert uploaded.status_code == 201, uploaded.text
        ids.append(uploaded.json()["id"])
    return ids[::-1]


def _every_page(client: TestClient, **params: Any) -> list[list[str]]:
    """Follow the timeline's cursors to the end; the ids of each page."""
    pages: list[list[str]] = []
    cursor = None
    while len(pages) < 50:
        response = client.get(
            "/api/v1/clips", params={**params, "cursor": cursor} if cursor else params
        )
        assert response.status_code == 200, response.text
        pages.append([clip["id"] for clip in response.json()["clips"]])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("the timeline never ended")


def test_timeline_pages_reach_clips_that_started_at_the_same_instant(
    client: TestClient, owner: str, clip_bytes: bytes
) -> None:
    ids = _clips_of_one_camera(client, owner, clip_bytes, [["person"]] * 3, same_start=True)
    pages = _every_page(client, limit=1)
    assert sorted(clip for page in pages for clip in page) == sorted(ids)
    assert all(len(page) == 1 for page in pages)


def test_a_label_filter_reads_on_until_its_page_is_full(
    client: TestClient, owner: str, clip_bytes: bytes
) -> None:
    # Two people, then ten clips of mere motion after them: the newest rows hold no person.
    ids = _clips_of_one_camera(
        client, owner, clip_bytes, [["person"]] * 2 + [[]] * 10, same_start=False
    )
    people = client.get("/api/v1/clips", params={"label": "person", "limit": 2}).json()
    assert [clip["id"] for clip in people["clips"]] == ids[-2:]
    assert people["next_cursor"] is None


def test_a_label_filter_that_stops_reading_gives_a_cursor_to_go_on(
    client: TestClient, owner: str, clip_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timeline_store, "LABEL_ROUNDS", 1)
    ids = _clips_of_one_camera(client, owner, clip_bytes, [["person"]] + [[]] * 5, same_start=False)
    # One batch of four rows a page: the first page reads only motion and says where it stopped.
    pages = _every_page(client, label="person", limit=1)
    assert pages[0] == []
    assert [clip for page in pages for clip in page] == ids[-1:]
    motion = _every_page(client, label="motion", limit=2)
    assert [clip for page in motion for clip in page] == ids[:-1]


@pytest.mark.usefixtures("owner")
@pytest.mark.parametrize("cursor", ["nonsense!", "bm8tYmFy", "MjAyNi0wMS0wMXw"])
def test_a_forged_timeline_cursor_is_refused(client: TestClient, cursor: str) -> None:
    response = client.get("/api/v1/clips", params={"cursor": cursor})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "cursor" in response.text


@pytest.mark.parametrize(
    "header", ["bytes=999999-", "bytes=5-2", "bytes=0-1,5-9", "items=0-1", "bytes=-", "bytes=a-b"]
)
def test_forged_ranges_are_refused(
    client: TestClient, owner: str, clip_bytes: bytes, header: str
) -> None:
    camera = _camera(client, owner)
    clip = _upload(client, _pair(client, owner, camera["id"]), clip_bytes).json()
    response = client.get(clip["video_url"], headers={"range": header})
    assert response.status_code == 416
    assert response.headers["content-type"] == "application/problem+json"


def test_another_owners_clip_is_not_found(
    app: FastAPI, client: TestClient, owner: str, clip_bytes: bytes
) -> None:
    camera = _camera(client, owner)
    clip = _upload(client, _pair(client, owner, camera["id"]), clip_bytes).json()
    with TestClient(app) as other:
        other_csrf = resident(other, "eve@example.org", display_name="Eve")
        assert other.get(clip["video_url"]).status_code == 404
        assert other.get(f"/api/v1/cameras/{camera['id']}").status_code == 404
        deleted = other.delete(f"/api/v1/clips/{clip['id']}", headers={"x-csrf-token": other_csrf})
        assert deleted.status_code == 404
    assert client.get(clip["video_url"]).status_code == 200


@pytest.mark.parametrize(
    ("video", "jpeg", "status"),
    [
        (b"not a video at all", None, 415),
        (b"", None, 422),
        (None, b"GIF89a not a jpeg", 415),
        (None, b"\xff\xd8 damaged", 415),
    ],
)
def test_bad_uploads_store_nothing(
    app: FastAPI,
    client: TestClient,
    owner: str,
    clip_bytes: bytes,
    video: bytes | None,
    jpeg: bytes | None,
    status: int,
) -> None:
    camera = _camera(client, owner)
    token = _pair(client, owner, camera["id"])
    response = _upload(client, token, video if video is not None else clip_bytes, jpeg=jpeg)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    with _state(app).db.session() as db:
        assert db.scalar(select(func.count()).select_from(Clip)) == 0
    assert list(_state(app).blobs.keys("clips/")) == []
    assert list((_state(app).settings.data_dir / "uploads").glob("*")) == []


def test_truncated_clips_are_refused(
    app: FastAPI, client: TestClient, owner: str, clip_bytes: bytes
) -> None:
    camera = _camera(client, owner)
    token = _pair(client, owner, camera["id"])
    response = _upload(client, token, clip_bytes[: len(clip_bytes) // 3])
    assert response.status_code == 415
    assert list(_state(app).blobs.keys("clips/")) == []


@pytest.mark.parametrize(
    "meta",
    [
        "not json",
        json.dumps({"started_at": "yesterday"}),
        _meta(peak_motion=7),
        _meta(labels=["face"]),
        _meta(ended_at="2000-01-01T00:00:00+00:00"),
        _meta(
            started_at=(utcnow() + timedelta(days=1)).isoformat(),
            ended_at=(utcnow() + timedelta(days=1, seconds=3)).isoformat(),
        ),
    ],
)
def test_bad_metadata_is_refused(
    client: TestClient, owner: str, clip_bytes: bytes, meta: str
) -> None:
    camera = _camera(client, owner)
    response = _upload(client, _pair(client, owner, camera["id"]), clip_bytes, meta=meta)
    assert response.status_code == 422, response.text


def test_only_device_tokens_upload(client: TestClient, owner: str, clip_bytes: bytes) -> None:
    _camera(client, owner)
    response = client.post(
        "/api/v1/devices/clips",
        headers={"x-csrf-token": owner},
        data={"meta": _meta()},
        files={"video": ("c.mp4", clip_bytes), "snapshot": ("s.jpg", tiny_jpeg())},
    )
    assert response.status_code == 401


def test_deleting_a_clip_shreds_it(
    app: FastAPI, client: TestClient, owner: str, clip_bytes: bytes
) -> None:
    camera = _camera(client, owner)
    clip = _upload(client, _pair(client, owner, camera["id"]), clip_bytes).json()
    state = _state(app)
    with state.db.session() as db:
        row = db.get(Clip, clip["id"])
        assert row is not None
        sealed = b"".join(state.blobs.open_stream(row.video_key))
        owner_id = row.owner_id
    assert (
        client.delete(f"/api/v1/clips/{clip['id']}", headers={"x-csrf-token": owner}).status_code
        == 204
    )
    assert client.get(clip["video_url"]).status_code == 404
    assert list(state.blobs.keys("clips/")) == []
    with state.db.session() as db:
        data_key = owner_data_key(db, state.master_key, owner_id)
    # Every key the server still holds fails on the bytes that were left behind.
    for key in (state.master_key, data_key):
        with pytest.raises(DecryptionFailed):
            decrypt_all([sealed], key)


def test_bulk_delete_and_delete_everything(
    app: FastAPI, client: TestClient, owner: str, tmp_path: Path
) -> None:
    camera = _camera(client, owner)
    token = _pair(client, owner, camera["id"])
    ids = [
        _upload(client, token, tiny_clip(tmp_path / f"{n}.mp4", frames=10 + n).read_bytes()).json()[
            "id"
        ]
        for n in range(3)
    ]
    bad = client.post("/api/v1/clips/delete", json={}, headers={"x-csrf-token": owner})
    assert bad.status_code == 422
    one = client.post(
        "/api/v1/clips/delete", json={"ids": ids[:1]}, headers={"x-csrf-token": owner}
    )
    assert one.json() == {"deleted": 1}
    rest = client.post("/api/v1/clips/delete", json={"all": True}, headers={"x-csrf-token": owner})
    assert rest.json() == {"deleted": 2}
    assert client.get("/api/v1/clips").json()["clips"] == []
    assert list(_state(app).blobs.keys("clips/")) == []


def test_new_clips_are_published_after_commit(
    app: FastAPI, client: TestClient, owner: str, clip_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    published: list[tuple[str, dict[str, Any]]] = []
    state = _state(app)

    def record(account_id: str, event: dict[str, Any]) -> int:
        with state.db.session() as db:
            # The clip must already be committed when the page hears about it.
            assert db.get(Clip, event["clip"]["id"]) is not None
        published.append((account_id, event))
        return 1

    monkeypatch.setattr(state.bus, "publish", record)
    camera = _camera(client, owner)
    token = _pair(client, owner, camera["id"])
    clip = _upload(client, token, clip_bytes).json()
    _upload(client, token, clip_bytes)
    assert len(published) == 1
    assert published[0][1]["clip"]["id"] == clip["id"]
    assert published[0][1]["alert"] is True


def test_deleting_the_account_shreds_every_clip(
    app: FastAPI, client: TestClient, owner: str, clip_bytes: bytes
) -> None:
    camera = _camera(client, owner)
    _upload(client, _pair(client, owner, camera["id"]), clip_bytes)
    state = _state(app)
    assert len(list(state.blobs.keys("clips/"))) == 2
    response = client.request(
        "DELETE",
        "/api/v1/me",
        json={"password": "lantern-porch-9"},
        headers={"x-csrf-token": owner},
    )
    # The answer is the deletion's receipt, handed over as the account goes.
    assert response.status_code == 200
    assert response.json()["what"] == "account"
    assert list(state.blobs.keys("clips/")) == []
    with state.db.session() as db:
        assert db.scalar(select(func.count()).select_from(OwnerKey)) == 0
        assert db.scalar(select(func.count()).select_from(Clip)) == 0


def test_a_cameras_token_cannot_act_for_its_owner(client: TestClient, owner: str) -> None:
    camera = _camera(client, owner)
    token = _pair(client, owner, camera["id"])
    bearer = {"authorization": f"Bearer {token}"}
    assert client.get("/api/v1/inbox", headers=bearer).status_code == 403
    renamed = client.patch("/api/v1/me", json={"display_name": "Mallory"}, headers=bearer)
    assert renamed.status_code == 403
    assert client.get("/api/v1/me").json()["display_name"] == "Ada"
    assert client.get("/api/v1/devices/config", headers=bearer).status_code == 200


def test_audio_is_stripped_while_the_owner_has_it_off(
    client: TestClient, owner: str, tmp_path: Path
) -> None:
    camera = _camera(client, owner)
    token = _pair(client, owner, camera["id"])
    with_sound = tiny_clip(tmp_path / "sound.mp4", audio=True).read_bytes()
    clip = _upload(client, token, with_sound).json()
    assert clip["has_audio"] is False
    with av.open(io.BytesIO(client.get(clip["video_url"]).content)) as container:
        assert not container.streams.audio
        assert container.streams.video[0].frames == 24


@pytest.mark.parametrize("name", ["since", "before"])
def test_times_without_a_zone_are_refused(client: TestClient, owner: str, name: str) -> None:
    assert owner
    response = client.get(f"/api/v1/clips?{name}=2024-01-01T00:00:00")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def _refused(response: Any, status: int, problem: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == f"/problems/{problem}"


def test_the_feed_and_timeline_check_the_caller_like_every_route(
    app: FastAPI, client: TestClient, owner: str, clip_bytes: bytes
) -> None:
    # Both answer on a path of their own (deps.read_in_one_hop); the caller is checked the same.
    device = _pair(client, owner, _camera(client, owner)["id"])
    with TestClient(app) as script:
        assert _upload(script, device, clip_bytes).status_code == 201
    scoped = {}
    for scope in ("clips:read", "account:read"):
        scoped[scope] = client.post(
            "/api/v1/me/tokens",
            json={"name": scope.replace(":", " "), "scopes": [scope]},
            headers={"x-csrf-token": owner},
        ).json()["token"]
    reads = ("/api/v1/clips", "/api/v1/feed")
    with TestClient(app) as script:
        for path in reads:
            _refused(script.get(path), 401, "not-authenticated")
            forged = script.get(path, headers={"authorization": "Bearer dst_forged"})
            _refused(forged, 401, "not-authenticated")
            _refused(
                script.get(path, headers={"authorization": "Basic YTpi"}), 401, "not-authenticated"
            )
            # A camera's token never reads its owner's clips or neighbourhood.
            camera = script.get(path, headers={"authorization": f"Bearer {device}"})
            _refused(camera, 403, "forbidden")
        bearer = {"authorization": f"Bearer {scoped['clips:read']}"}
        assert len(script.get("/api/v1/clips", headers=bearer).json()["clips"]) == 1
        no_scope = {"authorization": f"Bearer {scoped['account:read']}"}
        _refused(script.get("/api/v1/clips", headers=no_scope), 403, "forbidden")
    assert len(client.get("/api/v1/clips").json()["clips"]) == 1
    assert client.get("/api/v1/feed").json()["posts"] == []
    with _state(app).db.session() as db:
        for token in db.scalars(select(ApiToken)):
            token.expires_at = utcnow() - timedelta(seconds=1)
        for session in db.scalars(select(BrowserSession)):
            session.expires_at = utcnow() - timedelta(seconds=1)
    with TestClient(app) as script:
        expired = script.get("/api/v1/clips", headers=bearer)
        _refused(expired, 401, "token-expired")
    for path in reads:
        _refused(client.get(path), 401, "not-authenticated")


def test_an_upload_tells_the_owner_once_its_clip_is_committed(
    app: FastAPI, client: TestClient, owner: str, clip_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = _state(app)
    device = _pair(client, owner, _camera(client, owner)["id"])
    told: list[tuple[str, dict[str, Any], bool]] = []

    def publish(account_id: str, event: dict[str, Any]) -> int:
        # What the page is told about must already be there for it to fetch.
        with state.db.session() as db:
            stored = db.get(Clip, event["clip"]["id"]) is not None
        told.append((account_id, event, stored))
        return 1

    monkeypatch.setattr(state.bus, "publish", publish)
    with TestClient(app) as agent:
        first = _upload(agent, device, clip_bytes)
        again = _upload(agent, device, clip_bytes)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    me = client.get("/api/v1/me").json()["id"]
    assert [
        (account, event["type"], event["clip"]["id"], stored) for account, event, stored in told
    ] == [(me, "clip", first.json()["id"], True)]
