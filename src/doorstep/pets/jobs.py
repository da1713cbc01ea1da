"""The lost-pet sweep: notices past their time close, and what was shared with them is shredded."""

from __future__ import annotations

import logging

from doorstep.pets import service
from doorstep.platform.queue.core import TASKS, JobContext, JobQueue

log = logging.getLogger(__name__)

#: The sweep's task name on the queue.
PET_SWEEP = "pet_sweep"


def _sweep_task(context: JobContext, jobs: JobQueue, args: tuple[str, ...]) -> object:
    del jobs, args
    closed = service.sweep_closed(context.db, context.keys)
    if closed:
        log.info("pets: closed %d notices past their time", closed)
    return closed


TASKS.register(PET_SWEEP, _sweep_task)
