"""Faults: the API killed mid-upload, the agent offline for an hour, the database away a while."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from sqlalchemy import select

from doorstep.agent.client import DeviceClient
from doorstep.agent.spool import Spool
from doorstep.agent.uploader import Outcome, Uploader
from doorstep.clips.models import Clip
from doorstep.platform.blobs import LocalBlobStore
from doorstep.platform.db import RETRY_AFTER_S, Database
from tests.samples import tiny_clip, tiny_jpeg
from tests.scaleout.conftest import (
    Cluster,
    Resident,
    TcpProxy,
    base_env,
    free_port,
    new_resident,
    start_server,
    wait_for,
)

pytestmark = pytest.mark.postgres
OFFLINE_CLIPS = 60
KILL_AFTER_BYTES = 256 * 1024


@pytest.fixture
def cluster(tmp_path: Path, cluster_folder: Path, postgres_schema: str) -> Iterator[Cluster]:
    """PostgreSQL and clips in the data folder (where half-written files would show)."""
    cluster = Cluster(base_env(tmp_path, postgres_schema), cluster_folder)
    yield cluster
    cluster.stop_all()


def _spool_clip(spool: Spool, work: Path, video: Path, started: datetime) -> None:
    work.mkdir(parents=True)
    snapshot = work / "snapshot.jpg"
    snapshot.write_bytes(tiny_jpeg())
    meta = {
        "started_at": started.isoformat(),
        "ended_at": (started + timedelta(seconds=2)).isoformat(),
        "peak_motion": 0.3,
        "labels": ["person"],
    }
    spool.add(video, snapshot, meta)


class _KillMidway(httpx.BaseTransport):
    """Sends requests on, calling ``kill`` once a request body is partly sent."""

    def __init__(self, kill: Callable[[], None]) -> None:
        self.inner = httpx.HTTPTransport()
        self.kill = kill

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.stream
        assert isinstance(body, httpx.SyncByteStream)
        request.stream = _Interrupted(body, self.kill)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class _Interrupted(httpx.SyncByteStream):
    def __init__(self, body: httpx.SyncByteStream, kill: Callable[[], None]) -> None:
        self.body = body
        self.kill = kill

    def __iter__(self) -> Iterator[bytes]:
        pieces = iter(self.body)
        sent = 0
        for piece in pieces:
            yield piece
            sent += len(piece)
            if sent >= KILL_AFTER_BYTES:
                break
        self.kill()
        # The rest goes to a dead server: the upload fails as it would on a real crash.
        yield from pieces


def _noise_clip(path: Path, frames: int = 40) -> Path:
    """A few megabytes of H.264: noise does not compress."""
    rng = np.random.default_rng(7)
    with av.open(str(path), mode="w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=Fraction(10))
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for _ in range(frames):
            image = rng.integers(0, 255, size=(240, 320, 3), dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode(None))
    assert path.stat().st_size > 4 * KILL_AFTER_BYTES
    return path


def _clips(database_url: str) -> list[Clip]:
    database = Database(database_url)
    try:
        with database.session() as db:
            return list(db.scalars(select(Clip).order_by(Clip.uploaded_at)))
    finally:
        database.dispose()


def test_the_api_killed_mid_upload_loses_nothing_and_stores_nothing_twice(
    cluster: Cluster, tmp_path: Path
) -> None:
    port = free_port()
    server = cluster.serve("api", port)
    url = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=url, timeout=30) as http:
        ada = new_resident(http, "ada@example.org")
    spool = Spool(tmp_path / "spool")
    video = _noise_clip(tmp_path / "large.mp4")
    size = video.stat().st_size
    _spool_clip(spool, tmp_path / "entry", video, datetime.now(UTC) - timedelta(minutes=1))
    (entry,) = spool.entries()
    with DeviceClient(url, ada.device_token, transport=_KillMidway(server.kill)) as client:
        first = Uploader(spool, client).upload(entry)
    assert first is Outcome.RETRY
    blobs = LocalBlobStore(Path(cluster.env["DOORSTEP_DATA_DIR"]) / "blobs")
    assert _clips(cluster.env["DOORSTEP_DATABASE_URL"]) == []
    assert list(blobs.keys()) == []
    assert [path.name for path in blobs.root.rglob("*") if path.is_file()] == []
    start_server(server, port)
    with DeviceClient(url, ada.device_token) as client:
        again = Uploader(spool, client).upload(entry)
    clips = _clips(cluster.env["DOORSTEP_DATABASE_URL"])
    assert again is Outcome.UPLOADED
    assert spool.entries() == []
    assert [clip.size for clip in clips] == [size]
    assert len(list(blobs.keys())) == 2


def test_an_agent_offline_for_an_hour_replays_every_event_in_order(
    cluster: Cluster, tmp_path: Path
) -> None:
    spool = Spool(tmp_path / "spool")
    hour_ago = datetime.now(UTC) - timedelta(minutes=OFFLINE_CLIPS + 1)
    started = [hour_ago + timedelta(minutes=minute) for minute in range(OFFLINE_CLIPS)]
    port = free_port()
    server = cluster.serve("api", port)
    url = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=url, timeout=30) as http:
        ada = new_resident(http, "ada@example.org")
    server.stop()
    for index, moment in enumerate(started):
        # Each clip different: the server stores identical content once.
        clip = tiny_clip(tmp_path / f"clip-{index}.mp4", frames=12 + index)
        _spool_clip(spool, tmp_path / f"entry-{index}", clip, moment)
    waited: list[float] = []

    def sleep(delay: float) -> None:
        waited.append(delay)
        time.sleep(0.05)

    with DeviceClient(url, ada.device_token, timeout=10) as client:
        uploader = Uploader(spool, client, sleep=sleep)
        uploader.start()
        wait_for(lambda: len(waited) >= 3, "the agent to find the server away")
        start_server(server, port)
        wait_for(lambda: not spool.entries(), "the spool to drain", 120)
        uploader.stop()
    clips = _clips(cluster.env["DOORSTEP_DATABASE_URL"])
    assert uploader.uploaded == OFFLINE_CLIPS
    assert [clip.started_at for clip in clips] == started


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    """A cuttable path to PostgreSQL."""
    proxy = TcpProxy(5432)
    yield proxy
    proxy.close()


def _problem(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_database_away_for_a_while_is_a_503_then_recovery(
    tmp_path: Path, cluster_folder: Path, postgres_schema: str, proxy: TcpProxy
) -> None:
    through_proxy = postgres_schema.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    cluster = Cluster(base_env(tmp_path, through_proxy), cluster_folder)
    port = free_port()
    cluster.serve("api", port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            ada: Resident = new_resident(http, "ada@example.org")
            video = tiny_clip(tmp_path / "before.mp4").read_bytes()
            meta = {
                "started_at": datetime.now(UTC).isoformat(),
                "ended_at": datetime.now(UTC).isoformat(),
                "peak_motion": 0.3,
                "labels": [],
            }
            before = ada.upload(str(http.base_url), video, tiny_jpeg(), meta)
            assert before.status_code == 201, before.text
            proxy.cut()
            timeline = http.get("/api/v1/clips")
            refused = ada.upload(str(http.base_url), video, tiny_jpeg(), meta)
            proxy.restore()
            wait_for(lambda: http.get("/api/v1/clips").status_code == 200, "recovery", 30)
            after = http.get("/api/v1/clips").json()["clips"]
    finally:
        cluster.stop_all()
    assert timeline.status_code == 503
    assert _problem(timeline)["status"] == 503
    assert timeline.headers["retry-after"] == str(RETRY_AFTER_S)
    assert refused.status_code == 503
    assert _problem(refused)["status"] == 503
    assert [clip["id"] for clip in after] == [before.json()["id"]]
