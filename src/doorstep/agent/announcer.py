"""Announce events as they start: the owner hears of a visitor now, not after the post-roll.

The recorder tells of an event as it begins (with its newest, privacy-masked picture) and again
whenever it learns a label; the capture thread hands that word here and goes on at once, and one
thread of its own posts it, in order, to ``POST /api/v1/devices/events``. End-to-end cameras
send no picture: their pictures never reach the server in the clear. Word that cannot be
delivered is dropped (the clip still uploads and alerts in its place).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from doorstep.agent.client import DeviceClient, Uploaded
from doorstep.errors import DoorstepError, InvalidInput
from doorstep.media.probe import encode_preview
from doorstep.media.recorder import EventNews

log = logging.getLogger(__name__)

#: Word waiting to be sent; past this the oldest is kept and new word dropped (a stuck uplink).
QUEUE_SIZE = 32
#: How long a clip's upload waits for its event's announcement to go first.
ANNOUNCE_FIRST_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Announcement:
    """One call to make: the event's metadata and, at its start, its picture."""

    meta: dict[str, Any]
    snapshot: bytes | None


def announcement(news: EventNews, fps: float, *, now: datetime, with_picture: bool) -> Announcement:
    """What to send for ``news``: the start time from its frames, the JPEG if allowed."""
    seconds = max(0, news.at_frame - news.start_frame) / fps if fps > 0 else 0.0
    meta: dict[str, Any] = {
        "event_id": news.event_id,
        "started_at": (now - timedelta(seconds=seconds)).isoformat(),
        "labels": list(news.labels),
    }
    if news.objects:  # sent only when there are some, as a server before objects expects
        meta["objects"] = list(news.objects)
    snapshot = None
    if with_picture and news.started and news.image is not None:
        snapshot = encode_preview(news.image)
    return Announcement(meta, snapshot)


class Announcer:
    """Sends event announcements from a thread of its own, in the order they were made."""

    def __init__(
        self,
        server: str,
        token: str,
        *,
        e2e: Callable[[], bool],
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.client = DeviceClient(server, token, transport=transport)
        self.e2e = e2e
        self.sent: list[Announcement] = []
        self._queue: queue.Queue[Announcement | None] = queue.Queue(QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        self._unsent: Counter[str] = Counter()
        self._settled = threading.Condition()

    def news(self, news: EventNews, fps: float) -> None:
        """Take word of an event from the capture thread; never blocks it."""
        item = announcement(news, fps, now=datetime.now(UTC), with_picture=not self.e2e())
        with self._settled:
            self._unsent[news.event_id] += 1
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._done(item)
            log.warning("an event announcement was dropped: the server is not keeping up")

    def wait_sent(self, event_id: str | None, timeout: float = ANNOUNCE_FIRST_SECONDS) -> bool:
        """Wait until word of ``event_id`` queued so far was sent (or given up); False on timeout.

        A clip waits for this before it uploads, so the owner hears of the event's start first.
        """
        if not event_id:
            return True
        with self._settled:
            return self._settled.wait_for(lambda: self._unsent[event_id] <= 0, timeout)

    def _done(self, item: Announcement) -> None:
        with self._settled:
            event_id = str(item.meta["event_id"])
            self._unsent[event_id] -= 1
            if self._unsent[event_id] <= 0:
                del self._unsent[event_id]
            self._settled.notify_all()

    def start(self) -> None:
        """Start sending."""
        self._thread = threading.Thread(target=self._run, name="doorstep-announce", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Send what is queued (within ``timeout``) and stop."""
        if self._thread is not None:
            try:
                self._queue.put(None, timeout=timeout)
                self._thread.join(timeout)
            except queue.Full:
                pass
        self.client.close()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                self.send(item)
            finally:
                self._done(item)

    def send(self, item: Announcement) -> None:
        """Post one announcement; a camera the server holds as end-to-end gets no picture."""
        try:
            try:
                self.client.announce_event(item.meta, item.snapshot)
            except InvalidInput:
                # The owner made the camera end-to-end since: the word goes without a picture.
                if item.snapshot is None:
                    raise
                self.client.announce_event(item.meta, None)
            self.sent.append(item)
        except DoorstepError as err:
            log.warning("an event could not be announced (its clip will be): %s", err.detail)


class AnnouncedFirst(DeviceClient):
    """The uploader's client: a clip goes up only once its event's start was announced."""

    def __init__(self, server: str, token: str, announcer: Announcer) -> None:
        super().__init__(server, token)
        self.announcer = announcer

    def upload_clip(self, meta: dict[str, Any], video: Path, snapshot: Path) -> Uploaded:
        """Upload after the event's announcements, or after a short wait for them."""
        if not self.announcer.wait_sent(meta.get("event_id")):
            log.warning("uploading a clip before its event could be announced")
        return super().upload_clip(meta, video, snapshot)
