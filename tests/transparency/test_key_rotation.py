"""The checkpoint key rotates only through a log entry its retired key signed; verify follows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from doorstep.cli import main
from doorstep.errors import InvalidInput
from doorstep.settings import Settings
from doorstep.transparency import audit_store as audit
from doorstep.transparency import service as transparency
from doorstep.transparency import service_checkpoints as checkpoints
from doorstep.transparency.note import verifier_for
from doorstep.transparency.rules_witnesses import KEY_ROTATION, follow_rotations, rotation_detail
from tests.agencies.test_api import app_state
from tests.transparency.test_verify_witnessed import witnessed_server

ORIGIN = "doors.test/audit"


@pytest.fixture
def witnessed(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, str, FastAPI]]:
    """A server with a witness that knows only the first key, serving checkpoints uncosigned."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    with witnessed_server(settings, tmp_path, 0) as running:
        yield running


KEY_A, KEY_B, KEY_C, STRANGER = (bytes([n]) * 32 for n in range(1, 5))


def test_a_chain_of_rotations_is_followed_from_the_pinned_key() -> None:
    pinned = verifier_for(ORIGIN, KEY_A)
    chain = [rotation_detail(ORIGIN, KEY_A, KEY_B), rotation_detail(ORIGIN, KEY_B, KEY_C)]
    assert follow_rotations(pinned, chain) == verifier_for(ORIGIN, KEY_C)
    # A rotation of some other key is none of this chain's business.
    unrelated = rotation_detail(ORIGIN, STRANGER, KEY_B)
    assert follow_rotations(pinned, [unrelated]) == pinned


def test_a_rotation_the_retired_key_did_not_sign_is_refused() -> None:
    pinned = verifier_for(ORIGIN, KEY_A)
    forged = rotation_detail(ORIGIN, STRANGER, KEY_B)
    forged["old_key"] = pinned.encode()
    with pytest.raises(InvalidInput, match="not signed by it"):
        follow_rotations(pinned, [forged])


def test_verify_follows_the_rotation_entry_and_refuses_a_forged_one(
    witnessed: tuple[str, str, FastAPI],
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, _, app = witnessed
    state = app_state(app)
    old = checkpoints.log_key(state.settings).encode()
    transparency.publish_heads(state)
    assert main(["audit", "verify", "--server", server, "--log-key", old]) == 0
    new = checkpoints.rotate_key(state.settings, state.db, state.master_key)
    assert new.encode() != old
    assert new.name == "localhost/audit"
    transparency.publish_heads(state)
    capsys.readouterr()
    assert main(["audit", "verify", "--server", server, "--log-key", old]) == 0, (
        capsys.readouterr().out
    )
    # An operator who lost the key cannot announce one of its own: the entry must be signed.
    forged = rotation_detail("localhost/audit", STRANGER, KEY_B)
    forged["old_key"] = new.encode()
    with state.db.session() as db:
        audit.record(db, state.master_key, KEY_ROTATION, actor=None, owner_id=None, detail=forged)
    transparency.publish_heads(state)
    capsys.readouterr()
    assert main(["audit", "verify", "--server", server, "--log-key", old]) == 1
    assert "not signed by it" in capsys.readouterr().out


def test_a_checkpoint_of_another_key_fails_the_pinned_one(
    witnessed: tuple[str, str, FastAPI],
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, _, _ = witnessed
    stranger = verifier_for("localhost/audit", STRANGER).encode()
    assert main(["audit", "verify", "--server", server, "--log-key", stranger]) == 1
    assert "not signed by the log's key" in capsys.readouterr().out
