"""The local spool: clips wait here, complete or not at all, until the server has them."""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from doorstep.errors import DoorstepError

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 2 * 1024**3
VIDEO, SNAPSHOT, META, REASON = "video.mp4", "snapshot.jpg", "meta.json", "reason.json"
_INCOMING, _LEAVING = ".incoming-", ".leaving-"


class SpoolError(DoorstepError):
    """A clip could not be put into the spool."""

    slug = "spool-error"
    title = "The clip could not be spooled"


@dataclass(frozen=True, slots=True)
class SpoolEntry:
    """One spooled clip: a folder holding the video, the snapshot and the event metadata."""

    path: Path

    @property
    def name(self) -> str:
        """The entry's name; names sort oldest first."""
        return self.path.name

    @property
    def video(self) -> Path:
        """The MP4 clip."""
        return self.path / VIDEO

    @property
    def snapshot(self) -> Path:
        """The JPEG snapshot."""
        return self.path / SNAPSHOT

    def meta(self) -> dict[str, Any]:
        """The event metadata sent with the clip."""
        data: dict[str, Any] = json.loads((self.path / META).read_text(encoding="utf-8"))
        return data

    def size(self) -> int:
        """Bytes the entry takes on disk."""
        return sum(item.stat().st_size for item in self.path.iterdir() if item.is_file())


Evicted = Callable[[dict[str, Any], int], None]
"""Told the metadata of each clip evicted to keep the spool bounded, and the total so far."""


class Spool:
    """Clips in ``folder``: added atomically, taken oldest first, bounded to ``max_bytes``.

    Layout: ``ready/<entry>/`` waits for upload, ``rejected/<entry>/`` was refused by the server
    for good (kept with the reason). Entries are built in a hidden folder and renamed into place,
    so a crash leaves either a whole entry or a hidden leftover that the next start removes.
    """

    def __init__(
        self,
        folder: Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        on_evict: Evicted | None = None,
    ) -> None:
        self.folder = folder
        self.ready = folder / "ready"
        self.rejected = folder / "rejected"
        self.max_bytes = max_bytes
        self.on_evict = on_evict
        self.evicted = 0
        self._changed = threading.Condition()
        self._last_stamp = 0
        self._busy: str | None = None
        for place in (self.folder, self.ready, self.rejected):
            place.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._clean_leftovers()
        self._size = sum(entry.size() for entry in self.entries())

    def _clean_leftovers(self) -> None:
        for place in (self.folder, self.ready, self.rejected):
            for item in place.iterdir():
                if item.name.startswith((_INCOMING, _LEAVING)):
                    log.info("removing %s, left over from an interrupted agent", item)
                    shutil.rmtree(item, ignore_errors=True)

    def _new_name(self) -> str:
        # Names sort by creation time; the counter keeps two clips in one tick apart and ordered.
        stamp = max(time.time_ns(), self._last_stamp + 1)
        self._last_stamp = stamp
        return f"{stamp:020d}-{uuid.uuid4().hex[:8]}"

    def add(self, video: Path, snapshot: Path, meta: dict[str, Any]) -> SpoolEntry:
        """Move ``video`` and ``snapshot`` into a new entry with ``meta``; all or nothing."""
        with self._changed:
            name = self._new_name()
        incoming = self.folder / f"{_INCOMING}{name}"
        try:
            incoming.mkdir(mode=0o700)
            shutil.move(video, incoming / VIDEO)
            shutil.move(snapshot, incoming / SNAPSHOT)
            _write_synced(incoming / META, json.dumps(meta, indent=2) + "\n")
            _fsync_dir(incoming)
            entry = SpoolEntry(self.ready / name)
            os.replace(incoming, entry.path)
            _fsync_dir(self.ready)
        except OSError as err:
            shutil.rmtree(incoming, ignore_errors=True)
            raise SpoolError(f"cannot spool the clip {video}: {err}") from err
        with self._changed:
            self._size += entry.size()
            self._evict_over_limit(keep=entry.name)
            self._changed.notify_all()
        return entry

    def _evict_over_limit(self, *, keep: str) -> None:
        for entry in self.entries():
            if self._size <= self.max_bytes:
                return
            if entry.name in (keep, self._busy):
                continue
            size = entry.size()
            try:
                meta = entry.meta()
            except (OSError, ValueError):
                meta = {}
            self._discard(entry)
            self._size -= size
            self.evicted += 1
            log.warning(
                "the spool is over %d bytes: evicted the oldest clip %s (%d evicted so far)",
                self.max_bytes,
                entry.name,
                self.evicted,
            )
            if self.on_evict is not None:
                self.on_evict(meta, self.evicted)

    def entries(self) -> list[SpoolEntry]:
        """Entries waiting for upload, oldest first."""
        names = sorted(item.name for item in self.ready.iterdir() if not item.name.startswith("."))
        return [SpoolEntry(self.ready / name) for name in names]

    def rejected_entries(self) -> list[SpoolEntry]:
        """Entries the server refused for good, oldest first."""
        names = sorted(
            item.name for item in self.rejected.iterdir() if not item.name.startswith(".")
        )
        return [SpoolEntry(self.rejected / name) for name in names]

    def size(self) -> int:
        """Bytes of the entries waiting for upload."""
        with self._changed:
            return self._size

    def backlog(self) -> tuple[int, int]:
        """Clips and bytes waiting for upload (what the heartbeat reports)."""
        return len(self.entries()), self.size()

    def claim_oldest(self, timeout: float | None = None) -> SpoolEntry | None:
        """The oldest waiting entry, safe from eviction until ``release``; waits ``timeout`` s."""
        with self._changed:
            entries = self.entries()
            if not entries and timeout:
                self._changed.wait(timeout)
                entries = self.entries()
            if not entries:
                return None
            self._busy = entries[0].name
            return entries[0]

    def release(self) -> None:
        """Let eviction take the claimed entry again."""
        with self._changed:
            self._busy = None

    def remove(self, entry: SpoolEntry) -> None:
        """Forget an entry the server now holds."""
        with self._changed:
            size = entry.size() if entry.path.exists() else 0
            self._discard(entry)
            self._size -= size
            self._changed.notify_all()

    def reject(self, entry: SpoolEntry, reason: str) -> SpoolEntry:
        """Move an entry the server will never accept to ``rejected/``, with the reason."""
        with self._changed:
            size = entry.size()
            _write_synced(entry.path / REASON, json.dumps({"reason": reason}, indent=2) + "\n")
            target = SpoolEntry(self.rejected / entry.name)
            os.replace(entry.path, target.path)
            self._size -= size
            self._changed.notify_all()
            return target

    def wait_until_empty(self, timeout: float, should_stop: Callable[[], bool]) -> bool:
        """Wait until every entry is uploaded or rejected; return whether the spool is empty."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.entries():
                left = deadline - time.monotonic()
                if left <= 0 or should_stop():
                    return False
                self._changed.wait(min(left, 0.2))
            return True

    def _discard(self, entry: SpoolEntry) -> None:
        # Rename first so a crash mid-delete leaves a hidden leftover, never a half entry.
        leaving = entry.path.parent / f"{_LEAVING}{entry.name}"
        try:
            os.replace(entry.path, leaving)
        except FileNotFoundError:
            return
        shutil.rmtree(leaving, ignore_errors=True)


def _write_synced(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())


def _fsync_dir(path: Path) -> None:
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
