"""Requests for Assistance: policy, targeting, owners' answers, redacted shares, evidence locker."""

from __future__ import annotations

import hashlib
import io
import json
import os
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from doorstep.platform.types import utcnow
from doorstep.requests.jobs import sweep_expired_shares
from doorstep.requests.models import Share
from doorstep.transparency.evidence import main_evidence
from tests.agencies.test_api import HOME, app_state, owner_with_clip, verified_agency
from tests.factories import resident, settle_jobs

#: Owners' exact positions, with digits that no request outline happens to contain.
SHARER = {"lat": 45.52417, "lon": -122.67583}
DECLINER = {"lat": 45.52389, "lon": -122.67639}
FACES = Path(__file__).resolve().parents[3] / "shared" / "data" / "faces"
#: (left, top, width, height) of a labelled face in the shared image (training.xml).
FACE_IMAGE, FACE_BOX = "2008_001009.jpg", (145, 79, 76, 76)


#: A count below k (5) as every reader but the owner sees it: a range, not a number (I3).
WITHHELD = {"at_least": 0, "at_most": 4, "label": "fewer than 5"}


def rfa_body(**overrides: Any) -> dict[str, Any]:
    """A request that passes the policy: 300 m around HOME, the two hours just past."""
    now = utcnow()
    body: dict[str, Any] = {
        "case_number": "PPB-2026-0042",
        "incident_type": "Burglary",
        "offence_category": "burglary",
        "description": "A side door was forced; we are looking for anyone carrying a toolbox.",
        "centre": HOME,
        "radius_m": 300,
        "window_start": (now - timedelta(hours=2)).isoformat(),
        "window_end": (now - timedelta(minutes=1)).isoformat(),
    }
    body.update(overrides)
    return body


def post_rfa(client: TestClient, csrf: str, **overrides: Any) -> Any:
    """Post a request through the API."""
    return client.post(
        "/api/v1/requests", json=rfa_body(**overrides), headers={"x-csrf-token": csrf}
    )


def _created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _answer(client: TestClient, csrf: str, rfa_id: str, **body: Any) -> Any:
    answer = client.post(
        f"/api/v1/inbox/{rfa_id}/answer", json=body, headers={"x-csrf-token": csrf}
    )
    # With a task queue (the scale-out profile) a worker makes the agency copy after the answer.
    settle_jobs(client.app)
    return answer


NOW = utcnow()


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"radius_m": 1000}, "area_too_large"),
        ({"radius_m": 50}, "area_too_small"),
        ({"centre": {"lat": 45.6, "lon": -122.5}}, "outside_jurisdiction"),
        (
            {
                "window_start": (NOW - timedelta(hours=14)).isoformat(),
                "window_end": (NOW - timedelta(hours=1)).isoformat(),
            },
            "window_too_long",
        ),
        (
            {
                "window_start": (NOW - timedelta(minutes=10)).isoformat(),
                "window_end": (NOW - timedelta(minutes=1)).isoformat(),
            },
            "window_too_short",
        ),
        (
            {
                "window_start": (NOW - timedelta(hours=1)).isoformat(),
                "window_end": (NOW + timedelta(hours=1)).isoformat(),
            },
            "window_not_past",
        ),
        ({"description": "Footage of the protest on Main Street"}, "protest"),
        ({"description": "Looking for a Hispanic male."}, "race_only"),
        ({"case_number": "  "}, "case_number_missing"),
    ],
)
def test_requests_that_break_the_policy_are_refused_with_the_reason(
    app: FastAPI, client: TestClient, overrides: dict[str, Any], reason: str
) -> None:
    _agency_client, _csrf, _id = verified_agency(app)
    del _agency_client
    agency, csrf, _agency_id = verified_agency(app, "Fire District 9", "fire@fd9.example")
    response = post_rfa(agency, csrf, **overrides)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["reason"] == reason
    assert client.get("/api/v1/requests").json() == []


def test_at_most_two_requests_per_case(client: TestClient, app: FastAPI) -> None:
    agency, csrf, _agency_id = verified_agency(app)
    _created(post_rfa(agency, csrf))
    _created(post_rfa(agency, csrf))
    third = post_rfa(agency, csrf)
    assert third.status_code == 422
    assert third.json()["reason"] == "case_limit"
    assert len(client.get("/api/v1/requests").json()) == 2


