"""The agent's pairing state: stored privately and atomically, clear when missing."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from doorstep.agent.state import AgentState, NotPaired, load_state, save_state


def test_state_round_trips_readable_by_the_owner_only(tmp_path: Path) -> None:
    state = AgentState("http://127.0.0.1:8000", "cam1", "secret-token")
    path = save_state(tmp_path / "agent", state)
    assert load_state(tmp_path / "agent") == state
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [item.name for item in path.parent.iterdir()] == [path.name]


def test_saving_again_replaces_the_state(tmp_path: Path) -> None:
    save_state(tmp_path, AgentState("http://a", "cam1", "old"))
    save_state(tmp_path, AgentState("http://a", "cam1", "new"))
    assert load_state(tmp_path).token == "new"


def test_an_unpaired_agent_is_told_how_to_pair(tmp_path: Path) -> None:
    with pytest.raises(NotPaired, match="doorstep agent pair --server URL --code CODE"):
        load_state(tmp_path)
