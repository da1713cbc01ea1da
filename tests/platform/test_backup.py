"""The backup file's format: nothing is trusted before every member matches the manifest."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from doorstep.errors import InvalidInput
from doorstep.platform.backup import MANIFEST, ArchiveWriter, Manifest, Part, members, verify
from doorstep.platform.sealed import MasterKey, derive


def _manifest() -> Manifest:
    return Manifest(
        created="2026-12-06T00:00:00+00:00",
        schema_revision="0027",
        database="sqlite",
        key_check=None,
        includes_master_key=False,
    )


def _write(path: Path, files: dict[str, bytes]) -> Path:
    writer = ArchiveWriter(path)
    for name, data in files.items():
        writer.add(name, io.BytesIO(data), len(data))
    return writer.finish(_manifest(), bytes(32))


def _append(path: Path, name: str, data: bytes) -> None:
    with tarfile.open(path, mode="a") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def test_a_whole_backup_verifies_and_its_members_read_back(tmp_path: Path) -> None:
    path = _write(tmp_path / "b.tar", {"files/a.key": b"alpha", "blobs/clips/x": b"beta"})
    manifest = verify(path)
    assert set(manifest.parts) == {"files/a.key", "blobs/clips/x"}
    assert [(name, src.read()) for name, src, _ in members(path, "blobs/")] == [
        ("clips/x", b"beta")
    ]
    assert not (tmp_path / "b.tar.part").exists()


def test_a_member_the_manifest_does_not_name_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "b.tar", {"files/a.key": b"alpha"})
    _append(path, "files/planted", b"x")
    with pytest.raises(InvalidInput, match="do not match its manifest"):
        verify(path)


def test_a_member_that_climbs_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "b.tar"
    manifest = _manifest()
    manifest.parts = {}
    with tarfile.open(path, mode="w") as tar:
        body = json.loads(manifest.encode())
        body["parts"] = {"files/../../etc/x": {"size": 1, "sha256": "0" * 64}}
        data = json.dumps(body).encode()
        for name, content in (("files/../../etc/x", b"x"), (MANIFEST, data)):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    with pytest.raises(InvalidInput, match="unexpected member"):
        verify(path)


def test_a_backup_of_a_later_format_or_no_backup_at_all_is_refused(tmp_path: Path) -> None:
    later = _manifest()
    later.version = 99
    with pytest.raises(InvalidInput, match="format version 99"):
        Manifest.decode(later.encode())
    (tmp_path / "not.tar").write_bytes(b"hello")
    with pytest.raises(InvalidInput, match="cannot be read"):
        verify(tmp_path / "not.tar")


def test_an_aborted_backup_leaves_no_file(tmp_path: Path) -> None:
    writer = ArchiveWriter(tmp_path / "b.tar")
    writer.add("files/a", io.BytesIO(b"abc"), 3)
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_a_kept_derived_key_outlives_the_master_key_it_came_from() -> None:
    old, new = bytes(32), bytes([1]) * 32
    info = b"doorstep audit tree-head signing"
    kept = MasterKey(new, {info: derive(old, info)})
    assert derive(kept, info) == derive(old, info)
    assert derive(kept, b"anything else") == derive(new, b"anything else")


def test_a_manifest_is_authentic_only_unchanged_and_under_its_master_key(tmp_path: Path) -> None:
    manifest = verify(_write(tmp_path / "b.tar", {"files/a.key": b"alpha"}))
    assert manifest.authentic(bytes(32))
    assert not manifest.authentic(bytes([1]) * 32)
    manifest.parts["files/a.key"] = Part(size=5, sha256="0" * 64)
    assert not manifest.authentic(bytes(32))