def test_the_case_limit_holds_however_the_number_is_typed(app: FastAPI) -> None:
    agency, csrf, _agency_id = verified_agency(app)
    _created(post_rfa(agency, csrf, case_number="PPB-1"))
    _created(post_rfa(agency, csrf, case_number="ppb 1"))
    third = post_rfa(agency, csrf, case_number="PPB1.")
    assert third.status_code == 422
    assert third.json()["reason"] == "case_limit"


def test_only_verified_agency_members_post(client: TestClient) -> None:
    csrf = resident(client, "neighbour@example.org")
    assert post_rfa(client, csrf).status_code == 403


def test_a_request_cannot_be_edited_or_deleted(app: FastAPI, client: TestClient) -> None:
    agency, csrf, _agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf, polygon=None))
    headers = {"x-csrf-token": csrf}
    path = f"/api/v1/requests/{rfa['id']}"
    assert agency.patch(path, json={"description": "x"}, headers=headers).status_code == 405
    assert agency.delete(path, headers=headers).status_code == 405
    assert agency.put(path, json={}, headers=headers).status_code == 405
    with pytest.raises(Exception, match="cannot be"), app_state(app).db.session() as db:
        db.execute(
            text("UPDATE rfas SET description = 'changed' WHERE id = :id"), {"id": rfa["id"]}
        )
    with pytest.raises(Exception, match="cannot be"), app_state(app).db.session() as db:
        db.execute(text("DELETE FROM rfas WHERE id = :id"), {"id": rfa["id"]})
    assert client.get(path).json()["description"] == rfa["description"]
    closed = agency.post(path + "/close", headers=headers)
    assert closed.status_code == 200
    assert closed.json()["closed_at"] is not None


def test_a_polygon_request_is_public_and_on_the_feed(app: FastAPI, client: TestClient) -> None:
    agency, csrf, agency_id = verified_agency(app)
    square = {
        "type": "Polygon",
        "coordinates": [
            [
                [-122.680, 45.522],
                [-122.674, 45.522],
                [-122.674, 45.526],
                [-122.680, 45.526],
                [-122.680, 45.522],
            ]
        ],
    }
    rfa = _created(post_rfa(agency, csrf, centre=None, radius_m=None, polygon=square))
    assert 0.025 <= rfa["area_sq_mi"] <= 0.5
    anonymous = TestClient(app)
    assert anonymous.get(f"/api/v1/requests/{rfa['id']}").status_code == 200
    directory = anonymous.get("/api/v1/agencies").json()
    assert [r["id"] for r in directory[0]["requests"]] == [rfa["id"]]
    assert directory[0]["id"] == agency_id
    resident(client, "neighbour@example.org", home=HOME)
    alerts = client.get("/api/v1/alerts").json()
    assert len(alerts) == 1
    assert f"/rfa/{rfa['id']}" in alerts[0]["text"]
    assert alerts[0]["agency_name"] == "Portland Police Bureau"


@pytest.mark.usefixtures("client")
def test_only_opted_in_owners_inside_the_area_are_asked(app: FastAPI) -> None:
    inside, _c1, _clip1 = owner_with_clip(app, "inside@example.org")
    opted_out, _c2, _clip2 = owner_with_clip(app, "optout@example.org", opt_in=False)
    # About 2.5 km away: no cell of a 300 m circle around HOME reaches it (cameras are asked by
    # their public cell, so one a few hundred metres outside the circle may well be asked).
    outside, _c3, _clip3 = owner_with_clip(
        app, "outside@example.org", position={"lat": 45.5500, "lon": -122.6400}
    )
    agency, csrf, _agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf))
    # One owner asked: fewer than k, so how many is withheld (I3).
    assert rfa["counts"] == {
        "asked": WITHHELD,
        "shared": WITHHELD,
        "clips_shared": WITHHELD,
        "k": 5,
    }
    assert [item["request"]["id"] for item in inside.get("/api/v1/inbox").json()] == [rfa["id"]]
    assert opted_out.get("/api/v1/inbox").json() == []
    assert outside.get("/api/v1/inbox").json() == []
    assert opted_out.get(f"/api/v1/inbox/{rfa['id']}").status_code == 404
    item = inside.get(f"/api/v1/inbox/{rfa['id']}").json()
    assert item["answer"] == "pending"
    assert len(item["clips"]) == 1


