"""The MJPEG live page's frames: a few JPEGs a second, sent only while the page is open."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable

from doorstep.agent.client import DeviceClient
from doorstep.errors import DoorstepError, NotAuthenticated
from doorstep.media.probe import encode_preview
from doorstep.media.source import Frame

log = logging.getLogger(__name__)


class MjpegLive:
    """Sends JPEG frames to the server's MJPEG live page while ``wanted`` is set."""

    def __init__(
        self,
        client: DeviceClient,
        stop_event: threading.Event,
        *,
        frames_per_second: float,
        poll_seconds: float,
        on_unauthorised: Callable[[NotAuthenticated], None],
    ) -> None:
        self.client = client
        self.stop_event = stop_event
        self.frames_per_second = frames_per_second
        self.poll_seconds = poll_seconds
        self.on_unauthorised = on_unauthorised
        self.wanted = threading.Event()
        """Set while the owner's live page is open."""
        self.sent = 0
        self._frames: queue.Queue[bytes] = queue.Queue(maxsize=1)
        self._last = 0.0

    def poll(self) -> None:
        """Ask the server once whether the page is open (servers before the long-poll)."""
        try:
            wanted = self.client.live_wanted()
        except NotAuthenticated as err:
            self.on_unauthorised(err)
            return
        except DoorstepError:
            wanted = False
        if wanted:
            self.wanted.set()
        else:
            self.wanted.clear()
        self.stop_event.wait(self.poll_seconds)

    def offer(self, frame: Frame) -> None:
        """Hand a frame to the sender, at most a few a second and only while watched."""
        now = time.monotonic()
        if not self.wanted.is_set() or frame.image is None:
            return
        if now - self._last < 1.0 / self.frames_per_second:
            return
        self._last = now
        # Privacy zones are already black in this frame: they were applied in the source.
        with contextlib.suppress(queue.Full):
            self._frames.put_nowait(encode_preview(frame.image))

    def send_loop(self) -> None:
        """Send the frames handed over, until the agent stops."""
        while not self.stop_event.is_set():
            try:
                jpeg = self._frames.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                self.client.send_live(jpeg)
                self.sent += 1
            except DoorstepError as err:
                log.debug("a live frame was not delivered: %s", err.detail)
