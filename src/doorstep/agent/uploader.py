"""The uploader: sends spooled clips oldest first, retrying with a growing delay until they land."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from enum import Enum
from pathlib import Path

from doorstep.agent.client import DeviceClient, Uploaded, is_retryable
from doorstep.agent.e2e import load_key, sealed_copies
from doorstep.agent.spool import Spool, SpoolEntry
from doorstep.errors import Conflict, DoorstepError, NotAuthenticated, TooManyRequests
from doorstep.media.source import Backoff

log = logging.getLogger(__name__)

UPLOAD_BACKOFF = Backoff(first=1.0, factor=2.0, cap=60.0)


class Outcome(Enum):
    """What became of one attempt to upload one entry."""

    UPLOADED = "uploaded"
    RETRY = "retry"
    REJECTED = "rejected"
    UNAUTHORISED = "unauthorised"


class Uploader:
    """Drains a spool into the server on its own thread; nothing leaves the spool unconfirmed."""

    def __init__(
        self,
        spool: Spool,
        client: DeviceClient,
        *,
        backoff: Backoff = UPLOAD_BACKOFF,
        sleep: Callable[[float], None] | None = None,
        on_uploaded: Callable[[SpoolEntry, Uploaded], None] | None = None,
        on_unauthorised: Callable[[NotAuthenticated], None] | None = None,
    ) -> None:
        self.spool = spool
        self.client = client
        self.backoff = backoff
        self.on_uploaded = on_uploaded
        self.on_unauthorised = on_unauthorised
        self.uploaded = 0
        self.e2e_folder: Path | None = None
        """The state folder to look in for an end-to-end key before each upload."""
        self.retries: list[float] = []
        """Every delay waited before a retry, in order (for logs and tests)."""
        self.unauthorised: NotAuthenticated | None = None
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait
        self._thread: threading.Thread | None = None
        self._retry_after = 0

    def start(self) -> None:
        """Start uploading on a background thread."""
        self._thread = threading.Thread(target=self.run, name="doorstep-uploader", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the upload in flight, if any."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def stopped(self) -> bool:
        """Whether the uploader was stopped or gave up."""
        return self._stop.is_set()

    def run(self) -> None:
        """Upload until stopped or the server refuses this camera's token."""
        delays = self.backoff.delays()
        while not self._stop.is_set():
            entry = self.spool.claim_oldest(timeout=0.5)
            if entry is None:
                continue
            try:
                outcome = self.upload(entry)
            finally:
                self.spool.release()
            if outcome is Outcome.UNAUTHORISED:
                self._stop.set()
                return
            if outcome is Outcome.RETRY:
                delay = max(next(delays), float(self._retry_after))
                self.retries.append(delay)
                self._sleep(delay)
            else:
                delays = self.backoff.delays()

    def upload(self, entry: SpoolEntry) -> Outcome:
        """Try once to upload ``entry``; remove it when the server holds it."""
        self._retry_after = 0
        try:
            key = load_key(self.e2e_folder) if self.e2e_folder is not None else None
            if key is None:
                result = self.client.upload_clip(entry.meta(), entry.video, entry.snapshot)
            else:
                with sealed_copies(key, entry.video, entry.snapshot) as (video, snapshot):
                    # Sealed footage goes up with its labels only: no boxes, zones or times.
                    meta = {**entry.meta(), "e2e": True}
                    meta.pop("objects", None)
                    result = self.client.upload_clip(meta, video, snapshot)
        except NotAuthenticated as err:
            self.unauthorised = err
            log.error(
                "the server refused this camera's token (%s); pair the camera again with "
                "`doorstep agent pair --server URL --code CODE`",
                err.detail,
            )
            if self.on_unauthorised is not None:
                self.on_unauthorised(err)
            return Outcome.UNAUTHORISED
        except DoorstepError as err:
            # 409: the camera is end-to-end encrypted and this agent has no key yet; the clip
            # waits until `doorstep agent e2e` is run instead of ever going up unsealed.
            if is_retryable(err) or isinstance(err, Conflict):
                if isinstance(err, TooManyRequests):
                    self._retry_after = err.retry_after
                log.warning("upload of %s will be retried: %s", entry.name, err.detail)
                return Outcome.RETRY
            return self._reject(entry, err.detail)
        except (OSError, ValueError) as err:
            return self._reject(entry, f"the spooled entry is unreadable: {err}")
        self.spool.remove(entry)
        self.uploaded += 1
        log.info(
            "uploaded %s as clip %s%s",
            entry.name,
            result.clip_id,
            "" if result.created else " (the server already had it)",
        )
        if self.on_uploaded is not None:
            self.on_uploaded(entry, result)
        return Outcome.UPLOADED

    def _reject(self, entry: SpoolEntry, detail: str) -> Outcome:
        kept = self.spool.reject(entry, detail)
        log.error("the server will not take %s (%s); kept in %s", entry.name, detail, kept.path)
        return Outcome.REJECTED