def test_anonymous_share_download_and_disclosure(
    app: FastAPI, client: TestClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    owner, owner_csrf, clip_id = owner_with_clip(app, "sharer@example.org", position=SHARER)
    decliner, decliner_csrf, _other_clip = owner_with_clip(
        app, "decliner@example.org", position=DECLINER
    )
    agency, csrf, _agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf))
    preview = owner.get(f"/api/v1/inbox/{rfa['id']}/clips/{clip_id}/preview")
    assert preview.status_code == 200
    assert preview.headers["content-type"] == "video/mp4"
    shared = _answer(owner, owner_csrf, rfa["id"], decision="share", clip_ids=[clip_id])
    assert shared.status_code == 200, shared.text
    assert shared.json()["answer"] == "shared"
    declined = _answer(decliner, decliner_csrf, rfa["id"], decision="decline")
    assert declined.json()["answer"] == "declined"
    assert _answer(decliner, decliner_csrf, rfa["id"], decision="decline").status_code == 409

    counts = agency.get(f"/api/v1/requests/{rfa['id']}").json()["counts"]
    # One shared, one declined: each count is below k, so none of them is told.
    assert counts == {"asked": WITHHELD, "shared": WITHHELD, "clips_shared": WITHHELD, "k": 5}
    locker = agency.get("/api/v1/evidence")
    assert len(locker.json()) == 1
    item = locker.json()[0]
    assert item["shared_by"] is None
    assert item["anonymous"] is True
    download = agency.post(item["download_url"], headers={"x-csrf-token": csrf})
    assert download.status_code == 200
    delivered = download.content
    assert hashlib.sha256(delivered).hexdigest() == item["sha256"]
    record = client.get(f"/api/v1/evidence/hash/{item['sha256']}").json()
    assert record["case_number"] == "PPB-2026-0042"
    assert record["agency_name"] == "Portland Police Bureau"

    # Nothing an agency or the public reads names, locates or counts the owners apart.
    me = owner.get("/api/v1/me").json()
    other = decliner.get("/api/v1/me").json()
    seen = " ".join(
        [
            locker.text,
            agency.get("/api/v1/evidence").text,
            agency.get(f"/api/v1/requests/{rfa['id']}").text,
            client.get("/api/v1/agencies").text,
            client.get("/api/v1/requests").text,
            record and json.dumps(record),
        ]
    )
    for person in (me, other):
        for value in (person["id"], person["email"], person["display_name"]):
            assert value not in seen
    for value in (*SHARER.values(), *DECLINER.values()):
        assert str(value) not in seen
    assert "declin" not in seen
    assert "pending" not in seen

    disclosures = owner.get("/api/v1/disclosures").json()
    assert [d["state"] for d in disclosures] == ["downloaded"]
    assert [a["action"] for a in disclosures[0]["accesses"]] == ["download"]
    assert disclosures[0]["revocable"] is False
    revoke = owner.post(
        f"/api/v1/shares/{disclosures[0]['id']}/revoke", headers={"x-csrf-token": owner_csrf}
    )
    assert revoke.status_code == 409
    audit_actions = [
        json.loads(e["body"])["action"] for e in client.get("/api/v1/audit/entries").json()
    ]
    assert audit_actions.count("share.create") == 1
    assert audit_actions.count("evidence.download") == 1

    saved = tmp_path / "evidence.mp4"
    saved.write_bytes(delivered)
    assert main_evidence(["verify", str(saved)], http=client) == 0
    assert "PPB-2026-0042" in capsys.readouterr().out
    saved.write_bytes(delivered + b"tampered")
    assert main_evidence(["verify", str(saved)], http=client) == 1


