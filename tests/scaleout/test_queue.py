"""The task queue on real Redis: `doorstep worker` redacts shares, even after a worker is killed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from doorstep.app import create_app
from doorstep.platform.http.state import AppState
from doorstep.platform.keys import WORK_FOLDER
from doorstep.platform.promote import work_key
from doorstep.platform.types import utcnow
from doorstep.requests.models import Share
from doorstep.settings import Environment, Settings
from tests.agencies.test_api import owner_with_clip, verified_agency
from tests.requests.test_api import SHARER, post_rfa
from tests.samples import tiny_clip
from tests.scaleout.conftest import Cluster, base_env, wait_for

pytestmark = pytest.mark.postgres


@pytest.fixture
def cluster(
    tmp_path: Path, postgres_schema: str, queue_url: str, cluster_folder: Path
) -> Iterator[Cluster]:
    """The environment shared by the in-test app and the workers: PostgreSQL and the queue."""
    env = base_env(
        tmp_path,
        postgres_schema,
        queue_url=queue_url,
        queue_heartbeat_seconds="2",
        retention_sweep_seconds="1",
    )
    cluster = Cluster(env, cluster_folder)
    yield cluster
    cluster.stop_all()


@pytest.fixture
def app(cluster: Cluster) -> Iterator[FastAPI]:
    """An API app on the cluster's settings; it only sends jobs, the workers run them."""
    env = cluster.env
    settings = Settings(
        env=Environment.TEST,
        data_dir=Path(env["DOORSTEP_DATA_DIR"]),
        database_url=env["DOORSTEP_DATABASE_URL"],
        master_key=SecretStr(env["DOORSTEP_MASTER_KEY"]),
        queue_url=env["DOORSTEP_QUEUE_URL"],
        retention_sweep_seconds=0,
    )
    application = create_app(settings, run_migrations=False)
    # Entered so the lifespan closes the broker connection at the end.
    with TestClient(application):
        yield application


def _share(app: FastAPI, tmp_path: Path, *, frames: int, width: int, height: int) -> str:
    """An owner shares one clip with a request; returns the share's id (still preparing)."""
    video = tiny_clip(tmp_path / "shared.mp4", frames=frames, width=width, height=height)
    owner, csrf, clip_id = owner_with_clip(
        app, "sharer@example.org", position=SHARER, video=video.read_bytes()
    )
    agency, agency_csrf, _agency_id = verified_agency(app)
    rfa = post_rfa(agency, agency_csrf).json()
    answered = owner.post(
        f"/api/v1/inbox/{rfa['id']}/answer",
        json={"decision": "share", "clip_ids": [clip_id]},
        headers={"x-csrf-token": csrf},
    )
    assert answered.status_code == 200, answered.text
    (share,) = answered.json()["shares"]
    assert share["state"] == "preparing"
    assert agency.get("/api/v1/evidence").json() == []
    share_id: str = share["id"]
    return share_id


def _row(app: FastAPI, share_id: str) -> Share:
    state: AppState = app.state.doorstep
    with state.db.session() as db:
        share = db.get(Share, share_id)
        assert share is not None
        return share


def _ready(app: FastAPI, share_id: str) -> bool:
    return _row(app, share_id).wrapped_key is not None


def _delivered(app: FastAPI) -> tuple[dict[str, Any], bytes]:
    agency = TestClient(app)
    login = agency.post(
        "/api/v1/session", json={"email": "chief@ppb.example", "password": "lantern-porch-9"}
    )
    assert login.status_code == 201, login.text
    (item,) = agency.get("/api/v1/evidence").json()
    # Viewed, not downloaded: a downloaded share is the agency's and never expires.
    video = agency.get(item["video_url"])
    assert video.status_code == 200, video.text
    return item, video.content


def test_a_worker_prepares_the_share_and_sweeps_it_at_its_end(
    app: FastAPI, cluster: Cluster, tmp_path: Path
) -> None:
    share_id = _share(app, tmp_path, frames=24, width=160, height=96)
    cluster.worker()
    wait_for(lambda: _ready(app, share_id), "the worker to prepare the share", 120)
    item, video = _delivered(app)
    assert item["id"] == share_id
    assert hashlib.sha256(video).hexdigest() == item["sha256"]
    state: AppState = app.state.doorstep
    with state.db.session() as db:
        row = db.get(Share, share_id)
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
    # Only a worker runs the sweeps once there is a queue; the API app has them off. The
    # agency downloaded the copy above, so the share stays "downloaded" but its key goes.
    wait_for(lambda: _row(app, share_id).wrapped_key is None, "the worker's share sweep", 30)
    assert _row(app, share_id).state == "downloaded"
    assert not state.blobs.exists(_row(app, share_id).blob_key)


def test_a_worker_killed_mid_redaction_leaves_the_job_to_the_next(
    app: FastAPI, cluster: Cluster, tmp_path: Path
) -> None:
    share_id = _share(app, tmp_path, frames=72, width=320, height=240)
    state: AppState = app.state.doorstep
    first = cluster.worker("first-worker")
    # The redaction has started once the footage is in plain, decrypted for the face finder: in
    # the data folder, not in /tmp. (The worker's log no longer names the share it copies.)
    work = Path(cluster.env["DOORSTEP_DATA_DIR"]) / WORK_FOLDER
    wait_for(lambda: list(work.glob("redact-*/original.mp4")), "the plaintext to redact", 180)
    first.kill()
    (left_behind,) = work.iterdir()
    row = _row(app, share_id)
    assert row.wrapped_key is None
    assert not state.blobs.exists(row.blob_key)
    cluster.worker("second-worker")
    wait_for(lambda: _ready(app, share_id), "the next worker to finish the share", 180)
    # The next worker removed what the killed one left in plain (its lock died with it).
    assert not left_behind.exists()
    assert not state.blobs.exists(work_key(row.blob_key))
    item, video = _delivered(app)
    assert hashlib.sha256(video).hexdigest() == item["sha256"] == _row(app, share_id).sha256
