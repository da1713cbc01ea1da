"""Several `doorstep serve` processes on PostgreSQL, SeaweedFS S3, Mosquitto and the Redis queue."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from doorstep.platform.types import utcnow
from tests.doorbell.sdp import GOOD_ANSWER, GOOD_OFFER
from tests.samples import tiny_clip, tiny_jpeg
from tests.scaleout.conftest import (
    Cluster,
    Resident,
    base_env,
    free_port,
    new_resident,
    s3_env,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.s3, pytest.mark.mqtt]
MAX_SSE_LINES = 200


@pytest.fixture
def servers(
    tmp_path: Path,
    postgres_schema: str,
    queue_url: str,
    mqtt_url: str,
    seaweedfs_endpoint: str,
    cluster_folder: Path,
) -> Iterator[tuple[str, str]]:
    """Two API servers sharing everything but memory: A with two processes, B with one."""
    env = base_env(
        tmp_path,
        postgres_schema,
        queue_url=queue_url,
        mqtt_url=mqtt_url,
        **s3_env(seaweedfs_endpoint),
    )
    cluster = Cluster(env, cluster_folder)
    port_a, port_b = free_port(), free_port()
    try:
        cluster.serve("api-a", port_a, workers=2)
        cluster.serve("api-b", port_b)
        yield f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    finally:
        cluster.stop_all()


def _meta() -> dict[str, Any]:
    start = utcnow()
    return {
        "started_at": start.isoformat(),
        "ended_at": start.isoformat(),
        "peak_motion": 0.3,
        "labels": ["person"],
    }


def _first_event(lines: Iterator[str], kind: str) -> dict[str, Any]:
    for _ in range(MAX_SSE_LINES):
        if next(lines) == f"event: {kind}":
            event: dict[str, Any] = json.loads(next(lines).removeprefix("data: "))
            return event
    raise AssertionError(f"no {kind} event in {MAX_SSE_LINES} lines")


def test_an_upload_on_one_process_alerts_a_page_on_another(
    servers: tuple[str, str], tmp_path: Path
) -> None:
    url_a, url_b = servers
    with (
        httpx.Client(base_url=url_a, timeout=30) as on_a,
        httpx.Client(base_url=url_b, timeout=httpx.Timeout(30, read=20)) as on_b,
    ):
        ada: Resident = new_resident(on_a, "ada@example.org")
        on_b.cookies = on_a.cookies
        with on_b.stream("GET", "/api/v1/events") as stream:
            assert stream.status_code == 200
            lines = stream.iter_lines()
            assert next(lines) == ": connected"
            video = tiny_clip(tmp_path / "clip.mp4").read_bytes()
            uploaded = ada.upload(url_a, video, tiny_jpeg(), _meta())
            assert uploaded.status_code == 201, uploaded.text
            event = _first_event(lines, "clip")
    assert event["clip"]["id"] == uploaded.json()["id"]


def test_a_clip_uploaded_through_one_process_plays_through_another(
    servers: tuple[str, str], tmp_path: Path
) -> None:
    url_a, url_b = servers
    with (
        httpx.Client(base_url=url_a, timeout=30) as on_a,
        httpx.Client(base_url=url_b, timeout=30) as on_b,
    ):
        ada = new_resident(on_a, "ada@example.org")
        on_b.cookies = on_a.cookies
        video = tiny_clip(tmp_path / "clip.mp4", frames=48).read_bytes()
        uploaded = ada.upload(url_a, video, tiny_jpeg(), _meta())
        assert uploaded.status_code == 201, uploaded.text
        clip = uploaded.json()
        (listed,) = on_b.get("/api/v1/clips").json()["clips"]
        whole = on_b.get(clip["video_url"])
        part = on_b.get(clip["video_url"], headers={"range": "bytes=100-199"})
    assert listed["id"] == clip["id"]
    assert whole.content == video
    assert part.status_code == 206
    assert part.content == video[100:200]


def test_live_view_reaches_the_owner_on_another_process(servers: tuple[str, str]) -> None:
    url_a, url_b = servers
    jpeg = tiny_jpeg()
    with (
        httpx.Client(base_url=url_a, timeout=httpx.Timeout(30, read=20)) as on_a,
        httpx.Client(base_url=url_b, timeout=30) as agent,
    ):
        ada = new_resident(on_a, "ada@example.org")
        device = {"authorization": f"Bearer {ada.device_token}"}
        # Before the page opens, the agent (talking to B) is told nobody is watching.
        live = "/api/v1/devices/live-sessions"
        assert agent.get(live, params={"wait": 0}, headers=device).json()["mjpeg"] is False
        with on_a.stream("GET", f"/api/v1/cameras/{ada.camera_id}/live") as stream:
            assert stream.status_code == 200
            # Its long-poll on B hears through the broker that the page opened on A.
            feed = agent.get(live, params={"wait": 10, "mjpeg": False}, headers=device).json()
            assert feed["mjpeg"] is True, "the wish to watch never reached process B"
            sent = agent.post(
                "/api/v1/devices/live",
                headers={**device, "content-type": "image/jpeg"},
                content=jpeg,
            )
            assert sent.status_code == 204, sent.text
            received = b""
            for piece in stream.iter_bytes():
                received += piece
                if jpeg in received:
                    break
                assert len(received) < 10 * len(jpeg) + 4096, "no frame came through"
    assert jpeg in received


def _api_processes(supervisor_pid: int) -> set[int]:
    children = Path(f"/proc/{supervisor_pid}/task/{supervisor_pid}/children").read_text().split()
    found = set()
    for child in children:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        # multiprocessing's own helper (the resource tracker) is not an API process.
        if b"spawn_main" in command:
            found.add(int(child))
    return found


def test_an_api_process_that_dies_is_replaced_and_the_rest_stop_together(
    tmp_path: Path, postgres_schema: str, cluster_folder: Path
) -> None:
    cluster = Cluster(base_env(tmp_path, postgres_schema), cluster_folder)
    port = free_port()
    server = cluster.serve("api", port, workers=2)
    try:
        assert server.popen is not None
        supervisor = server.popen.pid
        wait_for(lambda: len(_api_processes(supervisor)) == 2, "two API processes")
        first = _api_processes(supervisor)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        wait_for(
            lambda: (
                len(_api_processes(supervisor)) == 2 and victim not in _api_processes(supervisor)
            ),
            "a replacement API process",
        )
        # The server answers on; a connection caught while the replacement starts may be reset,
        # but twenty fresh connections in a row must then all be answered.
        answered = 0

        def answering() -> bool:
            nonlocal answered
            try:
                with httpx.Client(timeout=10) as client:
                    ok = client.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
            except httpx.TransportError:
                ok = False
            answered = answered + 1 if ok else 0
            return answered >= 20

        wait_for(answering, "twenty answers in a row", timeout=60)
        survivors = _api_processes(supervisor)
        server.stop()
        assert not any(Path(f"/proc/{pid}").exists() for pid in survivors)
    finally:
        cluster.stop_all()


def test_a_ring_and_its_answer_cross_processes(servers: tuple[str, str]) -> None:
    url_a, url_b = servers
    jpeg = tiny_jpeg()
    live = "/api/v1/devices/live-sessions"
    with (
        httpx.Client(base_url=url_a, timeout=httpx.Timeout(30, read=40)) as on_a,
        httpx.Client(base_url=url_b, timeout=httpx.Timeout(30, read=40)) as agent,
        ThreadPoolExecutor(1) as pool,
    ):
        ada = new_resident(on_a, "ada@example.org")
        device = {"authorization": f"Bearer {ada.device_token}"}
        csrf = {"x-csrf-token": ada.csrf}
        # The owner's page follows events on A; the camera's agent talks to B.
        with on_a.stream("GET", "/api/v1/events") as events:
            lines = (line for line in events.iter_lines() if line)
            assert next(lines) == ": connected"
            assert next(lines) == "retry: 3000"
            pressed = agent.post(
                "/api/v1/devices/ring",
                data={"source": "button"},
                files={"snapshot": ("ring.jpg", jpeg, "image/jpeg")},
                headers=device,
            )
            assert pressed.status_code == 202, pressed.text
            assert next(lines) == "event: ring"
            event = json.loads(next(lines).removeprefix("data: "))
        assert event["ring_id"] == pressed.json()["ring_id"]
        # The snapshot was held on B; A holds its own copy, from the broker.
        wait_for(lambda: on_a.get(event["snapshot"]).status_code == 200, "the snapshot on A")
        assert on_a.get(event["snapshot"]).content == jpeg

        polled = pool.submit(agent.get, live, params={"wait": 30}, headers=device)
        offer = {"offer": {"type": "offer", "sdp": GOOD_OFFER}, "ring_id": event["ring_id"]}
        created = on_a.post(
            f"/api/v1/cameras/{ada.camera_id}/live-sessions", json=offer, headers=csrf
        )
        assert created.status_code == 201, created.text
        session_id = created.json()["id"]
        assert [s["id"] for s in polled.result(timeout=40).json()["sessions"]] == [session_id]

        waiting = pool.submit(on_a.get, f"/api/v1/live-sessions/{session_id}", params={"wait": 30})
        answered = agent.post(
            f"{live}/{session_id}/answer",
            json={"type": "answer", "sdp": GOOD_ANSWER},
            headers=device,
        )
        assert answered.status_code == 204, answered.text
        assert waiting.result(timeout=40).json()["state"] == "answered"
        polled = pool.submit(
            agent.get, live, params={"wait": 30, "active": [session_id]}, headers=device
        )
        assert on_a.delete(f"/api/v1/live-sessions/{session_id}", headers=csrf).status_code == 204
        assert polled.result(timeout=40).json()["ended"] == [session_id]
