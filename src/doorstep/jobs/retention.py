"""The retention sweep: clips past their camera's retention are shredded on schedule."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from doorstep.storage.clips import Keys, expire
from doorstep.storage.db import Database

log = logging.getLogger(__name__)


def sweep_expired(db: Database, keys: Keys) -> int:
    """Shred every expired clip; returns how many went."""
    with db.session() as session:
        count = expire(session, keys)
    if count:
        log.info("retention: shredded %d expired clips", count)
    return count


def clear_stale_files(data_dir: Path, *, older_than_seconds: float = 3600.0) -> int:
    """Remove uploads and exports a crash left behind; they may hold plaintext footage."""
    cutoff = time.time() - older_than_seconds
    removed = 0
    for folder in (data_dir / "uploads", data_dir / "exports"):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            # Only old files: another API process may be writing a fresh one right now.
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
    if removed:
        log.info("removed %d stale upload/export files", removed)
    return removed
