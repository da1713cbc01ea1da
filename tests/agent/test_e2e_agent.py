"""The agent's end-to-end set-up: the right passphrase is kept 0600, clips go up sealed."""

from __future__ import annotations

import secrets
import stat
from pathlib import Path
from typing import Any, cast

import pytest

from doorstep.agent.cli import main_agent
from doorstep.agent.client import DeviceClient, Uploaded
from doorstep.agent.e2e import KEY_FILE
from doorstep.agent.spool import Spool
from doorstep.agent.state import AgentState
from doorstep.agent.uploader import Outcome, Uploader
from doorstep.platform.crypto import decrypt_all, passphrase_check, passphrase_key
from tests.agent.conftest import Owner
from tests.agent.test_uploader import _spool_clip

PASSPHRASE = "porch light passphrase"


def _turn_on(owner: Owner) -> bytes:
    salt = secrets.token_bytes(16)
    key = passphrase_key(PASSPHRASE, salt)
    response = owner.http.post(
        f"/api/v1/cameras/{owner.camera_id}/e2e",
        json={"salt": salt.hex(), "check": passphrase_check(key)},
        headers={"x-csrf-token": owner.csrf},
    )
    assert response.status_code == 200, response.text
    return key


@pytest.mark.usefixtures("paired")
def test_the_agent_keeps_the_key_and_uploads_sealed_clips(
    owner: Owner, state_dir: Path, footage: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = _turn_on(owner)
    monkeypatch.setenv("DOORSTEP_E2E_PASSPHRASE", "the wrong passphrase")
    assert main_agent(["e2e", "--state-dir", str(state_dir)]) == 1
    assert not (state_dir / "e2e.key").exists()
    monkeypatch.setenv("DOORSTEP_E2E_PASSPHRASE", PASSPHRASE)
    assert main_agent(["e2e", "--state-dir", str(state_dir)]) == 0
    assert stat.S_IMODE((state_dir / "e2e.key").stat().st_mode) == 0o600
    status = main_agent(
        ["--state-dir", str(state_dir), "--source", str(footage), "--no-realtime", "--once"]
    )
    assert status == 0
    clips = owner.clips()
    assert len(clips) == 1
    sealed = owner.http.get(clips[0]["video_url"]).content
    assert sealed.startswith(b"DSCL\x01")
    assert decrypt_all([sealed], key)[4:8] == b"ftyp"


def test_e2e_set_up_needs_e2e_on_in_doorstep(
    paired: AgentState,
    state_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert paired.camera_id
    monkeypatch.setenv("DOORSTEP_E2E_PASSPHRASE", PASSPHRASE)
    assert main_agent(["e2e", "--state-dir", str(state_dir)]) == 1
    assert "turn it on in Doorstep first" in capsys.readouterr().err


class _Recording:
    """A device client that keeps what it was asked to upload."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def upload_clip(self, meta: dict[str, Any], _video: Path, _snapshot: Path) -> Uploaded:
        self.sent.append(meta)
        return Uploaded(clip_id="c1", created=True)


def test_a_sealed_clip_goes_up_with_its_labels_but_not_its_objects(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE).write_text(secrets.token_bytes(32).hex() + "\n")
    spool = Spool(tmp_path / "spool")
    _spool_clip(spool, tmp_path / "work", 12, labels=["person"], objects=[{"label": "person"}])
    client = _Recording()
    uploader = Uploader(spool, cast(DeviceClient, client))
    uploader.e2e_folder = tmp_path
    assert [uploader.upload(entry) for entry in spool.entries()] == [Outcome.UPLOADED]
    (meta,) = client.sent
    assert meta["e2e"] is True
    assert meta["labels"] == ["person"]
    assert "objects" not in meta
