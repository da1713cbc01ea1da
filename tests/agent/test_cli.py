"""`doorstep agent`: pairing, and one clear line for what cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest

from doorstep.agent.cli import main_agent
from doorstep.agent.state import AgentState, load_state, save_state
from tests.agent.conftest import Owner, Server


def test_pair_stores_the_token_and_says_which_camera(
    live_server: Server, owner: Owner, state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = owner.pairing_code()
    status = main_agent(
        ["pair", "--server", live_server.url + "/", "--code", code, "--state-dir", str(state_dir)]
    )
    assert status == 0
    assert "Paired as camera 'Front door'" in capsys.readouterr().out
    state = load_state(state_dir)
    assert state.server == live_server.url
    assert state.camera_id == owner.camera_id


def test_a_used_pairing_code_is_refused(
    live_server: Server,
    owner: Owner,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = owner.pairing_code()
    first = main_agent(
        ["pair", "--server", live_server.url, "--code", code, "--state-dir", str(tmp_path / "a")]
    )
    again = main_agent(
        ["pair", "--server", live_server.url, "--code", code, "--state-dir", str(tmp_path / "b")]
    )
    assert (first, again) == (0, 1)
    assert "pairing code is not valid" in capsys.readouterr().err
    assert not (tmp_path / "b" / "agent.json").exists()


def test_an_unpaired_agent_says_how_to_pair(
    tmp_path: Path, footage: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main_agent(["--state-dir", str(tmp_path), "--source", str(footage)])
    assert status == 1
    err = capsys.readouterr().err
    assert "not paired yet" in err
    assert "doorstep agent pair --server URL --code CODE" in err


@pytest.fixture
def offline_pairing(tmp_path: Path) -> Path:
    """A paired state whose server is not running: bad sources are refused before any network."""
    folder = tmp_path / "agent"
    save_state(folder, AgentState("http://127.0.0.1:9", "cam", "token"))
    return folder


def test_a_missing_file_is_one_clear_line_and_exit_2(
    offline_pairing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.mp4"
    status = main_agent(["--state-dir", str(offline_pairing), "--source", str(missing)])
    assert status == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert str(missing) in err
    assert "no such file" in err


def test_a_file_that_is_not_video_is_one_clear_line_and_exit_2(
    offline_pairing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes.mp4"
    notes.write_text("these are not moving pictures\n" * 50)
    status = main_agent(["--state-dir", str(offline_pairing), "--source", str(notes)])
    assert status == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert str(notes) in err
    assert "not a video" in err
