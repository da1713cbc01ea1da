"""Accounts' background task: writing and sending one account email after the commit."""

from __future__ import annotations

from doorstep.accounts import service_email, service_letters
from doorstep.platform import mail
from doorstep.platform.queue.core import TASKS, JobContext, JobQueue


def _mail_task(context: JobContext, jobs: JobQueue, args: tuple[str, ...]) -> object:
    # A relay that is down raises Unavailable: the queue logs it and tries again.
    del jobs
    kind, subject_id, at = args
    settings = context.settings
    if settings is None or not service_email.email_on(settings):
        return None
    with context.db.session() as db:
        letter = service_letters.account_letter(
            db, settings, context.keys.master, kind, subject_id, at
        )
    if letter is not None:
        mail.send(settings, letter)
    return letter is not None


TASKS.register(service_email.ACCOUNT_MAIL, _mail_task, detached=True)
