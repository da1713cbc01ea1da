"""Live view: the latest frame of each camera whose owner is watching, held only in memory.

An owner's open live page keeps asking for frames; the camera's agent sees that and sends a
few JPEGs a second; when the page closes the wish lapses within seconds and the agent stops.
Frames are never stored and no route gives them to anyone but the camera's owner (I7).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

#: How long one request for live view keeps the camera sending.
WANT_SECONDS = 5.0


@dataclass
class LiveHub:
    """Who wants which camera live, and each camera's latest frame."""

    _wanted_until: dict[str, float] = field(default_factory=dict)
    _frames: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def want(self, camera_id: str, seconds: float = WANT_SECONDS) -> None:
        """Keep the camera sending for ``seconds`` more."""
        with self._lock:
            self._wanted_until[camera_id] = time.monotonic() + seconds

    def wanted(self, camera_id: str) -> bool:
        """Whether someone is watching the camera right now."""
        with self._lock:
            until = self._wanted_until.get(camera_id, 0.0)
            if until < time.monotonic():
                # Nobody is watching: drop the last frame too, nothing lingers in memory.
                self._wanted_until.pop(camera_id, None)
                self._frames.pop(camera_id, None)
                return False
            return True

    def publish(self, camera_id: str, jpeg: bytes) -> bool:
        """Keep ``jpeg`` as the camera's latest frame if someone is watching."""
        if not self.wanted(camera_id):
            return False
        with self._lock:
            seq = self._frames.get(camera_id, (0, b""))[0] + 1
            self._frames[camera_id] = (seq, jpeg)
        return True

    def latest(self, camera_id: str) -> tuple[int, bytes] | None:
        """The latest frame and its sequence number, if any."""
        with self._lock:
            return self._frames.get(camera_id)