def test_revoking_before_download_takes_the_clip_away(app: FastAPI, client: TestClient) -> None:
    owner, owner_csrf, clip_id = owner_with_clip(app, "sharer@example.org")
    agency, csrf, _agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf))
    _answer(owner, owner_csrf, rfa["id"], decision="share", clip_ids=[clip_id], anonymous=False)
    item = agency.get("/api/v1/evidence").json()[0]
    assert item["shared_by"] == "Sharer"
    viewed = agency.get(item["video_url"], headers={"range": "bytes=0-99"})
    assert viewed.status_code == 206
    share_id = item["id"]
    revoked = owner.post(f"/api/v1/shares/{share_id}/revoke", headers={"x-csrf-token": owner_csrf})
    assert revoked.status_code == 200
    assert revoked.json()["state"] == "revoked"
    assert [a["action"] for a in revoked.json()["accesses"]] == ["view"]
    assert agency.get("/api/v1/evidence").json() == []
    assert agency.post(item["download_url"], headers={"x-csrf-token": csrf}).status_code == 404
    assert client.get(f"/api/v1/evidence/hash/{'0' * 64}").status_code == 404


@pytest.mark.usefixtures("client")
@pytest.mark.parametrize(
    ("ranges", "actions", "state"),
    [
        (["bytes=1-"], ["view"], "active"),
        (["bytes=1-", "bytes=5-9"], ["view"], "active"),
        ([None], ["download"], "downloaded"),
        (["bytes=0-"], ["download"], "downloaded"),
    ],
)
def test_no_fetch_of_evidence_goes_unrecorded(
    app: FastAPI, ranges: list[str | None], actions: list[str], state: str
) -> None:
    owner, owner_csrf, clip_id = owner_with_clip(app, "sharer@example.org")
    agency, csrf, _agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf))
    _answer(owner, owner_csrf, rfa["id"], decision="share", clip_ids=[clip_id])
    url = agency.get("/api/v1/evidence").json()[0]["video_url"]
    for value in ranges:
        headers = {"range": value} if value else {}
        assert agency.get(url, headers=headers).status_code in (200, 206)
    disclosure = owner.get("/api/v1/disclosures").json()[0]
    assert [a["action"] for a in disclosure["accesses"]] == actions
    assert disclosure["state"] == state


@pytest.mark.usefixtures("client")
def test_shares_expire(app: FastAPI) -> None:
    owner, owner_csrf, clip_id = owner_with_clip(app, "sharer@example.org")
    agency, csrf, _agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf))
    _answer(owner, owner_csrf, rfa["id"], decision="share", clip_ids=[clip_id])
    item = agency.get("/api/v1/evidence").json()[0]
    with app_state(app).db.session() as db:
        share = db.get(Share, item["id"])
        assert share is not None
        assert (share.expires_at - share.created_at) == timedelta(days=90)
        share.created_at = utcnow() - timedelta(days=91)
        share.expires_at = utcnow() - timedelta(days=1)
    assert agency.get("/api/v1/evidence").json() == []
    assert agency.get(item["video_url"]).status_code == 404
    assert owner.get("/api/v1/disclosures").json()[0]["state"] == "expired"


def test_evidence_is_only_for_the_requesting_agency(app: FastAPI, client: TestClient) -> None:
    owner, owner_csrf, clip_id = owner_with_clip(app, "sharer@example.org")
    agency, csrf, _agency_id = verified_agency(app)
    other_agency, _other_csrf, _other_id = verified_agency(
        app, "Fire District 9", "fire@fd9.example"
    )
    rfa = _created(post_rfa(agency, csrf))
    _answer(owner, owner_csrf, rfa["id"], decision="share", clip_ids=[clip_id])
    url = agency.get("/api/v1/evidence").json()[0]["video_url"]
    assert other_agency.get(url).status_code == 404
    assert other_agency.get("/api/v1/evidence").json() == []
    resident(client, "neighbour@example.org")
    assert client.get(url).status_code == 403
    assert client.get("/api/v1/evidence").status_code == 403
    assert owner.get(url).status_code == 403
    assert TestClient(app).get(url).status_code == 401


