"""The doorbell as the owner feels it: ring alerts, motion alerts and live view, WebRTC vs MJPEG.

Run: ``.venv/bin/python bench/doorbell.py [--presses 20] [--motions 8] [--seconds 15]``.
Everything on loopback, on this machine: ``doorstep serve`` on the embedded default (SQLite and
a data folder of its own), one real agent (``bench/_stamped_agent.py``: the product's agent
whose camera is a 1280×720, 30 fps picture with the capture time as a barcode along its top
edge), and Debian's chromium under Playwright as the owner, signed in.

Measured, each in the same run:
- press → alert: the button is pressed over the agent's MQTT command topic; the time until the
  page shows "Someone is at …" (read on the page's clock, the same machine's clock);
- motion start → alert: the first moving frame is made → the page hears ``event_started``;
- open live view → first frame, frames per second delivered, and glass-to-glass latency (the
  page reads the barcode of each frame it shows: its clock minus the frame's capture time),
  for WebRTC (the live page) and for the MJPEG stream it replaces, one after the other;
- the agent's CPU (user + system, in cores) while idle, while sending WebRTC and while sending
  MJPEG.
Goals (from the doorbell's design): alert p99 ≤ 300 ms, first frame ≤ 1 s, glass-to-glass
≤ 250 ms, 720p at ≥ 15 fps on one core of the agent.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from playwright.sync_api import Page, sync_playwright

from _stamp import READER_JS

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
DOORSTEP = ROOT / ".venv" / "bin" / "doorstep"
MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883
PASSWORD = "bench-porch-light-7"
TICKS = os.sysconf("SC_CLK_TCK")

#: Records, on the page's clock, each frame shown: [capture ms, shown ms] (WebRTC <video>).
VIDEO_WATCH_JS = """
(() => {
  window.__frames = []; window.__firstFrameAt = null;
  const watch = (video) => {
    const onFrame = () => {
      const stamp = window.__readStamp(video, video.videoWidth, video.videoHeight);
      if (stamp !== null) {
        if (window.__firstFrameAt === null) window.__firstFrameAt = performance.now();
        window.__frames.push([stamp, Date.now()]);
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  };
  const find = () => {
    const video = document.querySelector('video');
    if (video) watch(video); else setTimeout(find, 10);
  };
  find();
})();
"""

#: The MJPEG stream in an <img>, read on every animation frame; a new stamp is a new frame.
MJPEG_WATCH_JS = """
(url) => {
  window.__frames = []; window.__firstFrameAt = null;
  const started = performance.now();
  const img = new Image();
  let last = null;
  const onFrame = () => {
    if (img.naturalWidth) {
      const stamp = window.__readStamp(img, img.naturalWidth, img.naturalHeight);
      if (stamp !== null && stamp !== last) {
        if (window.__firstFrameAt === null) window.__firstFrameAt = performance.now() - started;
        window.__frames.push([stamp, Date.now()]);
        last = stamp;
      }
    }
    requestAnimationFrame(onFrame);
  };
  img.src = url;
  document.body.appendChild(img);
  requestAnimationFrame(onFrame);
}
"""

#: Notes when the ring banner becomes visible, and every event the page's account hears.
ALERT_WATCH_JS = """
(() => {
  window.__ringsSeen = []; window.__events = [];
  let showing = false;
  const look = () => {
    // The ring dialog is fixed on screen: it has no offsetParent, so ask the browser instead.
    const visible = [...document.querySelectorAll('[role=alertdialog]')].some(
      (el) => el.checkVisibility() && /Someone is at/.test(el.textContent));
    if (visible && !showing) window.__ringsSeen.push(Date.now());
    showing = visible;
    requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
  const events = new EventSource('/api/v1/events');
  for (const type of ['ring', 'event_started', 'event_updated']) {
    events.addEventListener(type, () => window.__events.push([type, Date.now()]));
  }
})();
"""


@dataclass
class Stream:
    """What one way of watching live delivered."""

    first_frame_ms: float | None
    fps: float
    latency_ms: list[float]
    agent_cores: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@contextlib.contextmanager
def server(data_dir: Path, port: int) -> Iterator[str]:
    env = {
        **os.environ,
        "DOORSTEP_DATA_DIR": str(data_dir),
        "DOORSTEP_HOST": "127.0.0.1",
        "DOORSTEP_PORT": str(port),
    }
    process = subprocess.Popen(
        [str(DOORSTEP), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"doorstep serve did not start: {process.stderr.read()!r}")  # type: ignore[union-attr]
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(30)


def owner_with_camera(url: str) -> tuple[httpx.Client, str, str]:
    """Sign Ada up, log her in, give her a camera; return her client, its CSRF token, the camera."""
    http = httpx.Client(base_url=url, timeout=30)
    account = {"email": "ada@example.org", "password": PASSWORD, "display_name": "Ada"}
    http.post("/api/v1/accounts", json=account).raise_for_status()
    session = http.post("/api/v1/session", json={"email": account["email"], "password": PASSWORD})
    session.raise_for_status()
    csrf: str = session.json()["csrf_token"]
    camera = http.post(
        "/api/v1/cameras", json={"name": "Front door"}, headers={"x-csrf-token": csrf}
    )
    camera.raise_for_status()
    camera_id = str(camera.json()["id"])
    # The barcode changes every frame: motion is looked for only below it, as an owner would
    # draw a motion zone to leave out a clock on the picture.
    below_the_strip = [[[0.0, 0.1], [1.0, 0.1], [1.0, 1.0], [0.0, 1.0]]]
    http.patch(
        f"/api/v1/cameras/{camera_id}",
        json={"motion_zones": below_the_strip},
        headers={"x-csrf-token": csrf},
    ).raise_for_status()
    return http, csrf, camera_id


class Agent:
    """The stamped agent in a process of its own, so its CPU can be read apart."""

    def __init__(self, url: str, state_dir: Path, code: str) -> None:
        subprocess.run(
            [str(DOORSTEP), "agent", "pair", "--server", url, "--code", code]
            + ["--state-dir", str(state_dir)],
            check=True,
            capture_output=True,
        )
        self.process = subprocess.Popen(
            [str(PYTHON), str(ROOT / "bench" / "_stamped_agent.py"), "--state-dir", str(state_dir)]
            + ["--mqtt", f"mqtt://{MQTT_HOST}:{MQTT_PORT}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=(state_dir / "agent.log").open("w"),
            text=True,
            cwd=ROOT / "bench",
        )
        self.log = state_dir / "agent.log"
        self.motion_starts: list[int] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("motion-start "):
                self.motion_starts.append(int(line.split()[1]))

    def command(self, line: str) -> None:
        """Send the stamped camera a command (``motion on`` / ``motion off``)."""
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def cores_during(self, seconds: float) -> float:
        """The agent's CPU over the next ``seconds``, in cores."""
        before, started = cpu_seconds(self.process.pid), time.monotonic()
        time.sleep(seconds)
        return (cpu_seconds(self.process.pid) - before) / (time.monotonic() - started)

    def stop(self) -> None:
        """Stop the agent as a service manager would."""
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(30)
        if self.process.poll() is None:
            self.process.kill()


def wait_for(page: Page, expression: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(expression)
        if value:
            return value
        time.sleep(0.01)
    return None


def measure_rings(page: Page, camera_id: str, presses: int, gap: float) -> list[float]:
    mqtt = paho.Client(CallbackAPIVersion.VERSION2)
    mqtt.connect(MQTT_HOST, MQTT_PORT)
    mqtt.loop_start()
    latencies: list[float] = []
    try:
        for _ in range(presses):
            seen = page.evaluate("window.__ringsSeen.length")
            pressed = time.time() * 1000
            mqtt.publish(f"doorstep/{camera_id}/command", b"ring", qos=1).wait_for_publish(5)
            shown = wait_for(page, f"window.__ringsSeen[{seen}]", 10)
            if shown is not None:
                latencies.append(float(shown) - pressed)
            with contextlib.suppress(Exception):
                page.get_by_role("button", name="Ignore").click(timeout=2000)
            time.sleep(gap)
    finally:
        mqtt.loop_stop()
        mqtt.disconnect()
    return latencies


def measure_motion(page: Page, agent: Agent, motions: int) -> list[float]:
    latencies: list[float] = []
    time.sleep(8)  # the last ring's clip (pre-roll, post-roll) is over: motion starts a new event
    for _ in range(motions):
        heard = page.evaluate("window.__events.filter(e => e[0] === 'event_started').length")
        starts = len(agent.motion_starts)
        agent.command("motion on")
        at = wait_for(
            page,
            f"(window.__events.filter(e => e[0] === 'event_started')[{heard}] || [])[1]",
            15,
        )
        deadline = time.monotonic() + 5
        while len(agent.motion_starts) <= starts and time.monotonic() < deadline:
            time.sleep(0.01)
        if at is not None and len(agent.motion_starts) > starts:
            latencies.append(float(at) - agent.motion_starts[starts])
        time.sleep(2)
        agent.command("motion off")
        # Past the post-roll and the detector's settling, so the next one is a new event.
        time.sleep(8)
    return latencies


def measure_stream(page: Page, agent: Agent, seconds: float) -> Stream:
    wait_for(page, "window.__firstFrameAt !== null", 20)
    cores = agent.cores_during(seconds)
    frames: list[list[int]] = page.evaluate("window.__frames")
    first = page.evaluate("window.__firstFrameAt")
    if not frames:
        return Stream(None, 0.0, [], cores)
    window_ms = max(1, frames[-1][1] - frames[0][1])
    distinct = len({stamp for stamp, _ in frames})
    return Stream(
        first_frame_ms=first,
        fps=distinct / (window_ms / 1000),
        latency_ms=[float(shown - stamp) for stamp, shown in frames],
        agent_cores=cores,
    )


def row(name: str, values: list[float], goal: str) -> str:
    if not values:
        return f"| {name} | n/a | n/a | 0 | {goal} |"
    return (
        f"| {name} | {statistics.median(values):.0f} | {percentile(values, 99):.0f} "
        f"| {len(values)} | {goal} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--motions", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument(
        "--ring-gap", type=float, default=10.5, help="seconds between presses (past the cooldown)"
    )
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("bench/doorbell.py needs Debian's chromium: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="doorstep-bench-") as tmp:
        folder = Path(tmp)
        with server(folder / "data", free_port()) as url:
            http, csrf, camera_id = owner_with_camera(url)
            code = http.post(
                f"/api/v1/cameras/{camera_id}/pairing-code", headers={"x-csrf-token": csrf}
            ).json()["code"]
            agent = Agent(url, folder / "agent", code)
            try:
                return run(args, url, camera_id, agent, chromium)
            finally:
                agent.stop()


def run(args: argparse.Namespace, url: str, camera_id: str, agent: Agent, chromium: str) -> int:
    time.sleep(3)  # the agent connects, fetches its settings and starts its capture loop
    idle_cores = agent.cores_during(args.seconds)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=["--autoplay-policy=no-user-gesture-required"],
        )
        context = browser.new_context(base_url=url)
        context.request.post(
            "/api/v1/session", data={"email": "ada@example.org", "password": PASSWORD}
        )
        context.add_init_script(READER_JS)
        page = context.new_page()
        page.goto("/cameras")
        page.mouse.click(5, 5)  # the first user gesture, after which a page may make sound
        page.evaluate(ALERT_WATCH_JS)
        time.sleep(1)
        rings = measure_rings(page, camera_id, args.presses, args.ring_gap)
        motion = measure_motion(page, agent, args.motions)

        live = context.new_page()
        live.add_init_script(VIDEO_WATCH_JS)
        live.goto(f"/cameras/{camera_id}/live")
        webrtc = measure_stream(live, agent, args.seconds)
        live.close()
        time.sleep(3)

        mjpeg_page = context.new_page()
        mjpeg_page.goto("/cameras")
        mjpeg_page.evaluate(MJPEG_WATCH_JS, f"/api/v1/cameras/{camera_id}/live")
        mjpeg = measure_stream(mjpeg_page, agent, args.seconds)
        mjpeg_page.close()
        browser.close()

    print(f"Doorstep doorbell bench, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores")
    print()
    print("| alert (ms) | p50 | p99 | n | goal |")
    print("|---|---|---|---|---|")
    print(row("press → ring shown in an open page", rings, "p99 ≤ 300"))
    print(row("motion start → event_started in an open page", motion, "≤ 1000"))
    print()
    print("| live view, 1280×720 at 30 fps source | WebRTC | MJPEG | goal |")
    print("|---|---|---|---|")

    def cell(stream: Stream, what: str) -> str:
        if what == "first":
            return "n/a" if stream.first_frame_ms is None else f"{stream.first_frame_ms:.0f} ms"
        if what == "fps":
            return f"{stream.fps:.1f}"
        if what in ("p50", "p99"):
            if not stream.latency_ms:
                return "n/a"
            value = (
                statistics.median(stream.latency_ms)
                if what == "p50"
                else percentile(stream.latency_ms, 99)
            )
            return f"{value:.0f} ms"
        return f"{stream.agent_cores:.2f}"

    for label, what, goal in (
        ("open → first frame", "first", "≤ 1 s"),
        ("frames per second shown", "fps", "≥ 15"),
        ("glass-to-glass p50", "p50", "≤ 250 ms"),
        ("glass-to-glass p99", "p99", ""),
        ("agent CPU while sending (cores)", "cpu", "≤ 1"),
    ):
        print(f"| {label} | {cell(webrtc, what)} | {cell(mjpeg, what)} | {goal} |")
    print(f"| agent CPU idle, capture and motion only (cores) | {idle_cores:.2f} | | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
