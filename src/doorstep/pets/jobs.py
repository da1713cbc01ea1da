"""Lost pets' background work: shared copies are made, and notices past their time close."""

from __future__ import annotations

import logging

from doorstep.pets import service
from doorstep.pets.service_copies import PET_SHARE_PREPARE, prepare_share, stale_preparing
from doorstep.platform.queue.core import TASKS, JobContext, JobQueue
from doorstep.platform.types import utcnow

log = logging.getLogger(__name__)

#: The sweep's task name on the queue.
PET_SWEEP = "pet_sweep"


def _prepare_task(context: JobContext, jobs: JobQueue, args: tuple[str, ...]) -> object:
    del jobs
    (share_id,) = args
    return prepare_share(context.db, context.keys, share_id)


def _sweep_task(context: JobContext, jobs: JobQueue, args: tuple[str, ...]) -> object:
    del args
    closed = service.sweep_closed(context.db, context.keys)
    if closed:
        log.info("pets: closed %d notices past their time", closed)
    # Shares left preparing by a process that died are picked up again here.
    for share_id in stale_preparing(context.db, utcnow()):
        jobs.send(PET_SHARE_PREPARE, share_id)
    return closed


TASKS.register(PET_SHARE_PREPARE, _prepare_task)
TASKS.register(PET_SWEEP, _sweep_task)
