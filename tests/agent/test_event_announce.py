"""A real agent announces an event as it starts, before its clips, and cuts it into segments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from doorstep.agent.cli import main_agent
from doorstep.agent.state import AgentState
from doorstep.platform.http.state import AppState
from tests.agent.conftest import Owner, Server

Published = list[dict[str, Any]]


@pytest.fixture
def published(live_server: Server, monkeypatch: pytest.MonkeyPatch) -> Published:
    """Every message the server's bus sends to pages, in order."""
    state: AppState = live_server.server.config.app.state.doorstep
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
