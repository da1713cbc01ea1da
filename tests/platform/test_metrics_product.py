"""Product metrics move with the product: a clip stored, an alert, a push, a spool's backlog."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from doorstep.agent.client import DeviceClient
from doorstep.platform.http.metrics import DETECTION_SECONDS, DETECTIONS, PRODUCT
from doorstep.settings import Settings
from tests.cameras.test_api_devices import _camera, _meta, _pair, _upload
from tests.factories import resident
from tests.notify.conftest import push_service  # noqa: F401 - the fixture
from tests.notify.devices import subscribe, with_loopback
from tests.notify.push_service import PushService
from tests.samples import tiny_clip


def value(name: str, **labels: str) -> float:
    """A sample of the product registry, 0 when it has none yet."""
    return PRODUCT.get_sample_value(name, labels) or 0.0


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return with_loopback(settings)


def test_an_alerting_clip_counts_a_clip_an_alert_and_a_push(
    client: TestClient,
    push_service: PushService,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    csrf = resident(client)
    push_service.expected_key = client.get("/api/v1/push/key").json()["public_key"]
    camera = _camera(client, csrf)
    assert subscribe(client, csrf, push_service.subscription(name="phone")).status_code == 201
    token = _pair(client, csrf, camera["id"])
    before: dict[str, Any] = {
        name: value(name)
        for name in (
            "doorstep_clips_stored_total",
            "doorstep_clip_bytes_stored_total",
            "doorstep_alerts_published_total",
            "doorstep_pushes_sent_total",
            "doorstep_push_latency_seconds_count",
        )
    }
    video = tiny_clip(tmp_path / "person.mp4", frames=16).read_bytes()
    stored = _upload(client, token, video, meta=_meta(labels=["person"]))
    assert stored.status_code == 201, stored.text
    push_service.wait_for(1)
    for _ in range(100):
        if value("doorstep_pushes_sent_total") > before["doorstep_pushes_sent_total"]:
            break
        time.sleep(0.05)
    assert value("doorstep_clips_stored_total") == before["doorstep_clips_stored_total"] + 1
    stored_bytes = value("doorstep_clip_bytes_stored_total")
    assert stored_bytes == before["doorstep_clip_bytes_stored_total"] + len(video)
    assert value("doorstep_alerts_published_total") == before["doorstep_alerts_published_total"] + 1
    assert value("doorstep_pushes_sent_total") == before["doorstep_pushes_sent_total"] + 1
    latency = value("doorstep_push_latency_seconds_count")
    assert latency == before["doorstep_push_latency_seconds_count"] + 1
    # Every job the clip started has finished: nothing waits in the server's lanes.
    assert value("doorstep_queue_depth", queue="pushes") == 0


def test_a_repeated_upload_is_not_counted_twice(client: TestClient, tmp_path: Path) -> None:
    csrf = resident(client)
    token = _pair(client, csrf, _camera(client, csrf)["id"])
    video = tiny_clip(tmp_path / "clip.mp4").read_bytes()
    meta = _meta()
    before = value("doorstep_clips_stored_total")
    assert _upload(client, token, video, meta=meta).status_code == 201
    _upload(client, token, video, meta=meta)
    assert value("doorstep_clips_stored_total") == before + 1


def test_agents_spool_backlog_is_summed_and_maxed_without_naming_them(
    client: TestClient,
) -> None:
    csrf = resident(client)
    tokens = [_pair(client, csrf, _camera(client, csrf)["id"]) for _ in range(2)]
    for token, (clips, size) in zip(tokens, [(3, 3000), (1, 500)], strict=True):
        beat = client.post(
            "/api/v1/devices/heartbeat",
            json={"agent_version": "t", "spool_clips": clips, "spool_bytes": size},
            headers={"authorization": f"Bearer {token}"},
        )
        assert beat.status_code == 200, beat.text
    # Others' agents in this test process may count too; these two at least are there.
    assert value("doorstep_agent_spool_clips") >= 4
    assert value("doorstep_agent_spool_clips_max") >= 3
    assert value("doorstep_agent_spool_bytes") >= 3500
    refused = client.post(
        "/api/v1/devices/heartbeat",
        json={"spool_clips": -1, "spool_bytes": 0},
        headers={"authorization": f"Bearer {tokens[0]}"},
    )
    assert refused.status_code == 422


def test_agents_detection_time_reaches_the_server_through_the_heartbeat(
    client: TestClient,
) -> None:
    csrf = resident(client)
    token = _pair(client, csrf, _camera(client, csrf)["id"])
    # The agent's own process: what it detected since its last heartbeat (detections that
    # earlier tests in this process ran are taken first).
    DETECTIONS.take()
    DETECTION_SECONDS.observe(0.25)
    DETECTION_SECONDS.observe(0.5)
    frames, seconds = DETECTIONS.take()
    assert (frames, seconds) == (2, 0.75)
    assert DETECTIONS.take() == (0, 0.0)
    before = value("doorstep_agent_detection_frames_total")
    before_seconds = value("doorstep_agent_detection_seconds_total")
    beat = client.post(
        "/api/v1/devices/heartbeat",
        json={"detect_frames": frames, "detect_seconds": seconds},
        headers={"authorization": f"Bearer {token}"},
    )
    assert beat.status_code == 200, beat.text
    assert value("doorstep_agent_detection_frames_total") == before + 2
    assert value("doorstep_agent_detection_seconds_total") == before_seconds + 0.75


def test_the_agents_heartbeat_carries_its_spool_and_detections() -> None:
    sent: list[dict[str, Any]] = []

    def server(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"config_version": 1, "server_version": "t"})

    DETECTIONS.take()
    DETECTION_SECONDS.observe(0.125)
    with DeviceClient("http://server", "token", transport=httpx.MockTransport(server)) as agent:
        assert agent.heartbeat((5, 9000)) == 1
        agent.heartbeat()
    assert sent[0]["spool_clips"] == 5
    assert sent[0]["spool_bytes"] == 9000
    assert (sent[0]["detect_frames"], sent[0]["detect_seconds"]) == (1, 0.125)
    # Nothing detected since: nothing to report, and no backlog when the caller has none.
    assert set(sent[1]) == {"agent_version"}
