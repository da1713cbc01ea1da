"""Standing access: forward-only sharing of one camera's clips with a case, revocable."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.errors import InvalidInput
from doorstep.platform.types import utcnow
from doorstep.requests import consent
from doorstep.requests.jobs import prepare_share
from doorstep.requests.models import StandingGrant
from doorstep.requests.service_standing import share_standing
from tests.agencies.test_api import HOME, app_state, verified_agency
from tests.cameras.test_api_devices import _camera, _pair, _upload
from tests.factories import resident, settle_jobs
from tests.platform.logs_capture import captured_logs
from tests.requests.test_api import post_rfa
from tests.samples import tiny_clip

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_the_rule_covers_only_clips_recorded_after_the_grant() -> None:
    grant = consent.StandingGrant(granted_at=T0, ends_at=T0 + timedelta(days=7))
    later = T0 + timedelta(days=1)
    assert consent.standing_covers(grant, T0, T0 + timedelta(seconds=5), later)
    # A clip still recording when the grant was given began before it: never covered.
    straddling = (T0 - timedelta(seconds=1), T0 + timedelta(seconds=5))
    assert not consent.standing_covers(grant, *straddling, later)
    assert not consent.standing_covers(
        grant, T0 - timedelta(hours=1), T0 - timedelta(minutes=59), later
    )
    # Nor after it ends, is revoked or the case closes.
    assert not consent.standing_covers(
        grant, T0 + timedelta(days=7), T0 + timedelta(days=7, seconds=1), T0 + timedelta(days=8)
    )
    revoked = consent.StandingGrant(
        granted_at=T0, ends_at=T0 + timedelta(days=7), revoked_at=T0 + timedelta(hours=1)
    )
    assert not consent.standing_covers(
        revoked, T0 + timedelta(hours=2), T0 + timedelta(hours=3), later
    )
    closed = consent.StandingGrant(
        granted_at=T0, ends_at=T0 + timedelta(days=7), case_closes_at=T0 + timedelta(hours=1)
    )
    assert not consent.standing_covers(
        closed, T0 + timedelta(hours=2), T0 + timedelta(hours=3), later
    )


@pytest.mark.parametrize("days", [0, 31])
def test_a_grant_lasts_some_time_and_at_most_the_limit(days: int) -> None:
    with pytest.raises(InvalidInput):
        consent.StandingGrant(granted_at=T0, ends_at=T0 + timedelta(days=days))


def _owner(app: FastAPI, tmp_path: Path) -> tuple[TestClient, str, str, Any]:
    """An owner with an opted-in camera at HOME: (client, csrf, camera id, upload(start))."""
    owner = TestClient(app)
    csrf = resident(owner, "sharer@example.org", display_name="Sharer", home=HOME)
    camera = _camera(owner, csrf, requests_opt_in=True)
    token = _pair(owner, csrf, camera["id"])
    made: list[str] = []

    def upload(start: datetime, seconds: float = 2) -> str:
        # A different length each time: the same bytes twice are one clip.
        video = tiny_clip(tmp_path / f"clip{len(made)}.mp4", frames=12 + len(made)).read_bytes()
        meta = {
            "started_at": start.isoformat(),
            "ended_at": (start + timedelta(seconds=seconds)).isoformat(),
            "peak_motion": 0.2,
            "labels": ["person"],
        }
        uploaded = _upload(owner, token, video, meta=json.dumps(meta))
        assert uploaded.status_code == 201, uploaded.text
        clip_id: str = uploaded.json()["id"]
        made.append(clip_id)
        return clip_id

    return owner, csrf, camera["id"], upload


def _shared_clips(app: FastAPI, agency: TestClient, owner: TestClient, rfa_id: str) -> set[str]:
    """Run the sweep's standing step as the worker does, then what the owner shared."""
    del agency
    state = app_state(app)
    with state.db.session() as db:
        opened = share_standing(db)
    # A share's copy job writes no INFO line: a decline writes none, and logs must not tell
    # one from the other.
    with captured_logs() as logs:
        for share_id in opened:
            assert prepare_share(state.db, state.keys, share_id)
    assert logs.lines == []
    settle_jobs(app)
    return {s["clip_id"] for s in owner.get(f"/api/v1/inbox/{rfa_id}").json()["shares"]}


