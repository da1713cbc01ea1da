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


@dataclass
class HeldFiles:
    """Bytes by key, each until its time is up."""

    _items: dict[str, tuple[float, bytes]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hold(self, key: str, data: bytes, seconds: float) -> None:
        """Keep ``data`` under ``key`` for ``seconds`` (at most ``MAX_SECONDS``)."""
        now = time.monotonic()
        with self._lock:
            # Forget what is due on every write: nothing lingers past its time for long.
            for stale in [k for k, (until, _) in self._items.items() if until <= now]:
                del self._items[stale]
            self._items[key] = (now + min(seconds, MAX_SECONDS), data)

    def get(self, key: str) -> bytes | None:
        """The bytes held under ``key``, or None once their time is up."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] <= time.monotonic():
                del self._items[key]
                return None
            return item[1]
