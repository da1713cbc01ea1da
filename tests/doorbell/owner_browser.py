"""The owner's side of a live call in Debian chromium, driven by Playwright, for the NAT test.

Run inside the browser's network namespace: it signs in, opens the camera's live page (which
calls the doorbell over WebRTC with the relay from ``/api/v1/turn``), waits until the page is live
and its ``<video>`` shows the camera's colour bars, reads the selected ICE candidate pair from
``getStats()``, sends a marker on the page's ``doorstep`` data channel, and hangs up with the
page's button. The page's peer connection and data channel are observed through an init script
that only records them. The result goes to ``--record`` as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser import CHROMIUM_FLAGS, FAKE_MEDIA_FLAGS
from tests.doorbell.lab_peer import BARS

#: Keeps a reference to the page's RTCPeerConnection and data channels, and what they hear.
OBSERVE = """
(() => {
  const Native = window.RTCPeerConnection;
  const seen = { pcs: [], channels: [], messages: [] };
  window.__doorstep = seen;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); seen.pcs.push(this); }
    createDataChannel(...args) {
      const channel = super.createDataChannel(...args);
      channel.addEventListener("message", (event) => seen.messages.push(String(event.data)));
      seen.channels.push(channel);
      return channel;
    }
  };
})();
"""

STRIPES = """
() => {
  const video = document.querySelector("#live video");
  if (!video || !video.videoWidth) return null;
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth; canvas.height = video.videoHeight;
  const context = canvas.getContext("2d");
  context.drawImage(video, 0, 0);
  const stripe = canvas.width / 4;
  const means = [];
  for (let index = 0; index < 4; index++) {
    const d = context.getImageData(index * stripe + stripe / 4, 0, stripe / 2, canvas.height).data;
    const sum = [0, 0, 0];
    for (let i = 0; i < d.length; i += 4) {
      sum[0] += d[i]; sum[1] += d[i + 1]; sum[2] += d[i + 2];
    }
    means.push(sum.map((v) => v / (d.length / 4)));
  }
  return means;
}
"""

SELECTED_PAIR = """
async () => {
  const stats = await window.__doorstep.pcs[0].getStats();
  let pair = null;
  stats.forEach((report) => {
    if (report.type === "transport" && report.selectedCandidatePairId) {
      pair = stats.get(report.selectedCandidatePairId);
    }
  });
  let frames = 0;
  stats.forEach((report) => {
    if (report.type === "inbound-rtp" && report.kind === "video") frames = report.framesDecoded;
  });
  if (!pair) return { pair: [], frames };
  const local = stats.get(pair.localCandidateId), remote = stats.get(pair.remoteCandidateId);
  return { pair: [local.candidateType, remote.candidateType], frames };
}
"""


def shows_bars(page: Page) -> bool:
    """Whether the playing video shows the colour bars, stripe by stripe, within 40 levels."""
    means = page.evaluate(STRIPES)
    if means is None:
        return False
    return all(
        max(abs(got - want) for got, want in zip(mean, colour, strict=True)) <= 40
        for mean, colour in zip(means, BARS, strict=True)
    )


def call(page: Page, args: argparse.Namespace) -> dict[str, Any]:
    signed_in = page.request.post(
        "/api/v1/session", data={"email": args.email, "password": args.password}
    )
    assert signed_in.ok, signed_in.text()
    turn = page.request.get("/api/v1/turn").json()
    result: dict[str, Any] = {"turn_urls": [server["urls"] for server in turn["ice_servers"]]}
    page.goto(f"/cameras/{args.camera}/live")
    live = "() => document.getElementById('live').dataset.state"
    settled = f"() => ['live', 'failed', 'ended'].includes(({live})())"
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(settled, timeout=45_000)
    result["state"] = page.evaluate(live)
    result["status"] = page.locator("[data-testid=live-status]").inner_text()
    result["connected"] = result["state"] == "live"
    bars = 0
    deadline = time.monotonic() + 20
    while result["connected"] and bars < 10 and time.monotonic() < deadline:
        bars += shows_bars(page)
        page.wait_for_timeout(100)
    result["bars"] = bars
    if result["connected"]:
        result |= page.evaluate(SELECTED_PAIR)
        page.wait_for_function("() => window.__doorstep.messages.length > 0", timeout=10_000)
        result["hello"] = json.loads(page.evaluate("() => window.__doorstep.messages[0]"))
        message = json.dumps({"type": "quick_reply", "id": args.marker})
        page.evaluate("(message) => window.__doorstep.channels[0].send(message)", message)
        page.wait_for_function("() => window.__doorstep.channels[0].bufferedAmount === 0")
        page.wait_for_timeout(500)  # the marker crosses the relay before the call ends
        result["marker_sent"] = True
        page.locator("[data-live-hangup]").click()
        ended = f"() => ({live})() === 'ended'"
        page.wait_for_function(ended, timeout=5_000)
        result["hung_up"] = True
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    for name in ("--server", "--email", "--password", "--camera", "--marker"):
        parser.add_argument(name, required=True)
    parser.add_argument("--record", type=Path, required=True)
    args = parser.parse_args()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"),
            headless=True,
            args=[*CHROMIUM_FLAGS, *FAKE_MEDIA_FLAGS],
        )
        try:
            context = browser.new_context(base_url=args.server)
            context.add_init_script(OBSERVE)
            result = call(context.new_page(), args)
        finally:
            browser.close()
    args.record.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
