"""The spool: whole entries or none, oldest first, leftovers cleaned, bounded, rejects kept."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from doorstep.agent.spool import Spool, SpoolEntry, SpoolError


def _clip(folder: Path, name: str, size: int = 1000) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    video = folder / f"{name}.mp4"
    video.write_bytes(name.encode() * (size // len(name)))
    snapshot = folder / f"{name}.jpg"
    snapshot.write_bytes(b"\xff\xd8" + name.encode())
    return video, snapshot


def _add(spool: Spool, work: Path, name: str, size: int = 1000) -> SpoolEntry:
    video, snapshot = _clip(work, name, size)
    return spool.add(video, snapshot, {"name": name})


def test_add_moves_the_clip_into_a_complete_entry(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    video, snapshot = _clip(tmp_path / "work", "one")
    entry = spool.add(video, snapshot, {"labels": ["person"]})
    assert entry.meta() == {"labels": ["person"]}
    assert entry.video.read_bytes().startswith(b"one")
    assert entry.snapshot.read_bytes() == b"\xff\xd8one"
    assert not video.exists()
    assert spool.entries() == [entry]
    assert spool.size() == entry.size()


def test_a_failed_add_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = Spool(tmp_path / "spool")
    video, snapshot = _clip(tmp_path / "work", "one")

    def disk_full(*_args: Any, **_kwargs: Any) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(json, "dumps", disk_full)
    with pytest.raises(SpoolError, match="No space left"):
        spool.add(video, snapshot, {"labels": []})
    assert spool.entries() == []
    assert sorted(item.name for item in spool.folder.iterdir()) == ["ready", "rejected"]


def test_entries_come_oldest_first(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    names = [_add(spool, tmp_path / "work", f"clip{n}").meta()["name"] for n in range(5)]
    assert [entry.meta()["name"] for entry in spool.entries()] == names
    claimed = spool.claim_oldest()
    assert claimed is not None
    assert claimed.meta()["name"] == "clip0"


def test_leftovers_of_a_crash_are_cleaned_and_whole_entries_kept(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    kept = _add(spool, tmp_path / "work", "kept")
    # What a crash mid-add and mid-delete leave: hidden folders that never became entries.
    half = spool.folder / ".incoming-00000000000000000001-deadbeef"
    half.mkdir()
    (half / "video.mp4").write_bytes(b"half a clip")
    shutil.copytree(kept.path, spool.ready / ".leaving-00000000000000000002-cafe")
    reopened = Spool(tmp_path / "spool")
    assert reopened.entries() == [kept]
    assert not half.exists()
    assert sorted(item.name for item in reopened.ready.iterdir()) == [kept.name]
    assert reopened.size() == kept.size()


def test_over_the_bound_the_oldest_go_first_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    told: list[tuple[str, int]] = []
    spool = Spool(
        tmp_path / "spool",
        max_bytes=3500,
        on_evict=lambda meta, total: told.append((meta["name"], total)),
    )
    for n in range(5):
        _add(spool, tmp_path / "work", f"clip{n}")
    assert [entry.meta()["name"] for entry in spool.entries()] == ["clip2", "clip3", "clip4"]
    assert told == [("clip0", 1), ("clip1", 2)]
    assert spool.evicted == 2
    assert spool.size() <= 3500
    assert "evicted the oldest clip" in caplog.text


def test_an_entry_being_uploaded_is_not_evicted(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", max_bytes=2500)
    first = _add(spool, tmp_path / "work", "clip0")
    assert spool.claim_oldest() == first
    _add(spool, tmp_path / "work", "clip1")
    _add(spool, tmp_path / "work", "clip2")
    assert [entry.meta()["name"] for entry in spool.entries()] == ["clip0", "clip2"]


def test_rejected_entries_are_kept_with_the_reason(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    entry = _add(spool, tmp_path / "work", "bad")
    kept = spool.reject(entry, "the server answered 422: the event starts in the future")
    assert spool.entries() == []
    assert spool.size() == 0
    assert spool.rejected_entries() == [kept]
    assert kept.meta() == {"name": "bad"}
    reason = json.loads((kept.path / "reason.json").read_text())
    assert reason == {"reason": "the server answered 422: the event starts in the future"}
    assert Spool(tmp_path / "spool").rejected_entries() == [kept]


def test_removed_entries_are_gone(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    entry = _add(spool, tmp_path / "work", "sent")
    spool.remove(entry)
    assert spool.entries() == []
    assert list(spool.ready.iterdir()) == []
    assert spool.size() == 0
