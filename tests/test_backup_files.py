"""Which of the data folder's files a backup holds: its keys and maps, nothing else."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from doorstep import backup as backup_module
from doorstep.backup import backup
from doorstep.master_key import load_master_key, seal_kept_keys
from doorstep.platform.backup import FILES
from doorstep.settings import Settings


def _names(archive: Path) -> set[str]:
    with tarfile.open(archive) as tar:
        return {name.removeprefix(FILES) for name in tar.getnames() if name.startswith(FILES)}


@pytest.mark.usefixtures("app")
def test_raw_uploads_exports_and_symlinks_stay_out_and_key_files_go_in(
    settings: Settings, tmp_path: Path
) -> None:
    data = settings.data_dir
    (data / "uploads").mkdir(exist_ok=True)
    (data / "uploads" / "x.mp4").write_bytes(b"raw footage, faces bare")
    (data / "exports").mkdir(exist_ok=True)
    (data / "exports" / "y.zip").write_bytes(b"an account export")
    (data / "derived.keys").write_bytes(seal_kept_keys(load_master_key(settings), {}))
    secret = tmp_path / "elsewhere.pem"
    secret.write_text("not Doorstep's")
    os.symlink(secret, data / "vapid-private.pem")
    (data / "witness").mkdir(exist_ok=True)
    os.symlink(tmp_path, data / "witness" / "outside")
    (data / "maps").mkdir(exist_ok=True)
    (data / "maps" / "base.pmtiles").write_bytes(b"tiles")

    backup(settings, tmp_path / "backup.tar")

    names = _names(tmp_path / "backup.tar")
    assert not {n for n in names if n.startswith(("uploads/", "exports/"))}
    assert "vapid-private.pem" not in names
    assert not {n for n in names if n.startswith("witness/outside")}
    assert {"derived.keys", "maps/base.pmtiles"} <= names


@pytest.mark.usefixtures("app")
def test_a_key_file_that_vanishes_during_the_backup_is_left_out(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (settings.data_dir / "derived.keys").write_bytes(seal_kept_keys(load_master_key(settings), {}))
    listed = backup_module._data_files

    def listed_then_gone(*args: object, **kwargs: bool) -> list[Path]:
        found = listed(*args, **kwargs)  # type: ignore[arg-type]
        (settings.data_dir / "derived.keys").unlink()
        return found

    monkeypatch.setattr(backup_module, "_data_files", listed_then_gone)
    manifest = backup(settings, tmp_path / "backup.tar")
    assert "derived.keys" not in _names(tmp_path / "backup.tar")
    assert manifest.counts["files"] == len(_names(tmp_path / "backup.tar"))
