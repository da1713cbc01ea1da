"""The email and Apprise notice tasks, and the echo that sends them for every account event."""

from __future__ import annotations

from doorstep.accounts import service_targets
from doorstep.notify import service_mail
from doorstep.platform import mail
from doorstep.platform.bus.memory import add_echo
from doorstep.platform.queue.core import TASKS, JobContext, JobQueue


def _mail_task(context: JobContext, jobs: JobQueue, args: tuple[str, ...]) -> object:
    # A relay that is down raises Unavailable: the queue logs it and tries again.
    del jobs
    account_id, notice = args
    settings = context.settings
    if settings is None or not mail.enabled(settings):
        return False
    with context.db.session() as db:
        letter = service_mail.notice_letter(db, settings, account_id, notice)
    if letter is not None:
        mail.send(settings, letter)
    return letter is not None


def _apprise_task(context: JobContext, jobs: JobQueue, args: tuple[str, ...]) -> object:
    del jobs
    target_id, title, body = args
    settings = context.settings
    if settings is None or not service_targets.targets_on(settings):
        return False
    with context.db.session() as db:
        return service_targets.deliver(db, context.keys.master, target_id, title=title, body=body)


TASKS.register(service_mail.NOTICE_MAIL, _mail_task, detached=True)
TASKS.register(service_mail.NOTICE_APPRISE, _apprise_task, detached=True)
add_echo(service_mail.echo)
