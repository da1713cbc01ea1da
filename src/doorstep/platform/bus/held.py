"""Pictures held only in memory for a short while: a doorbell's ring or an event's first snapshot.

An alert that reaches a page at once needs its picture at once, before any clip is uploaded;
such a picture is never written to disk or the database and lapses after ``HOLD_SECONDS``. Keys
are opaque strings the caller makes (``"event:<camera>:<event>"`` e.g.); whoever serves a held
picture checks who may see it first.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

#: How long a held picture can be fetched.
HOLD_SECONDS = 120.0
#: The most pictures held at once (a few hundred kilobytes each); the oldest go first.
MAX_HELD = 2000


@dataclass
class HeldBlobs:
    """Bytes by key, each until its time runs out; thread-safe, bounded."""

    _items: dict[str, tuple[float, bytes]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, key: str, data: bytes, seconds: float = HOLD_SECONDS) -> None:
        """Hold ``data`` under ``key`` for ``seconds`` (at most ``HOLD_SECONDS``)."""
        now = time.monotonic()
        with self._lock:
            self._drop_expired(now)
            self._items.pop(key, None)
            while len(self._items) >= MAX_HELD:
                del self._items[next(iter(self._items))]
            self._items[key] = (now + min(seconds, HOLD_SECONDS), data)

    def get(self, key: str) -> bytes | None:
        """The bytes held under ``key``, or None once they lapsed (or never were)."""
        now = time.monotonic()
        with self._lock:
            held = self._items.get(key)
            if held is None:
                return None
            if held[0] <= now:
                del self._items[key]
                return None
            return held[1]

    def drop(self, key: str) -> None:
        """Forget ``key`` now."""
        with self._lock:
            self._items.pop(key, None)

    def _drop_expired(self, now: float) -> None:
        for key in [k for k, (until, _) in self._items.items() if until <= now]:
            del self._items[key]
