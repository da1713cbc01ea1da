"""The operator's commands on the demo's data: back up, restore, rotate, and every key opens."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from doorstep.accounts.models import OwnerKey
from doorstep.cli import main
from doorstep.legal.models import Disclosure
from doorstep.legal.service_disclose import disclosure_key_context
from doorstep.platform.crypto import owner_key_context, unwrap_key
from doorstep.platform.db import Database
from doorstep.requests.models import ClipPreview, Share
from doorstep.requests.service_copies import preview_key_context, share_key_context

#: Every table holding keys wrapped by the master key, and the context each is bound to.
WRAPPED: tuple[tuple[type[Any], Callable[[Any], bytes]], ...] = (
    (OwnerKey, lambda row: owner_key_context(row.user_id)),
    (Disclosure, lambda row: disclosure_key_context(row.id)),
    (ClipPreview, lambda row: preview_key_context(row.clip_id)),
    (Share, lambda row: share_key_context(row.id)),
)


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "doorstep-demo"
    with pytest.MonkeyPatch.context() as patch:
        for name in [key for key in os.environ if key.startswith("DOORSTEP_")]:
            patch.delenv(name)
        assert main(["demo", "--seed-only", "--data-dir", str(folder)]) == 0
    return folder


def _run(folder: Path, *argv: str) -> int:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DOORSTEP_DATA_DIR", str(folder))
        return main(list(argv))


def _opened_with(folder: Path, key: bytes) -> dict[str, int]:
    database = Database(f"sqlite:///{folder / 'doorstep.db'}")
    opened: dict[str, int] = {}
    try:
        with database.session() as db:
            for model, context in WRAPPED:
                rows = db.scalars(select(model).where(model.wrapped_key.is_not(None))).all()
                for row in rows:
                    unwrap_key(key, row.wrapped_key, context=context(row))
                opened[model.__tablename__] = len(rows)
    finally:
        database.dispose()
    return opened


def test_the_demo_backs_up_restores_and_rotates_with_every_key_opening(
    demo_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from doorstep.master_key import decode_master_key

    backup = tmp_path / "demo.tar"
    assert _run(demo_folder, "admin", "backup", str(backup)) == 0
    assert "the master key is not in it" in capsys.readouterr().out
    key_file = tmp_path / "demo.key"
    shutil.copyfile(demo_folder / "master.key", key_file)
    old = decode_master_key(key_file.read_text())

    restored = tmp_path / "restored"
    assert _run(restored, "admin", "restore", str(backup)) == 2
    assert "does not hold the master key" in capsys.readouterr().err
    assert not restored.exists()
    assert _run(restored, "admin", "restore", str(backup), "--master-key-file", str(key_file)) == 0
    before = _opened_with(restored, old)
    assert all(before.values()), before  # the demo has rows of every kind

    assert _run(restored, "admin", "rotate-master-key") == 0
    said = capsys.readouterr().out
    assert "Email links" in said
    new = decode_master_key((restored / "master.key").read_text())
    assert new != old
    assert _opened_with(restored, new) == before
    with pytest.raises(Exception, match="InvalidTag|did not open|not open"):
        _opened_with(restored, old)
    # A start with the old key is refused in one line, before anything is served.
    (restored / "master.key").write_bytes(key_file.read_bytes())
    assert _run(restored, "serve", "--host", "127.0.0.1", "--port", "9") == 2
    assert "not the one this database uses" in capsys.readouterr().err
