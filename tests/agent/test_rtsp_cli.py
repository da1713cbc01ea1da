"""`doorstep agent` with an RTSP camera's password kept off the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from doorstep.agent.cli import PASSWORD_VARIABLE, main_agent, source_with_password
from doorstep.agent.state import AgentState, save_state
from doorstep.media.errors import SourceUnavailable
from doorstep.media.source import open_source
from tests.agent._rtsp import PASSWORD, USER, RtspCamera, rtsp_camera

__all__ = ["rtsp_camera"]


def test_the_password_file_fills_in_the_urls_password(tmp_path: Path) -> None:
    secret = tmp_path / "camera-password"
    secret.write_text("p@ss word/1\n", encoding="utf-8")
    url = source_with_password("rtsp://porch@camera.lan:554/stream1", secret)
    assert url == "rtsp://porch:p%40ss%20word%2F1@camera.lan:554/stream1"


def test_the_environment_gives_the_password_when_no_file_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSWORD_VARIABLE, "from-env")
    assert source_with_password("rtsp://porch@cam/door", None) == "rtsp://porch:from-env@cam/door"
    monkeypatch.delenv(PASSWORD_VARIABLE)
    assert source_with_password("rtsp://porch@cam/door", None) == "rtsp://porch@cam/door"


def test_a_password_without_a_user_in_the_url_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSWORD_VARIABLE, "from-env")
    with pytest.raises(SourceUnavailable, match="needs a URL with a user"):
        source_with_password("rtsp://cam/door", None)


def test_the_right_password_from_a_file_opens_the_locked_camera(
    tmp_path: Path, rtsp_camera: RtspCamera
) -> None:
    secret = tmp_path / "camera-password"
    secret.write_text(PASSWORD, encoding="utf-8")
    url = source_with_password(f"rtsp://{USER}@127.0.0.1:{rtsp_camera.port}/locked", secret)
    assert url == rtsp_camera.url(password=PASSWORD)
    with open_source(url, timeout=(5.0, 2.0)) as source:
        assert next(iter(source.frames())).luma.shape == (240, 320)


def test_a_wrong_password_stops_the_agent_at_start_with_a_clear_line(
    tmp_path: Path, rtsp_camera: RtspCamera, capsys: pytest.CaptureFixture[str]
) -> None:
    state_dir = tmp_path / "agent"
    save_state(state_dir, AgentState("http://127.0.0.1:9", "camera-1", "token-1"))
    secret = tmp_path / "camera-password"
    secret.write_text("Wrong-horse-77", encoding="utf-8")
    source = f"rtsp://{USER}@127.0.0.1:{rtsp_camera.port}/locked"
    status = main_agent(
        ["--state-dir", str(state_dir), "--source", source, "--source-password-file", str(secret)]
    )
    said = capsys.readouterr().err
    assert status == 2
    assert "the camera refused the user name or password (401)" in said
    assert "Wrong-horse-77" not in said


@pytest.mark.parametrize(
    ("source", "warned"),
    [("rtsp://porch:Hidden-pw-42@127.0.0.1:9/door", 1), ("rtsp://porch@127.0.0.1:9/door", 0)],
)
def test_a_password_in_the_source_url_is_warned_about_once_and_never_shown(
    tmp_path: Path,
    source: str,
    warned: int,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    state_dir = tmp_path / "agent"
    save_state(state_dir, AgentState("http://127.0.0.1:9", "camera-1", "token-1"))
    with caplog.at_level("WARNING"):
        status = main_agent(["--state-dir", str(state_dir), "--source", source])
    assert status == 2  # nothing answers on port 9
    warnings = [r.getMessage() for r in caplog.records if "--source-password-file" in r.message]
    assert len(warnings) == warned
    assert all(PASSWORD_VARIABLE in line for line in warnings)
    said = capsys.readouterr()
    assert "Hidden-pw-42" not in caplog.text + said.err + said.out
