"""Work folders: where plaintext footage may touch the disk while it is redacted or watermarked.

Each lives under ``Keys.scratch``, locked by the process using it, so a sweep can tell a crash's
leftovers from work in progress.
"""

from __future__ import annotations

import fcntl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from doorstep.platform.folders import private_folder
from doorstep.platform.keys import Keys

#: In each work folder: held locked by the process doing the work, for as long as it does.
WORK_LOCK = ".in-use"


@contextmanager
def scratch_folder(keys: Keys, purpose: str) -> Iterator[Path]:
    """A folder of its own under ``keys.scratch`` for one piece of work, removed after it.

    The folder's lock file stays locked while the work goes on; the kernel lets go of it when
    the process dies, however it dies, and that is how a sweep tells a crash's leftovers from
    work in progress (``abandoned``).
    """
    private_folder(keys.scratch)
    # A sweep may remove the folder the moment the lock goes, before this would.
    with tempfile.TemporaryDirectory(
        prefix=f"{purpose}-", dir=keys.scratch, ignore_cleanup_errors=True
    ) as name:
        folder = Path(name)
        with (folder / f"{WORK_LOCK}.new").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            # Locked before it takes its name: a sweep never finds it unlocked while in use.
            (folder / f"{WORK_LOCK}.new").rename(folder / WORK_LOCK)
            yield folder


def abandoned(folder: Path) -> bool | None:
    """Whether a work folder's process is gone (its lock is free); None if it has no lock yet."""
    try:
        handle = (folder / WORK_LOCK).open("r")
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
