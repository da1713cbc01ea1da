"""Smaller leaks that must not come back: logs, /metrics, tokens after a password change, files.

Each test looks where an operator, a co-tenant of the machine or a thief of the old password
would look: the server's logs as the running server writes them, /metrics through a proxy on
the same host, an API token minted before the password changed, the data folder's modes.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from doorstep.agent.options import AgentOptions
from doorstep.agent.runner import CameraAgent
from doorstep.agent.state import AgentState
from doorstep.app import create_app
from doorstep.errors import NotFound
from doorstep.platform.blobs import LocalBlobStore
from doorstep.settings import Environment, Settings
from tests.cameras.test_api_devices import _camera, _pair, _upload
from tests.factories import PASSWORD, bearer, resident
from tests.hostile.conftest import World
from tests.hostile.served import logging_restored, served

REQUEST_ID = "5f1b2c3d4e5f60718293a4b5c6d7e8f9"
FORGED_CLIENT = "203.0.113.77"
METRICS_TOKEN = "metrics-3k2j4h5g6f7d8s9a"


class _Kept(logging.Handler):
    """Every record's message, with its logger's name."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name}: {record.getMessage()}")


def test_the_access_log_names_no_client_no_query_and_no_id(
    app: FastAPI, settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    kept = _Kept()
    with logging_restored(), served(app, settings) as url:
        # Whatever uvicorn and the app log reaches the process's output or the root logger.
        logging.getLogger().addHandler(kept)
        logging.getLogger().setLevel(logging.INFO)
        # This test's own client logs its requests too; that is not the server's log.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        try:
            with httpx.Client(base_url=url) as http:
                answer = http.get(
                    f"/api/v1/requests/{REQUEST_ID}?download=true&note=hush-hush",
                    headers={"x-forwarded-for": FORGED_CLIENT},
                )
                assert answer.status_code == 404
                http.get("/no/such/page/" + REQUEST_ID)
        finally:
            logging.getLogger().removeHandler(kept)
    printed = capfd.readouterr()
    text = "\n".join([*kept.lines, printed.out, printed.err])
    assert '"method": "GET", "route": "/api/v1/requests/{rfa_id}", "status": 404' in text
    for secret in (REQUEST_ID, "hush-hush", "download=true", "127.0.0.1", FORGED_CLIENT):
        assert secret not in text


def test_background_jobs_log_no_share_beside_its_clip(
    info_logs: pytest.LogCaptureFixture, world: World
) -> None:
    ids = world.ids
    lines = [r.getMessage() for r in info_logs.get_records("setup") + info_logs.records]
    assert lines, "nothing was captured"
    # A share's copy is logged at DEBUG without its id: an INFO line per share would tell a
    # share from a decline.
    assert not any(ids["share_id"] in line for line in lines)
    linked = (ids["clip_id"], ids["camera_id"], ids["owner_id"], ids["device_token"])
    for line in lines:
        if ids["share_id"] in line or ids["disclosure_id"] in line:
            assert not any(other in line for other in linked), line
        # Nor do requests leave ids or who sent them in the logs.
        assert "testclient" not in line
        assert ids["rfa_id"] not in line or "share" not in line


@pytest.fixture
def info_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every INFO record, from before the world is built (ask for it before ``world``)."""
    caplog.set_level(logging.INFO)
    return caplog


def test_the_public_port_never_answers_metrics(settings: Settings) -> None:
    # Metrics live on their own bind (metrics_server.py); not even the token opens them here.
    scraped = create_app(settings.model_copy(update={"metrics_token": SecretStr(METRICS_TOKEN)}))
    local = TestClient(scraped, client=("127.0.0.1", 40000))
    try:
        local.get("/healthz")
        right = local.get("/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
        assert right.status_code == 404
        assert "doorstep_http_requests" not in right.text
    finally:
        scraped.state.shutdown()


def test_a_password_change_cuts_off_every_api_token_and_pairing_code(client: TestClient) -> None:
    csrf = resident(client)
    script = bearer(client, csrf, {"account:read"})
    assert client.get("/api/v1/me", headers=script).status_code == 200
    camera = _camera(client, csrf)
    code = client.post(
        f"/api/v1/cameras/{camera['id']}/pairing-code", headers={"x-csrf-token": csrf}
    ).json()["code"]
    changed = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "brand-new-lantern-42"},
        headers={"x-csrf-token": csrf},
    )
    assert changed.status_code == 200
    stranger = TestClient(client.app)
    assert stranger.get("/api/v1/me", headers=script).status_code == 401
    pair = stranger.post("/api/v1/devices/pair", json={"code": code, "agent_version": "x"})
    assert pair.status_code == 401
    listed = client.get("/api/v1/me/tokens", headers={"x-csrf-token": changed.json()["csrf_token"]})
    assert all(token["revoked_at"] for token in listed.json())


def _loose(path: Path) -> bool:
    return bool(stat.S_IMODE(path.stat().st_mode) & 0o077)


def test_every_file_doorstep_writes_in_the_data_folder_is_private(
    tmp_path: Path, clip_bytes: bytes
) -> None:
    old_umask = os.umask(0o022)
    try:
        settings = Settings(env=Environment.TEST, data_dir=tmp_path / "data")
        app = create_app(settings)
        try:
            with TestClient(app) as owner:
                csrf = resident(owner)
                camera = _camera(owner, csrf)
                token = _pair(owner, csrf, camera["id"])
                assert _upload(owner, token, clip_bytes).status_code == 201
                assert owner.get("/api/v1/me/export").status_code == 200
        finally:
            app.state.shutdown()
        folder = settings.data_dir
        written: dict[Path, Any] = {folder: None}
        written.update(dict.fromkeys(folder.rglob("*")))
        names = {path.name for path in written}
        assert {"doorstep.db", "master.key", "blobs"} <= names
        assert any(name.endswith(".sealed") for name in names)
        loose = [str(path.relative_to(tmp_path)) for path in written if _loose(path)]
        assert loose == []
    finally:
        os.umask(old_umask)


def test_the_sqlite_journals_are_private_while_the_server_runs(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        settings = Settings(env=Environment.TEST, data_dir=tmp_path / "data")
        app = create_app(settings)
        try:
            with TestClient(app) as owner:
                resident(owner)
                journals = [
                    settings.data_dir / ("doorstep.db" + suffix) for suffix in ("-wal", "-shm")
                ]
                assert all(path.exists() for path in journals)
                assert [path.name for path in journals if _loose(path)] == []
        finally:
            app.state.shutdown()
    finally:
        os.umask(old_umask)


def test_a_missing_blob_is_named_by_its_kind_not_its_ids(tmp_path: Path) -> None:
    # The message reaches logs that outlive the blob, and responses: never the ids in its key.
    store = LocalBlobStore(tmp_path / "blobs")
    key = "clips/0wner0000000000000000000000001/c1ip0000000000000000000000000002.mp4.sealed"
    with pytest.raises(NotFound) as missing:
        store.read_at(key, 0, 10)
    assert "0wner" not in missing.value.detail
    assert "c1ip" not in missing.value.detail
    assert "clips blob" in missing.value.detail


def test_the_camera_agents_folder_is_private(tmp_path: Path) -> None:
    # Its spool holds footage in the clear and its state the device token.
    folder = tmp_path / "doorstep-agent"
    folder.mkdir()
    folder.chmod(0o755)
    agent = CameraAgent(
        folder, AgentState("http://127.0.0.1:9", "camera", "token"), AgentOptions("x")
    )
    agent.client.close()
    assert not _loose(folder)
    assert not _loose(folder / "spool")
