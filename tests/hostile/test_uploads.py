"""Hostile uploads: disguised bombs, empty and huge claims, wrong types, traversal names, floods."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.hostile.conftest import World
from tests.samples import tiny_jpeg

PROBLEM = "application/problem+json"


def _gzip_bomb() -> bytes:
    # 50 MB of zeros squeezes to ~50 KB; a server that inflates it would blow past every limit.
    return gzip.compress(bytes(50 * 1024 * 1024), compresslevel=9)


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("clip.mp4", bytes(50 * 1024 * 1024))
    return buffer.getvalue()


def _clip_count(world: World) -> int:
    clips: list[Any] = world.send("owner", "GET", "/api/v1/clips").json()["clips"]
    return len(clips)


def _upload(world: World, name: str, video: bytes, content_type: str) -> Any:
    meta = {"started_at": "2026-01-01T10:00:00+00:00", "ended_at": "2026-01-01T10:00:02+00:00"}
    return world.clients["anonymous"].post(
        "/api/v1/devices/clips",
        headers={"authorization": f"Bearer {world.ids['device_token']}"},
        data={"meta": json.dumps({**meta, "peak_motion": 0.1, "labels": []})},
        files={
            "video": (name, video, content_type),
            "snapshot": ("snap.jpg", tiny_jpeg(), "image/jpeg"),
        },
    )


def _files(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


@pytest.mark.parametrize(
    ("name", "payload", "content_type"),
    [
        ("clip.mp4", _gzip_bomb(), "video/mp4"),
        ("clip.mp4", _zip_bomb(), "video/mp4"),
        ("clip.mp4", b"", "video/mp4"),
        ("clip.mp4", b"#!/bin/sh\necho owned\n", "text/x-shellscript"),
        ("../../etc/passwd", b"root:x:0:0::/root:/bin/sh\n", "video/mp4"),
        ("/etc/passwd", b"root:x:0:0::/root:/bin/sh\n", "video/mp4"),
        ("clip\x00.mp4", b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
    ],
    ids=["gzip-bomb", "zip-bomb", "empty", "shell-script", "traversal", "absolute", "nul"],
)
def test_a_hostile_clip_is_refused_and_nothing_is_stored(
    world: World, data_dir: Path, tmp_path: Path, name: str, payload: bytes, content_type: str
) -> None:
    """Every disguised or broken clip is a 4xx problem; no clip row, no new file anywhere."""
    before_clips = _clip_count(world)
    before_files = _files(tmp_path)
    response = _upload(world, name, payload, content_type)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == PROBLEM
    assert _clip_count(world) == before_clips
    assert _files(tmp_path) == before_files
    assert not list(data_dir.rglob("passwd"))


@pytest.mark.parametrize(
    ("payload", "content_type"),
    [
        (_gzip_bomb(), "image/jpeg"),
        (_zip_bomb(), "image/png"),
        (b"", "image/jpeg"),
        (b"<html><script>alert(1)</script></html>", "image/jpeg"),
    ],
    ids=["gzip-bomb", "zip-bomb", "empty", "html-as-jpeg"],
)
def test_a_hostile_photo_is_refused(world: World, payload: bytes, content_type: str) -> None:
    """A post's photo must be a real image of a declared image type."""
    url = f"/api/v1/posts/{world.ids['post_id']}/photo"
    response = world.send(
        "owner", "PUT", url, content=payload, headers={"content-type": content_type}
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == PROBLEM
    assert world.send("owner", "GET", url).status_code == 404


def test_a_ten_gigabyte_claim_is_refused_before_reading(client: TestClient) -> None:
    """The declared length alone is enough to say 413."""
    response = client.post(
        "/api/v1/accounts",
        content=b"{}",
        headers={"content-length": str(10 * 1024**3), "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


def test_thousands_of_multipart_parts_are_refused(world: World) -> None:
    """A flood of form fields is a 4xx, not a parser stuck on the request."""
    fields = {f"field{index}": "x" for index in range(5000)}
    response = world.clients["anonymous"].post(
        "/api/v1/devices/clips",
        headers={"authorization": f"Bearer {world.ids['device_token']}"},
        data=fields,
        files={"video": ("clip.mp4", b"x", "video/mp4")},
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == PROBLEM


def test_deeply_nested_json_is_a_client_error(world: World) -> None:
    """Nesting that would exhaust a recursive parser is refused with a problem."""
    nested = "[" * 100_000 + "]" * 100_000
    response = world.send(
        "owner", "PATCH", "/api/v1/me", content=nested, headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == PROBLEM


_BOX = [0.1, 0.1, 0.5, 0.5]


@pytest.mark.parametrize(
    "meta",
    [
        "[" * 30_000 + "]" * 30_000,
        json.dumps({"objects": [{"label": "person", "score": 0.9, "box": _BOX}] * 2000}),
        '{"objects": [{"label": "person", "score": 1e999, "box": [0.1, 0.1, 0.5, 0.5]}]}',
        '{"objects": [{"label": "person", "score": NaN, "box": [0.1, 0.1, 0.5, 0.5]}]}',
        json.dumps(
            {"objects": [{"label": "person", "score": 0.5, "box": _BOX, "zones": {"a": {}}}]}
        ),
        json.dumps({"objects": [{"label": "person", "score": 0.5, "box": [[0.1]] * 4}]}),
        json.dumps({"objects": [{"label": {"$ne": 1}, "score": 0.5, "box": _BOX}]}),
    ],
    ids=["nested", "flood", "infinite", "nan", "zone-object", "nested-box", "label-object"],
)
@pytest.mark.parametrize("path", ["/api/v1/devices/clips", "/api/v1/devices/events"])
def test_hostile_object_metadata_is_refused_and_nothing_is_stored(
    world: World, meta: str, path: str
) -> None:
    """What a camera says it saw is checked before anything is kept: a 4xx problem, no clip."""
    before = _clip_count(world)
    if meta.startswith("{"):
        fields = json.loads(meta)
        times: dict[str, Any] = {"started_at": "2026-01-01T10:00:00+00:00"}
        if "events" in path:
            extra: dict[str, Any] = {"event_id": "8c1d1a56-8b51-4b0e-9d0a-4f1c3f1b2a10"}
        else:
            extra = {"ended_at": "2026-01-01T10:00:02+00:00", "peak_motion": 0.1}
        # json.dumps writes an infinity as Infinity; a camera would send 1e999.
        meta = json.dumps({**times, **extra, **fields}).replace("Infinity", "1e999")
    files = {"snapshot": ("snap.jpg", tiny_jpeg(), "image/jpeg")}
    if "clips" in path:
        files["video"] = ("clip.mp4", b"\x00\x00\x00\x18ftypmp42", "video/mp4")
    response = world.clients["anonymous"].post(
        path,
        headers={"authorization": f"Bearer {world.ids['device_token']}"},
        data={"meta": meta},
        files=files,
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == PROBLEM
    assert _clip_count(world) == before
