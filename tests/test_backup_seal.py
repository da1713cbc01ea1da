"""A backup's manifest is sealed with the master key: an edited member is refused, even rehashed."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from doorstep.backup import backup, restore
from doorstep.errors import InvalidInput
from doorstep.master_key import MASTER_KEY_FILE, load_master_key, seal_kept_keys
from doorstep.platform import backup_db
from doorstep.platform.backup import MANIFEST
from doorstep.settings import Settings
from tests.backups import empty_installation


def _tamper(archive: Path, member: str, data: bytes) -> None:
    """Replace ``member`` and rewrite its size and SHA-256 in the manifest, keeping the seal."""
    with tarfile.open(archive) as tar:
        held = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    manifest = json.loads(held[MANIFEST])
    held[member] = data
    manifest["parts"][member] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    held[MANIFEST] = json.dumps(manifest).encode()
    with tarfile.open(archive, mode="w") as tar:
        for name, content in held.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))


@pytest.mark.usefixtures("app")
def test_an_edited_and_rehashed_member_is_refused_and_nothing_is_written(
    settings: Settings, tmp_path: Path
) -> None:
    (settings.data_dir / "derived.keys").write_bytes(seal_kept_keys(load_master_key(settings), {}))
    backup(settings, tmp_path / "backup.tar")
    _tamper(tmp_path / "backup.tar", "files/derived.keys", b'{"planted": true}')
    with empty_installation(settings, tmp_path / "restored") as target:
        with pytest.raises(InvalidInput, match="does not match its seal"):
            restore(
                target, tmp_path / "backup.tar", master_key_file=settings.data_dir / MASTER_KEY_FILE
            )
        assert not target.data_dir.exists()
        assert backup_db.is_empty(target.resolved_database_url)
