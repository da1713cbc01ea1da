"""Every feature's background tasks: a process that sends or runs jobs loads them from here.

Importing a feature's ``jobs`` module registers its tasks on ``platform.queue.core.TASKS``; the
queue itself knows no feature. The app, the worker and the demo's own queue all load this one
list, so none of them depends on what else happened to be imported first.
"""

from doorstep.accounts import jobs as account_jobs
from doorstep.bystanders import jobs as bystander_jobs
from doorstep.clips import jobs as clip_jobs
from doorstep.doorbell import jobs as doorbell_jobs
from doorstep.notify import jobs as notify_jobs
from doorstep.notify import jobs_mail as notice_mail_jobs
from doorstep.pets import jobs as pet_jobs
from doorstep.requests import jobs as share_jobs

#: The features whose tasks are registered.
FEATURE_JOBS = (
    clip_jobs,
    share_jobs,
    doorbell_jobs,
    account_jobs,
    notify_jobs,
    notice_mail_jobs,
    pet_jobs,
    bystander_jobs,
)
