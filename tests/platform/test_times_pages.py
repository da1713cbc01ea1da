"""Pages that read a day or a time in the viewer's zone, through the app."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from doorstep.platform.types import utcnow
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
