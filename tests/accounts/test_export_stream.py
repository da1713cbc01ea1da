"""The export streams at the client's pace and holds no database permit while it does."""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.accounts import export
from doorstep.clips.models import Clip
from doorstep.platform.http.state import AppState
from doorstep.settings import Settings
from tests.cameras.test_api_devices import _camera, _pair, _upload
from tests.factories import resident
from tests.samples import tiny_clip

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """One database permit for requests: an export holding it would starve every other one."""
    return settings.model_copy(update={"db_requests": 1})


def _scope(path: str, cookies: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"cookie", cookies.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def _call(app: FastAPI, path: str, cookies: str, send: Send) -> None:
    async def receive() -> MutableMapping[str, Any]:
        await asyncio.sleep(3600)  # the client never hangs up of its own
        return {"type": "http.disconnect"}  # pragma: no cover

    await app(_scope(path, cookies), receive, send)


def _uploaded(client: TestClient, tmp_path: Path, clips: int) -> str:
    csrf = resident(client)
    device = _pair(client, csrf, _camera(client, csrf)["id"])
    for n in range(clips):
        clip = tiny_clip(tmp_path / f"c{n}.mp4", frames=20 + n).read_bytes()
        assert _upload(client, device, clip).status_code == 201
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def test_a_slow_export_leaves_the_only_permit_to_other_requests(
    app: FastAPI, client: TestClient, tmp_path: Path
) -> None:
    state: AppState = app.state.doorstep
    assert state.admission.limit == 1
    cookies = _uploaded(client, tmp_path, clips=2)
    body: list[bytes] = []
    while_streaming: list[tuple[int, int]] = []

    async def main() -> None:
        async def slow_reader(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                assert message["status"] == 200
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if len(body) == 2:
                    # Mid-export, the reader dawdles: another request needs the one permit.
                    while_streaming.append((len(body), await _status(app, "/api/v1/me", cookies)))

        await _call(app, "/api/v1/me/export", cookies, slow_reader)

    asyncio.run(main())
    assert while_streaming == [(2, 200)]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(body)))
    assert archive.testzip() is None
    names = archive.namelist()
    assert sum(name.endswith(".mp4") for name in names) == 2
    assert names[-1] == "audit.json"


async def _status(app: FastAPI, path: str, cookies: str) -> int:
    statuses: list[int] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await asyncio.wait_for(_call(app, path, cookies, send), timeout=30)
    return statuses[0]


def test_a_clip_missing_mid_export_aborts_the_stream(
    app: FastAPI, client: TestClient, tmp_path: Path
) -> None:
    state: AppState = app.state.doorstep
    cookies = _uploaded(client, tmp_path, clips=2)
    with state.db.session() as db:
        second = db.query(Clip).order_by(Clip.started_at).all()[1]
        missing = second.video_key
    state.keys.blobs.delete(missing)
    body: list[bytes] = []

    async def collect(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    with pytest.raises(export.ExportAborted, match="cut short: no (such|blob) clips blob"):
        asyncio.run(_call(app, "/api/v1/me/export", cookies, collect))
    # What was sent is no archive a reader takes for a whole export.
    assert b"".join(body)
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(b"".join(body)))
