"""End-to-end encryption in a real browser: turned on with Web Crypto, clips opened only here."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from doorstep.agent.e2e import sealed_copies
from doorstep.platform.crypto import passphrase_key
from doorstep.platform.types import utcnow
from tests.browser import SCREENSHOTS, LiveServer, TrackedPage
from tests.factories import PASSWORD
from tests.samples import tiny_clip, tiny_jpeg

pytestmark = pytest.mark.browser
PASSPHRASE = "a long passphrase only I know"


def test_turn_on_e2e_and_open_a_sealed_clip(
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
    page.goto(live_server.url + "/cameras")
    page.get_by_label("Name").fill("Front door")
    page.get_by_role("button", name="Add camera").click()

    page.get_by_label("Passphrase (at least 12").fill(PASSPHRASE)
    page.get_by_label("Passphrase again").fill(PASSPHRASE)
    page.get_by_role("button", name="Turn on end-to-end encryption").click()
    expect(page.get_by_test_id("e2e-on")).to_be_visible(timeout=20000)
    page.screenshot(path=str(SCREENSHOTS / "e2e-camera.png"), full_page=True)
    assert PASSPHRASE not in " ".join(tracked_page.requests)

    page.get_by_role("button", name="Make a pairing code").click()
    code = page.get_by_test_id("pairing-code").inner_text()
    token = httpx.post(live_server.url + "/api/v1/devices/pair", json={"code": code}).json()[
        "token"
    ]
    auth = {"authorization": f"Bearer {token}"}
    config = httpx.get(live_server.url + "/api/v1/devices/config", headers=auth).json()
    key = passphrase_key(PASSPHRASE, bytes.fromhex(config["e2e_salt"]))
    video = tiny_clip(tmp_path / "clip.mp4", frames=36)
    snapshot = tmp_path / "snap.jpg"
    snapshot.write_bytes(tiny_jpeg())
    start = utcnow() - timedelta(minutes=1)
    meta = {
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(seconds=3)).isoformat(),
        "peak_motion": 0.2,
        "labels": ["person"],
        "e2e": True,
    }
    with sealed_copies(key, video, snapshot) as (sealed_video, sealed_snapshot):
        uploaded = httpx.post(
            live_server.url + "/api/v1/devices/clips",
            headers=auth,
            data={"meta": json.dumps(meta)},
            files={
                "video": ("c", sealed_video.read_bytes()),
                "snapshot": ("s", sealed_snapshot.read_bytes()),
            },
        )
    assert uploaded.status_code == 201, uploaded.text
    clip_id = uploaded.json()["id"]

    page.goto(live_server.url + "/clips")
    expect(page.get_by_text("End-to-end encrypted: open to view")).to_be_visible()
    page.goto(live_server.url + f"/clips/{clip_id}")
    page.get_by_label("Passphrase").fill("this is not the passphrase")
    page.get_by_role("button", name="Open clip").click()
    expect(page.locator("#e2e-unlock-status")).to_contain_text("does not open", timeout=20000)
    page.get_by_label("Passphrase").fill(PASSPHRASE)
    page.get_by_role("button", name="Open clip").click()
    expect(page.locator("#e2e-unlock-status")).to_contain_text(
        "Decrypted in this browser", timeout=20000
    )
    page.wait_for_function("() => document.getElementById('e2e-player').readyState >= 1")
    assert page.evaluate("document.getElementById('e2e-player').duration") > 2
    page.screenshot(path=str(SCREENSHOTS / "e2e-clip.png"), full_page=True)
    assert tracked_page.foreign_requests(live_server.url) == []
    assert tracked_page.policy_violations() == []
