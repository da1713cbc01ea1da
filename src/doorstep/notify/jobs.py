"""Pushes as background work: the echo that turns account events into ``notify_event`` jobs.

Importing this module (``doorstep.tasks`` does) hooks ``service.echo`` into every account event
published through ``platform.bus.memory`` and registers the job that sends them.
"""

from __future__ import annotations

from doorstep.notify import service
from doorstep.platform.bus.memory import add_echo
from doorstep.platform.queue.core import TASKS, JobContext, JobQueue

#: The job's task name on the queue.
NOTIFY_EVENT = service.NOTIFY_EVENT


def _notify_task(context: JobContext, jobs: JobQueue, args: tuple[str, ...]) -> object:
    del jobs
    account_id, payload = args
    return service.deliver(context.db, account_id, payload)


TASKS.register(NOTIFY_EVENT, _notify_task)
add_echo(service.echo)
