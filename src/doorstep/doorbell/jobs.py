"""The doorbell's sweep: signalling and rings are not kept beyond their use.

Live sessions' descriptions carry both ends' IP addresses, and rings say when someone was at the
door: the sweep clears and deletes them on the retention sweep's schedule.
"""

from __future__ import annotations

import logging

from doorstep.doorbell.service import forget_old
from doorstep.platform.db import Database
from doorstep.platform.queue.core import TASKS, JobContext, JobQueue

log = logging.getLogger(__name__)

#: The sweep's task name on the queue.
DOORBELL_SWEEP = "doorbell_sweep"


def sweep(db: Database) -> int:
    """Forget old sessions and rings; returns how many rows went."""
    with db.session() as session:
        gone = forget_old(session)
    if gone:
        log.info("doorbell: forgot %d old sessions and rings", gone)
    return gone


def _sweep_task(context: JobContext, jobs: JobQueue, args: tuple[str, ...]) -> object:
    del jobs, args
    return sweep(context.db)


TASKS.register(DOORBELL_SWEEP, _sweep_task)