def test_an_unshared_clip_never_reaches_the_agency(app: FastAPI, client: TestClient) -> None:
    owner, owner_csrf, clip_id = owner_with_clip(app, "sharer@example.org")
    agency, csrf, _agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf))
    assert agency.get(f"/api/v1/clips/{clip_id}/video").status_code == 404
    assert agency.get(f"/api/v1/inbox/{rfa['id']}/clips/{clip_id}/preview").status_code == 404
    stranger, stranger_csrf, stranger_clip = owner_with_clip(
        app, "stranger@example.org", position={"lat": 45.5300, "lon": -122.6771}
    )
    refused = _answer(stranger, stranger_csrf, rfa["id"], decision="share", clip_ids=[clip_id])
    assert refused.status_code == 404
    wrong = _answer(owner, owner_csrf, rfa["id"], decision="share", clip_ids=[stranger_clip])
    assert wrong.status_code == 404
    assert agency.get("/api/v1/evidence").json() == []
    del client


def test_a_closed_request_takes_no_more_answers(app: FastAPI, client: TestClient) -> None:
    owner, owner_csrf, clip_id = owner_with_clip(app, "sharer@example.org")
    agency, csrf, _agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf))
    agency.post(f"/api/v1/requests/{rfa['id']}/close", headers={"x-csrf-token": csrf})
    late = _answer(owner, owner_csrf, rfa["id"], decision="share", clip_ids=[clip_id])
    assert late.status_code == 409
    assert owner.get(f"/api/v1/inbox/{rfa['id']}").json()["answer"] == "expired"
    del client


def _face_clip(path: Path) -> bytes:
    image = cv2.imread(str(FACES / FACE_IMAGE))
    assert image is not None
    frame = np.ascontiguousarray(image, dtype=np.uint8)
    height, width = image.shape[:2]
    with av.open(str(path), mode="w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=Fraction(12))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for _ in range(12):
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path.read_bytes()


def _first_frame(data: bytes) -> np.ndarray[Any, np.dtype[np.uint8]]:
    with av.open(io.BytesIO(data), mode="r") as container:
        frame = next(container.decode(video=0))
        return np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)


def test_the_agency_gets_the_redacted_copy(
    app: FastAPI, client: TestClient, tmp_path: Path
) -> None:
    if not FACES.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the shared faces at {FACES}")
        pytest.skip(f"shared faces not found at {FACES}")
    original = _face_clip(tmp_path / "face.mp4")
    owner, owner_csrf, clip_id = owner_with_clip(app, "sharer@example.org", video=original)
    agency, csrf, _agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf))
    _answer(owner, owner_csrf, rfa["id"], decision="share", clip_ids=[clip_id])
    item = agency.get("/api/v1/evidence").json()[0]
    assert item["faces_blurred"] > 0
    delivered = agency.post(item["download_url"], headers={"x-csrf-token": csrf}).content
    left, top, width, height = FACE_BOX
    before = cv2.cvtColor(_first_frame(original), cv2.COLOR_BGR2GRAY)
    after = cv2.cvtColor(_first_frame(delivered), cv2.COLOR_BGR2GRAY)
    face_before = before[top : top + height, left : left + width]
    face_after = after[top : top + height, left : left + width]
    detail_before = cv2.Laplacian(face_before, cv2.CV_64F).var()
    detail_after = cv2.Laplacian(face_after, cv2.CV_64F).var()
    assert detail_after < 0.2 * detail_before
    assert hashlib.sha256(delivered).hexdigest() == item["sha256"]
    del client


@pytest.mark.usefixtures("client")
def test_a_downloaded_share_loses_its_copy_at_its_end(app: FastAPI) -> None:
    owner, owner_csrf, clip_id = owner_with_clip(app, "sharer@example.org")
    agency, csrf, _agency_id = verified_agency(app)
    rfa = _created(post_rfa(agency, csrf))
    _answer(owner, owner_csrf, rfa["id"], decision="share", clip_ids=[clip_id])
    item = agency.get("/api/v1/evidence").json()[0]
    assert agency.post(item["download_url"], headers={"x-csrf-token": csrf}).status_code == 200
    with app_state(app).db.session() as db:
        share = db.get(Share, item["id"])
        assert share is not None
        share.expires_at = utcnow() - timedelta(seconds=1)
    state = app_state(app)
    assert sweep_expired_shares(state.db, state.keys) == 1
    with state.db.session() as db:
        share = db.get(Share, item["id"])
        assert share is not None
        assert share.wrapped_key is None
        assert share.state == "downloaded"
    assert agency.get("/api/v1/evidence").json() == []
    assert agency.get(item["video_url"]).status_code == 404
