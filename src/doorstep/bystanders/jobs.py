"""Background work of bystander requests: blurring the clips an owner chose, one job per clip."""

from __future__ import annotations

from doorstep.bystanders.service_blur import BLUR_CLIP, blur_for_request
from doorstep.platform.queue.core import TASKS, JobContext, JobQueue


def _blur_task(context: JobContext, jobs: JobQueue, args: tuple[str, ...]) -> object:
    del jobs
    request_id, owner_id, clip_id = args
    return blur_for_request(context.db, context.keys, request_id, owner_id, clip_id)


# The queue knows no feature: the blur task is registered where it is defined.
TASKS.register(BLUR_CLIP, _blur_task)
