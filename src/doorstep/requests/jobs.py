"""Background work of requests: make a share's agency copy, find lost ones, close expired shares."""

from __future__ import annotations

from datetime import timedelta

from doorstep.platform.db import Database
from doorstep.platform.queue.core import SHARE_PREPARE, SHARE_SWEEP, TASKS, JobContext, JobQueue

# The copies' service module, not the ``service`` door: the job queue loads this module, and
# ``service`` loads the job queue (to send copy jobs after commit).
from doorstep.requests import service_copies as copies
from doorstep.requests import service_standing as standing
from doorstep.requests.service_copies import STALE_AFTER, Keys


def prepare_share(database: Database, keys: Keys, share_id: str) -> bool:
    """Make a share's agency copy; True when this run made it, False when nothing was to do."""
    return copies.prepare_share(database, keys, share_id)


def stale_preparing(database: Database, older_than: timedelta = STALE_AFTER) -> list[str]:
    """Shares preparing for longer than a job should take: their job was lost with a process."""
    return copies.stale_preparing(database, older_than)


def sweep_expired_shares(db: Database, keys: Keys) -> int:
    """Close shares past their end and shred their agency copies; returns how many."""
    return copies.sweep_expired_shares(db, keys)


def share_standing(database: Database, jobs: JobQueue) -> list[str]:
    """Open shares for clips standing grants cover, then send their copy jobs."""
    with database.session() as db:
        opened = standing.share_standing(db)
    for share_id in opened:
        jobs.send(SHARE_PREPARE, share_id)
    return opened


def _prepare_task(context: JobContext, jobs: JobQueue, args: tuple[str, ...]) -> object:
    del jobs
    (share_id,) = args
    return prepare_share(context.db, context.keys, share_id)


def _sweep_task(context: JobContext, jobs: JobQueue, args: tuple[str, ...]) -> object:
    del args
    count = sweep_expired_shares(context.db, context.keys)
    # Clips recorded under a standing grant since the last sweep get their shares and copies.
    share_standing(context.db, jobs)
    # Shares left preparing by a process that died are picked up again here.
    for share_id in stale_preparing(context.db):
        jobs.send(SHARE_PREPARE, share_id)
    return count


# The queue knows no feature: the share tasks are registered where they are defined.
TASKS.register(SHARE_PREPARE, _prepare_task)
TASKS.register(SHARE_SWEEP, _sweep_task)
