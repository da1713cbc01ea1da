"""The demo's doorbells follow the demo to the address it runs at this time."""

from __future__ import annotations

from pathlib import Path

from doorstep.agent.state import AgentState, load_state, save_state
from doorstep.demo import run as demo


def test_a_doorbell_paired_at_another_port_calls_the_new_one(tmp_path: Path) -> None:
    # The demo was started before with --port 8000, and now runs at 8123 on the same data.
    save_state(tmp_path, AgentState("http://127.0.0.1:8000", "camera-1", "token-1"))
    state = demo.doorbell_state(tmp_path, "http://127.0.0.1:8123")
    assert state == AgentState("http://127.0.0.1:8123", "camera-1", "token-1")
    # Kept for the next start too, and the pairing itself unchanged.
    assert load_state(tmp_path) == state


def test_a_doorbell_at_the_same_address_keeps_its_pairing(tmp_path: Path) -> None:
    saved = AgentState("http://127.0.0.1:8000", "camera-1", "token-1")
    save_state(tmp_path, saved)
    assert demo.doorbell_state(tmp_path, "http://127.0.0.1:8000") == saved
