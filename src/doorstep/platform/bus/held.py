"""Small files held only in memory for a short while (a doorbell's snapshot), then forgotten.

Never written to disk or the database; in a server of several processes ``mqtt.SharedHeld``
hands each one to every process, so whichever holds a page can answer for it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

#: The longest anything is held.
MAX_SECONDS = 300.0
#: All held files together never take more memory than this; the oldest make room first.
MAX_BYTES = 64 * 1024 * 1024
#: Files whose keys share a group (what comes before the last ``:``, e.g. one camera's event
#: snapshots ``event:<camera>:<event>``) are held at most this many at a time, so one busy or
#: hostile camera pushes out its own older snapshots rather than every other home's.
MAX_PER_GROUP = 8


def group_of(key: str) -> str | None:
    """The group a key belongs to (the part before its last ``:``), or None for a lone key."""
    group, sep, _ = key.rpartition(":")
    return group if sep else None


@dataclass
class HeldFiles:
    """Bytes by key, each until its time is up, within ``max_bytes`` and ``max_per_group``."""

    max_bytes: int = MAX_BYTES
    max_per_group: int = MAX_PER_GROUP
    #: Oldest first: a key held again moves to the end.
    _items: dict[str, tuple[float, bytes]] = field(default_factory=dict)
    _bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hold(self, key: str, data: bytes, seconds: float) -> None:
        """Keep ``data`` under ``key`` for ``seconds`` (at most ``MAX_SECONDS``).

        Whatever is due is forgotten first; then, while the total would pass ``max_bytes`` or the
        key's group would hold more than ``max_per_group`` files, the oldest go. A file larger
        than ``max_bytes`` on its own is not held at all.
        """
        now = time.monotonic()
        with self._lock:
            self._drop(key)
            # Forget what is due on every write: nothing lingers past its time for long.
            for stale in [k for k, (until, _) in self._items.items() if until <= now]:
                self._drop(stale)
            if len(data) > self.max_bytes:
                return
            group = group_of(key)
            if group is not None:
                same = [k for k in self._items if group_of(k) == group]
                for oldest in same[: max(0, len(same) - self.max_per_group + 1)]:
                    self._drop(oldest)
            for oldest in list(self._items):
                if self._bytes + len(data) <= self.max_bytes:
                    break
                self._drop(oldest)
            self._items[key] = (now + min(seconds, MAX_SECONDS), data)
            self._bytes += len(data)

    def _drop(self, key: str) -> None:
        """Forget ``key`` (the lock is held)."""
        item = self._items.pop(key, None)
        if item is not None:
            self._bytes -= len(item[1])

    def get(self, key: str) -> bytes | None:
        """The bytes held under ``key``, or None once their time is up."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] <= time.monotonic():
                self._drop(key)
                return None
            return item[1]

    def size(self) -> int:
        """How many bytes are held right now."""
        with self._lock:
            return self._bytes
