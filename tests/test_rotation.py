"""Rotating the master key: every data key moves, the old key is refused, the log key stays."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from doorstep import rotation
from doorstep.accounts import service_targets
from doorstep.accounts.models import NoticeTarget, User
from doorstep.app import create_app
from doorstep.clips import service as clips
from doorstep.clips.models import Clip
from doorstep.errors import ConfigurationError
from doorstep.master_key import (
    MASTER_KEY_FILE,
    NEXT_KEY_FILE,
    decode_master_key,
    new_master_key,
)
from doorstep.pets import service as pets
from doorstep.pets.models import PetShare
from doorstep.pets.service_copies import copy_context, prepare_share
from doorstep.platform.crypto import unwrap_key
from doorstep.platform.sealed import TextSeal
from doorstep.settings import Settings
from doorstep.transparency.verify import verify_server
from tests.agencies.test_api import HOME, app_state
from tests.factories import resident
from tests.pets.test_api import FAR, _ok, owner_with_clips, post_notice

TARGET_URL = "json://example.org/hook?secret=s3cret"


@dataclass(frozen=True, slots=True)
class Held:
    """What was made before the rotation, and the log key a verifier pinned."""

    clip_id: str
    share_id: str
    target_id: str
    user_id: str
    log_key: bytes


def _make_everything(app: FastAPI, settings: Settings) -> Held:
    poster = TestClient(app)
    csrf = resident(poster, "pat@example.org", home=FAR)
    _owner_client, _csrf, (clip,) = owner_with_clips(app, "ann@example.org", HOME, [["animal"]])
    notice = _ok(post_notice(poster, csrf), 201)
    state = app_state(app)
    with state.db.session() as db:
        owner = db.scalars(select(User).where(User.email == "ann@example.org")).one()
        share = pets.share_clip(db, state.keys, owner, notice["id"], clip)
        with_targets = settings.model_copy(update={"apprise_targets": True})
        target = service_targets.add_target(db, with_targets, state.master_key, owner, TARGET_URL)
        share_id, target_id, owner_id = share.id, target.id, owner.id
    prepare_share(state.db, state.keys, share_id)
    return Held(clip, share_id, target_id, owner_id, verify_server(poster).public_key)


def _opens_everything(settings: Settings, held: Held) -> None:
    """The clip plays, the pet copy's key and the target's URL open, and the log verifies."""
    app = create_app(settings)
    try:
        state = app.state.doorstep
        with state.db.session() as db:
            clip = db.get(Clip, held.clip_id)
            assert clip is not None
            assert b"".join(clips.read_video(db, state.keys, clip))[4:8] == b"ftyp"
            share = db.get(PetShare, held.share_id)
            assert share is not None
            assert share.wrapped_key is not None
            unwrap_key(state.master_key, share.wrapped_key, context=copy_context(share.id))
            target = db.get(NoticeTarget, held.target_id)
            assert target is not None
            opened = TextSeal(state.master_key, service_targets.SEAL_PURPOSE).open(
                target.sealed_url, bound_to=f"{held.user_id}\x00{held.target_id}"
            )
            assert opened == TARGET_URL
        with TestClient(app) as client:
            report = verify_server(client, key=held.log_key)
            assert report.ok, report.problem
    finally:
        app.state.shutdown()


def test_a_rotation_moves_every_key_and_the_old_key_is_refused(
    app: FastAPI, settings: Settings
) -> None:
    held = _make_everything(app, settings)
    app.state.shutdown()
    old = (settings.data_dir / MASTER_KEY_FILE).read_text()

    done = rotation.rotate_master_key(settings)

    assert done.counts["owner data keys"] == 1
    assert done.counts["pet shares"] == 1
    assert done.counts["notification targets"] == 1
    assert (settings.data_dir / MASTER_KEY_FILE).read_text() != old
    assert not (settings.data_dir / NEXT_KEY_FILE).exists()
    _opens_everything(settings, held)
    with pytest.raises(ConfigurationError, match="not the one this database uses"):
        create_app(settings.model_copy(update={"master_key": SecretStr(old.strip())}))


def test_a_rotation_that_fails_half_way_changes_nothing_and_finishes_when_run_again(
    app: FastAPI, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = _make_everything(app, settings)
    app.state.shutdown()
    old = (settings.data_dir / MASTER_KEY_FILE).read_text()

    def crash(*_args: object) -> dict[str, int]:
        raise RuntimeError("power cut")

    # The owners' keys are re-wrapped, then the process dies before the pet copies' turn.
    monkeypatch.setattr(rotation, "REWRAPS", (*rotation.REWRAPS[:1], crash))
    with pytest.raises(RuntimeError):
        rotation.rotate_master_key(settings)
    assert (settings.data_dir / MASTER_KEY_FILE).read_text() == old
    _opens_everything(settings, held)

    monkeypatch.undo()
    pending = (settings.data_dir / NEXT_KEY_FILE).read_text()
    rotation.rotate_master_key(settings)
    assert (settings.data_dir / MASTER_KEY_FILE).read_text() == pending
    _opens_everything(settings, held)


def test_a_rotation_stopped_after_its_commit_is_named_at_start_and_finished_by_a_rerun(
    app: FastAPI, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = _make_everything(app, settings)
    app.state.shutdown()

    def crash(*_args: object) -> Path:
        raise RuntimeError("power cut")

    monkeypatch.setattr(rotation, "_install", crash)
    with pytest.raises(RuntimeError):
        rotation.rotate_master_key(settings)
    with pytest.raises(ConfigurationError, match="rotation was interrupted"):
        create_app(settings)
    monkeypatch.undo()
    assert rotation.rotate_master_key(settings).finished_earlier_run
    _opens_everything(settings, held)


def test_a_key_given_in_the_environment_is_handed_over_not_written(
    app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    held = _make_everything(app, settings)
    app.state.shutdown()
    old = (settings.data_dir / MASTER_KEY_FILE).read_text().strip()
    (settings.data_dir / MASTER_KEY_FILE).unlink()
    in_env = settings.model_copy(update={"master_key": SecretStr(old)})
    new = new_master_key()

    done = rotation.rotate_master_key(in_env, decode_master_key(new))

    assert done.key_in_environment
    assert done.new_key_at == settings.data_dir / NEXT_KEY_FILE
    assert not (settings.data_dir / MASTER_KEY_FILE).exists()
    with pytest.raises(ConfigurationError):
        create_app(in_env)
    switched = settings.model_copy(update={"master_key": SecretStr(new)})
    _opens_everything(switched, held)
    # Run again once the environment holds the new key: the handover file goes.
    assert rotation.rotate_master_key(switched).finished_earlier_run
    assert not (settings.data_dir / NEXT_KEY_FILE).exists()
    del tmp_path


def test_with_a_task_queue_the_rotation_waits_for_it_to_be_drained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from doorstep.cli import main

    monkeypatch.setenv("DOORSTEP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DOORSTEP_QUEUE_URL", "redis://127.0.0.1:6379/15")
    assert main(["admin", "rotate-master-key"]) == 2
    assert "--queue-drained" in capsys.readouterr().err
    assert not (tmp_path / "data" / NEXT_KEY_FILE).exists()
