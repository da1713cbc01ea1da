"""What reading or writing footage needs: the master key, the blob store and a scratch folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from doorstep.platform.blobs import BlobStore

#: The data folder's folder for footage being worked on (see ``Keys.scratch``).
WORK_FOLDER = "work"


@dataclass(frozen=True, slots=True)
class Keys:
    """The server's master key and where blobs live: what reading or writing footage needs."""

    master: bytes
    blobs: BlobStore
    #: Where plaintext footage may touch the disk while it is redacted or watermarked: the data
    #: folder's ``work``, never the system's temporary folder. A process killed in the middle of
    #: the work leaves its files here, and the next start or sweep removes them
    #: (``jobs.retention.clear_stale_files``); nothing else would.
    scratch: Path
