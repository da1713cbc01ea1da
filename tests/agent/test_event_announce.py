"""A real agent announces an event as it starts, before its clips, and cuts it into segments."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs

import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from doorstep.agent.announcer import Announcer, announcement
from doorstep.agent.cli import main_agent
from doorstep.agent.state import AgentState
from doorstep.media.recorder import EventNews
from doorstep.platform.http.state import AppState
from tests.agent.conftest import Owner, Server

Published = list[dict[str, Any]]


@pytest.fixture
def published(live_server: Server, monkeypatch: pytest.MonkeyPatch) -> Published:
    """Every message the server's bus sends to pages, in order."""
    app = cast(FastAPI, live_server.server.config.app)
    state: AppState = app.state.doorstep
    seen: Published = []
    publish = state.bus.publish

    def record(account_id: str, event: dict[str, Any]) -> int:
        seen.append(event)
        return publish(account_id, event)

    monkeypatch.setattr(state.bus, "publish", record)
    return seen


def run_agent(state_dir: Path, footage: Path, *extra: str) -> int:
    return main_agent(
        ["--state-dir", str(state_dir), "--source", str(footage), "--no-realtime", "--once", *extra]
    )


def test_the_start_is_announced_before_any_clip_and_alerts_once(
    paired: AgentState, owner: Owner, state_dir: Path, footage: Path, published: Published
) -> None:
    assert run_agent(state_dir, footage) == 0
    kinds = [(event["type"], event["alert"]) for event in published]
    assert kinds[0] == ("event_started", True)
    assert kinds[-1] == ("clip", False)
    start = published[0]
    assert start["camera_id"] == paired.camera_id
    snapshot = owner.http.get(start["snapshot"])
    assert snapshot.status_code == 200
    assert snapshot.content.startswith(b"\xff\xd8")
    (clip,) = owner.clips()
    assert clip["event_id"] == start["event_id"]


@pytest.mark.usefixtures("paired")
def test_a_long_event_uploads_in_segments_the_timeline_joins(
    owner: Owner, state_dir: Path, footage: Path, published: Published
) -> None:
    assert run_agent(state_dir, footage, "--max-clip-seconds", "2") == 0
    clips = [event for event in published if event["type"] == "clip"]
    assert published[0]["type"] == "event_started"
    assert len(clips) >= 3
    assert {c["clip"]["event_id"] for c in clips} == {published[0]["event_id"]}
    assert [c["clip"]["segment"] for c in clips] == list(range(len(clips)))
    assert not any(c["alert"] for c in clips)
    (entry,) = owner.clips()
    assert [s["segment"] for s in entry["segments"]] == list(range(len(clips)))


def test_a_bad_clip_cap_is_refused(state_dir: Path, footage: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_agent(state_dir, footage, "--max-clip-seconds", "0")
    assert exit_info.value.code == 2


def _news(event_id: str, *, started: bool, labels: tuple[str, ...] = ()) -> EventNews:
    image = np.full((48, 64, 3), 120, dtype=np.uint8)
    return EventNews(event_id, 10, 40, labels, started, image if started else None)


def test_word_goes_in_order_without_a_picture_from_an_e2e_camera() -> None:
    calls: list[tuple[dict[str, Any], bool]] = []

    def server(request: httpx.Request) -> httpx.Response:
        body = request.read()
        if request.headers["content-type"].startswith("multipart/"):
            meta = json.loads(body.split(b'name="meta"\r\n\r\n', 1)[1].split(b"\r\n--", 1)[0])
        else:
            meta = json.loads(parse_qs(body.decode())["meta"][0])
        calls.append((meta, b'name="snapshot"' in body))
        return httpx.Response(202, json={"event_id": meta["event_id"], "sent": "event_started"})

    for e2e in (False, True):
        calls.clear()
        announcer = Announcer(
            "http://doorstep.test",
            "t",
            e2e=(lambda: True) if e2e else (lambda: False),
            transport=httpx.MockTransport(server),
        )
        announcer.start()
        announcer.news(_news("e1", started=True), 10.0)
        announcer.news(_news("e1", started=False, labels=("person",)), 10.0)
        assert announcer.wait_sent("e1")
        announcer.stop()
        assert [(meta["labels"], picture) for meta, picture in calls] == [
            ([], not e2e),
            (["person"], False),
        ]
        assert {meta["event_id"] for meta, _ in calls} == {"e1"}


def test_a_refused_picture_is_sent_again_without_it() -> None:
    pictures: list[bool] = []

    def server(request: httpx.Request) -> httpx.Response:
        picture = b'name="snapshot"' in request.read()
        pictures.append(picture)
        if picture:
            return httpx.Response(422, json={"detail": "this camera is end-to-end encrypted"})
        return httpx.Response(202, json={"event_id": "e2", "sent": "event_started"})

    announcer = Announcer(
        "http://doorstep.test", "t", e2e=lambda: False, transport=httpx.MockTransport(server)
    )
    announcer.start()
    announcer.news(_news("e2", started=True), 10.0)
    assert announcer.wait_sent("e2")
    announcer.stop()
    assert pictures == [True, False]
    assert len(announcer.sent) == 1


def test_an_unreachable_server_never_holds_the_clip_back_for_long() -> None:
    def server(_request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down")

    announcer = Announcer(
        "http://doorstep.test", "t", e2e=lambda: False, transport=httpx.MockTransport(server)
    )
    announcer.start()
    announcer.news(_news("e3", started=True), 10.0)
    # The failed word counts as settled: the clip goes up in its place.
    assert announcer.wait_sent("e3")
    assert announcer.wait_sent(None)
    announcer.stop()
    assert announcer.sent == []


def test_the_start_time_is_counted_back_from_the_frames() -> None:
    now = datetime(2026, 12, 5, 20, 0, 0, tzinfo=UTC)
    item = announcement(_news("e4", started=True), 10.0, now=now, with_picture=True)
    # Frames 10..40 at 10 fps: the event began 3 s before the word went.
    assert item.meta["started_at"] == "2026-12-05T19:59:57+00:00"
    assert item.snapshot is not None
    assert item.snapshot.startswith(b"\xff\xd8")
    later = announcement(_news("e4", started=False), 10.0, now=now, with_picture=True)
    assert later.snapshot is None
