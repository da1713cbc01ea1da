"""The checkpoint key rotates only through a log entry its retired key signed; verify follows."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from doorstep.app import create_app
from doorstep.cli import main
from doorstep.errors import InvalidInput
from doorstep.settings import Settings
from doorstep.transparency import audit_store as audit
from doorstep.transparency import checkpoint_store
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


def _rotations(app: FastAPI) -> list[str]:
    state = app_state(app)
    with state.db.session() as db:
        entries = audit.entries(db, 0, audit.tree_head_size(db))
    return [json.loads(e.body)["detail"]["new_key"] for e in entries if e.action == KEY_ROTATION]


def test_a_rotation_cut_short_is_finished_with_the_key_the_log_names(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = app_state(app)
    old = checkpoints.log_key(state.settings)

    def crash(*_: object) -> None:
        raise OSError("power cut")

    # The entry is committed, then the process dies before the next key takes its place.
    with monkeypatch.context() as patched:
        patched.setattr(checkpoint_store, "switch_key", crash)
        with pytest.raises(OSError, match="power cut"):
            checkpoints.rotate_key(state.settings, state.db, state.master_key)
    named = _rotations(app)
    assert len(named) == 1
    assert checkpoints.log_key(state.settings) == old
    # A second rotate, or a later one, never writes another next key over the one the log names.
    assert checkpoint_store.next_key(state.settings.data_dir) == checkpoint_store.next_key(
        state.settings.data_dir
    )
    # The next start puts it in use, once.
    create_app(state.settings).state.shutdown()
    assert checkpoints.log_key(state.settings).encode() == named[0]
    assert not checkpoints.finish_rotation(state.settings, state.db)


def test_rotating_again_after_a_crash_records_no_second_entry(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = app_state(app)

    def crash(*_: object) -> None:
        raise OSError("power cut")

    # Cut between keeping the retired key and putting the next one in its place.
    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", crash)
        with pytest.raises(OSError, match="power cut"):
            checkpoints.rotate_key(state.settings, state.db, state.master_key)
    new = checkpoints.rotate_key(state.settings, state.db, state.master_key)
    assert _rotations(app) == [new.encode()]


def test_the_key_file_is_never_left_empty(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(_: int) -> bytes:
        raise OSError("power cut")

    with monkeypatch.context() as patched:
        patched.setattr(secrets, "token_bytes", crash)
        with pytest.raises(OSError, match="power cut"):
            checkpoint_store.signing_key(settings.data_dir)
    assert not (settings.data_dir / checkpoint_store.KEY_FILE).exists()
    assert len(checkpoint_store.signing_key(settings.data_dir)) == 32
    assert [p.name for p in settings.data_dir.iterdir()] == [checkpoint_store.KEY_FILE]