def test_standing_access_never_shares_a_clip_from_before_the_grant(
    app: FastAPI, tmp_path: Path
) -> None:
    owner, csrf, camera_id, upload = _owner(app, tmp_path)
    before = upload(utcnow() - timedelta(minutes=5))
    agency, agency_csrf, _agency_id = verified_agency(app)
    rfa = post_rfa(agency, agency_csrf).json()
    granted = owner.post(
        f"/api/v1/inbox/{rfa['id']}/standing",
        json={"camera_id": camera_id, "days": 7},
        headers={"x-csrf-token": csrf},
    )
    assert granted.status_code == 201, granted.text
    grant = granted.json()
    assert grant["active"] is True
    # The grant is moved three minutes back so clips "after" it can be uploaded, none in the
    # future: one wholly after, and one that was already recording when it was given.
    given = utcnow() - timedelta(minutes=3)
    with app_state(app).db.session() as db:
        row = db.get(StandingGrant, grant["id"])
        assert row is not None
        row.granted_at = given
    straddling = upload(given - timedelta(seconds=1))
    after = upload(given + timedelta(minutes=1))
    assert _shared_clips(app, agency, owner, rfa["id"]) == {after}
    # Each is an ordinary share: redacted copy in the locker, with its terms; shared only once.
    (item,) = agency.get("/api/v1/evidence").json()
    assert item["sha256"]
    assert item["terms_version"]
    assert _shared_clips(app, agency, owner, rfa["id"]) == {after}
    assert before not in _shared_clips(app, agency, owner, rfa["id"])
    assert straddling not in _shared_clips(app, agency, owner, rfa["id"])

    # Revoked: nothing recorded from then on is shared.
    revoked = owner.post(f"/api/v1/standing/{grant['id']}/revoke", headers={"x-csrf-token": csrf})
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["active"] is False
    upload(utcnow() - timedelta(seconds=10))
    assert _shared_clips(app, agency, owner, rfa["id"]) == {after}
    again = owner.post(f"/api/v1/standing/{grant['id']}/revoke", headers={"x-csrf-token": csrf})
    assert again.status_code == 409
    listed = owner.get(f"/api/v1/inbox/{rfa['id']}/standing").json()
    assert [g["id"] for g in listed] == [grant["id"]]


def test_standing_access_is_only_for_the_owner_s_camera_in_the_request(
    app: FastAPI, tmp_path: Path
) -> None:
    owner, csrf, camera_id, _upload_clip = _owner(app, tmp_path)
    agency, agency_csrf, _agency_id = verified_agency(app)
    rfa = post_rfa(agency, agency_csrf).json()
    other = TestClient(app)
    other_csrf = resident(other, "other@example.org", display_name="Other", home=HOME)
    # Someone else's camera, and a request the caller was not asked by, are not theirs to give.
    stolen = other.post(
        f"/api/v1/inbox/{rfa['id']}/standing",
        json={"camera_id": camera_id, "days": 7},
        headers={"x-csrf-token": other_csrf},
    )
    assert stolen.status_code == 404
    too_long = owner.post(
        f"/api/v1/inbox/{rfa['id']}/standing",
        json={"camera_id": camera_id, "days": 365},
        headers={"x-csrf-token": csrf},
    )
    assert too_long.status_code == 422
    body = {"camera_id": camera_id, "days": 1}
    first = owner.post(
        f"/api/v1/inbox/{rfa['id']}/standing", json=body, headers={"x-csrf-token": csrf}
    )
    assert first.status_code == 201, first.text
    second = owner.post(
        f"/api/v1/inbox/{rfa['id']}/standing", json=body, headers={"x-csrf-token": csrf}
    )
    assert second.status_code == 409
    # Once the case closes, no more standing access is given.
    agency.post(f"/api/v1/requests/{rfa['id']}/close", headers={"x-csrf-token": agency_csrf})
    assert owner.get(f"/api/v1/inbox/{rfa['id']}/standing").json()[0]["active"] is False
