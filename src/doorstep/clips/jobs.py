"""The retention sweep: clips past their camera's retention are shredded on schedule."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from doorstep.clips import service_replay
from doorstep.clips.service import expire_clips
from doorstep.platform.bus.memory import add_echo
from doorstep.platform.db import Database
from doorstep.platform.keys import WORK_FOLDER, Keys
from doorstep.platform.queue.core import RETENTION_SWEEP, TASKS, JobContext, JobQueue
from doorstep.platform.scratch import abandoned

log = logging.getLogger(__name__)

# Every account event, in whichever process publishes it, is kept for pages that reconnect.
add_echo(service_replay.journal)


def sweep_expired(db: Database, keys: Keys) -> int:
    """Shred every expired clip; returns how many went."""
    with db.session() as session:
        count = expire_clips(session, keys)
    with db.session() as session:
        # Events of accounts that have gone quiet, which their next event would have cleared.
        service_replay.forget_old(session)
    if count:
        log.info("retention: shredded %d expired clips", count)
    return count


def clear_stale_files(data_dir: Path, *, older_than_seconds: float = 3600.0) -> int:
    """Remove uploads, exports and work folders a crash left behind: they may hold plaintext.

    A work folder goes as soon as the process that made it is gone (see
    ``platform.scratch.scratch_folder``). An upload or export goes once it has not changed for
    ``older_than_seconds``: another API process may be writing a fresh one right now.
    """
    cutoff = time.time() - older_than_seconds
    removed = 0
    for folder in (data_dir / "uploads", data_dir / "exports", data_dir / WORK_FOLDER):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            try:
                if not _left_behind(path, cutoff):
                    continue
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            except FileNotFoundError:
                continue  # its own process finished with it meanwhile
            except OSError:
                # One that cannot go must not keep the server from starting or the rest from
                # going; it is tried again at the next sweep.
                log.exception("could not remove %s", path)
                continue
            removed += 1
    if removed:
        log.info("removed %d upload, export and work files left behind", removed)
    return removed


def _left_behind(path: Path, cutoff: float) -> bool:
    if path.is_dir():
        gone = abandoned(path)
        if gone is not None:
            return gone
        # No lock yet: being set up this instant, or not Doorstep's; old and unchanged goes.
        latest = max([path.stat().st_mtime, *(child.stat().st_mtime for child in path.rglob("*"))])
        return latest < cutoff
    return path.stat().st_mtime < cutoff


def _retention_task(context: JobContext, jobs: JobQueue, args: tuple[str, ...]) -> object:
    del jobs, args
    return sweep_expired(context.db, context.keys)


# The queue knows no feature: the retention sweep is registered where it is defined.
TASKS.register(RETENTION_SWEEP, _retention_task)
