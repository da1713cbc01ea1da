"""The retention sweep: clips past their camera's retention are shredded on schedule."""

from __future__ import annotations

import logging

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
