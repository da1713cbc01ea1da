"""Pages that read a day or a time in the viewer's zone, through the app."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.platform.types import utcnow
from tests.agencies.test_api import verified_agency
from tests.cameras.test_api_devices import _camera, _meta, _pair, _upload
from tests.factories import resident
from tests.samples import tiny_clip


def test_the_clips_day_is_the_viewers_day(client: TestClient, tmp_path: Path) -> None:
    csrf = resident(client)
    camera = _camera(client, csrf)
    token = _pair(client, csrf, camera["id"])
    # 03:00 UTC is still the evening before in Los Angeles (UTC-7 or -8).
    start = (utcnow() - timedelta(days=1)).replace(hour=3, minute=0, second=0, microsecond=0)
    meta = _meta(started_at=start.isoformat(), ended_at=(start + timedelta(seconds=2)).isoformat())
    video = tiny_clip(tmp_path / "clip.mp4").read_bytes()
    assert _upload(client, token, video, meta=meta).status_code == 201
    utc_day, pacific_day = start.date().isoformat(), (start.date() - timedelta(days=1)).isoformat()

    def shown(day: str, zone: str) -> bool:
        page = client.get("/clips", params={"day": day, "time_zone": zone})
        assert page.status_code == 200, page.text
        return 'data-testid="visit"' in page.text

    assert shown(utc_day, "UTC")
    assert not shown(pacific_day, "UTC")
    assert shown(pacific_day, "America/Los_Angeles")
    assert not shown(utc_day, "America/Los_Angeles")
    refused = client.get("/clips", params={"day": utc_day, "time_zone": "Nowhere/Else"})
    assert refused.status_code == 422
    assert "time zone" in refused.text


def test_an_emergency_window_typed_in_pacific_time_is_stored_in_utc(app: FastAPI) -> None:
    chief, csrf, _agency_id = verified_agency(app)
    owner = TestClient(app)
    owner_csrf = resident(owner, "owner@example.org")
    camera = _camera(owner, owner_csrf, requests_opt_in=True)
    start = (utcnow() - timedelta(hours=2)).replace(second=0, microsecond=0)
    end = start + timedelta(hours=1)
    pacific = ZoneInfo("America/Los_Angeles")
    answer = chief.post(
        "/agency/emergencies",
        data={
            "csrf_token": csrf,
            "case_number": "PPB-2026-0914",
            "device_ids": camera["id"],
            "window_start": start.astimezone(pacific).strftime("%Y-%m-%dT%H:%M"),
            "window_end": end.astimezone(pacific).strftime("%Y-%m-%dT%H:%M"),
            "time_zone": "America/Los_Angeles",
            "attestation": "Someone is trapped in a house fire and we need the door camera.",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    (filed,) = chief.get("/api/v1/emergencies").json()
    assert datetime.fromisoformat(filed["window_start"]) == start
    assert datetime.fromisoformat(filed["window_end"]) == end
