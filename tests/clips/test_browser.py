"""An owner's clip journey in a real browser: pair, live alert, playback with seeking, delete."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from doorstep.platform.crypto import DecryptionFailed, decrypt_all
from doorstep.platform.types import utcnow
from tests.browser import SCREENSHOTS, LiveServer, TrackedPage
from tests.factories import PASSWORD
from tests.samples import tiny_clip, tiny_jpeg

pytestmark = pytest.mark.browser


def _upload(server: LiveServer, token: str, clip: Path) -> dict[str, object]:
    start = utcnow() - timedelta(seconds=30)
    meta = {
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(seconds=2)).isoformat(),
        "peak_motion": 0.3,
        "labels": ["person"],
    }
    response = httpx.post(
        server.url + "/api/v1/devices/clips",
        headers={"authorization": f"Bearer {token}"},
        data={"meta": json.dumps(meta)},
        files={"video": ("c.mp4", clip.read_bytes()), "snapshot": ("s.jpg", tiny_jpeg())},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_pair_alert_play_retention_delete(
    live_server: LiveServer, tracked_page: TrackedPage, tmp_path: Path
) -> None:
    page = tracked_page.page
    page.goto(live_server.url + "/signup")
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Display name").fill("Ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    # Sign-up never logs in (it would tell a new email from a taken one): log in next.
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("link", name="Cameras").click()
    page.get_by_label("Name").fill("Front door")
    page.get_by_role("button", name="Add camera").click()
    page.get_by_role("button", name="Make a pairing code").click()
    code = page.get_by_test_id("pairing-code").inner_text()
    paired = httpx.post(live_server.url + "/api/v1/devices/pair", json={"code": code})
    assert paired.status_code == 201
    token = paired.json()["token"]
    httpx.post(
        live_server.url + "/api/v1/devices/heartbeat",
        json={},
        headers={"authorization": f"Bearer {token}"},
    )
    page.reload()
    expect(page.get_by_test_id("camera-status")).to_have_text("online")
    page.screenshot(path=str(SCREENSHOTS / "camera.png"), full_page=True)

    page.get_by_role("link", name="Clips").click()
    expect(page.get_by_test_id("no-clips")).to_be_visible()
    # Wait until the page is listening, then a clip arrives and the alert shows within a second.
    live_server.wait_for_listeners()
    clip = _upload(live_server, token, tiny_clip(tmp_path / "clip.mp4", frames=36))
    alert = page.get_by_test_id("alerts").get_by_role("link")
    expect(alert).to_contain_text("Person at Front door", timeout=1000)
    page.screenshot(path=str(SCREENSHOTS / "alert.png"))

    alert.click()
    expect(page).to_have_url(re.compile(f"/clips/{clip['id']}$"))
    player = page.get_by_test_id("player")
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    duration = page.evaluate("document.querySelector('video').duration")
    assert duration > 2
    page.evaluate("document.querySelector('video').currentTime = 2.0")
    page.wait_for_function(
        "() => !document.querySelector('video').seeking"
        " && document.querySelector('video').readyState >= 2"
    )
    assert page.evaluate("document.querySelector('video').currentTime") == pytest.approx(
        2.0, abs=0.2
    )
    expect(player).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "clip.png"), full_page=True)

    page.goto(live_server.url + "/cameras")
    page.get_by_role("link", name="Front door").click()
    page.get_by_label("Keep clips for").select_option("7")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    expect(page.get_by_label("Keep clips for")).to_have_value("7")

    blobs = list((live_server.settings.data_dir / "blobs").rglob("*.mp4.sealed"))
    assert len(blobs) == 1
    sealed = blobs[0].read_bytes()
    page.goto(live_server.url + f"/clips/{clip['id']}")
    page.get_by_role("button", name="Delete this clip").click()
    expect(page.get_by_text("1 clip(s) deleted")).to_be_visible()
    expect(page.get_by_test_id("no-clips")).to_be_visible()
    assert list((live_server.settings.data_dir / "blobs").rglob("*.sealed")) == []
    master = (live_server.settings.data_dir / "master.key").read_text()
    with pytest.raises(DecryptionFailed):
        decrypt_all([sealed], base64.b64decode(master))

    assert tracked_page.foreign_requests(live_server.url) == []
    assert tracked_page.policy_violations() == []
