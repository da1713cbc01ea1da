"""The uploader against a real server: exactly once, store-and-forward, rejects kept, 401 stops."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from doorstep.agent.client import DeviceClient
from doorstep.agent.spool import Spool
from doorstep.agent.state import AgentState
from doorstep.agent.uploader import Outcome, Uploader
from tests.agent.conftest import Owner, Server, start_server, wait_for
from tests.samples import tiny_clip, tiny_jpeg


def _meta(**overrides: Any) -> dict[str, Any]:
    ended = datetime.now(UTC)
    meta: dict[str, Any] = {
        "started_at": (ended - timedelta(seconds=2)).isoformat(),
        "ended_at": ended.isoformat(),
        "peak_motion": 0.3,
        "labels": [],
    }
    meta.update(overrides)
    return meta


def _spool_clip(spool: Spool, work: Path, frames: int, **meta: Any) -> None:
    work.mkdir(parents=True, exist_ok=True)
    _spool_copy(spool, tiny_clip(work / f"{frames}.mp4", frames=frames), **meta)


def _spool_copy(spool: Spool, clip: Path, **meta: Any) -> None:
    work = clip.parent / f"copy-{len(list(clip.parent.iterdir()))}"
    work.mkdir()
    video = work / "clip.mp4"
    video.write_bytes(clip.read_bytes())
    snapshot = work / "snapshot.jpg"
    snapshot.write_bytes(tiny_jpeg())
    spool.add(video, snapshot, _meta(**meta))


def test_a_clip_sent_twice_is_stored_once(paired: AgentState, owner: Owner, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    # The same clip twice, as after a crash between the upload and removing it from the spool.
    clip = tiny_clip(tmp_path / "clip.mp4")
    _spool_copy(spool, clip)
    _spool_copy(spool, clip)
    with DeviceClient(paired.server, paired.token) as client:
        uploader = Uploader(spool, client)
        outcomes = [uploader.upload(entry) for entry in spool.entries()]
    assert outcomes == [Outcome.UPLOADED, Outcome.UPLOADED]
    assert spool.entries() == []
    clips = owner.clips()
    assert len(clips) == 1
    assert clips[0]["camera_id"] == paired.camera_id


def test_clips_spooled_while_the_server_is_down_arrive_once_it_is_back(
    live_server: Server,
    paired: AgentState,
    owner: Owner,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    live_server.stop()
    spool = Spool(tmp_path / "spool")
    for frames in (12, 16, 20):
        _spool_clip(spool, tmp_path / "work", frames)
    sizes = sorted(entry.video.stat().st_size for entry in spool.entries())
    waited: list[float] = []

    def sleep(delay: float) -> None:
        waited.append(delay)
        time.sleep(0.02)

    with DeviceClient(paired.server, paired.token, timeout=5) as client:
        uploader = Uploader(spool, client, sleep=sleep)
        uploader.start()
        wait_for(lambda: len(waited) >= 7, "the uploader to keep retrying")
        uploader.stop()
    assert waited[:7] == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0]
    assert len(spool.entries()) == 3

    # The agent restarts too: a new spool object on the same folder, a new uploader.
    restarted = start_server(live_server.settings.data_dir, live_server.settings.port)
    request.addfinalizer(restarted.stop)
    spool_again = Spool(tmp_path / "spool")
    with DeviceClient(paired.server, paired.token) as client:
        uploader = Uploader(spool_again, client, sleep=sleep)
        uploader.start()
        wait_for(lambda: not spool_again.entries(), "the spool to drain")
        uploader.stop()
    assert uploader.uploaded == 3
    assert sorted(clip["size"] for clip in owner.clips()) == sizes


def test_a_clip_the_server_will_never_take_is_kept_aside(
    paired: AgentState, owner: Owner, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(tmp_path / "spool")
    _spool_clip(spool, tmp_path / "work", 20, ended_at="2001-01-01T00:00:00+00:00")
    with DeviceClient(paired.server, paired.token) as client:
        outcome = Uploader(spool, client).upload(spool.entries()[0])
    assert outcome is Outcome.REJECTED
    assert spool.entries() == []
    assert len(spool.rejected_entries()) == 1
    assert "an event cannot end before it starts" in caplog.text
    assert owner.clips() == []


def test_a_revoked_token_stops_the_uploader_and_keeps_the_clips(
    live_server: Server, paired: AgentState, owner: Owner, tmp_path: Path
) -> None:
    with DeviceClient(live_server.url) as other:
        other.pair(owner.pairing_code())
    spool = Spool(tmp_path / "spool")
    _spool_clip(spool, tmp_path / "work", 20)
    told: list[str] = []
    with DeviceClient(paired.server, paired.token) as client:
        uploader = Uploader(spool, client, on_unauthorised=lambda err: told.append(err.detail))
        uploader.run()
    assert uploader.unauthorised is not None
    assert len(told) == 1
    assert len(spool.entries()) == 1
