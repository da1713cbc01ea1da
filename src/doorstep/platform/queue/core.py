"""One interface for background work: a thread pool inside the server, or Dramatiq on Redis.

Without ``DOORSTEP_QUEUE_URL`` every API process runs its jobs on a small thread pool of its own.
With it, jobs are messages on the broker and ``doorstep worker`` processes on any machine run them;
the API processes only send. Every task is idempotent, so a job that runs twice (a worker killed
after finishing but before acknowledging, a sweep sent by two processes) does no harm.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

from doorstep.clips.jobs import sweep_expired
from doorstep.platform.db import Database
from doorstep.platform.keys import Keys
from doorstep.platform.queue import _dramatiq
from doorstep.requests.jobs import prepare_share, stale_preparing, sweep_expired_shares
from doorstep.settings import Settings

log = logging.getLogger(__name__)

SHARE_PREPARE = "share_prepare"
RETENTION_SWEEP = "retention_sweep"
SHARE_SWEEP = "share_sweep"
TASKS = (SHARE_PREPARE, RETENTION_SWEEP, SHARE_SWEEP)
#: In-process attempts of one job; with Dramatiq the broker's retries take over.
LOCAL_ATTEMPTS = 3
_PENDING = "doorstep_pending_jobs"


@dataclass(frozen=True, slots=True)
class JobContext:
    """What every task needs: the database and the keys to footage."""

    db: Database
    keys: Keys


class Receipt(Protocol):
    """A job handed over; ``wait`` says whether it finished within the time given."""

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the job; True when it is done."""
        ...


class JobQueue(Protocol):
    """Where jobs are sent: a thread pool in this process or a broker shared by many."""

    def send(self, task: str, *args: str) -> Receipt:
        """Hand the task over to run once, later, somewhere."""
        ...

    def close(self) -> None:
        """Stop taking jobs; the in-process pool finishes the ones it started."""
        ...


def run_task(context: JobContext, queue: JobQueue, task: str, args: tuple[str, ...]) -> object:
    """Run one task by name; an unknown name is a programming error, not a retry."""
    if task == SHARE_PREPARE:
        (share_id,) = args
        return prepare_share(context.db, context.keys, share_id)
    if task == RETENTION_SWEEP:
        return sweep_expired(context.db, context.keys)
    if task == SHARE_SWEEP:
        count = sweep_expired_shares(context.db, context.keys)
        # Shares left preparing by a process that died are picked up again here.
        for share_id in stale_preparing(context.db):
            queue.send(SHARE_PREPARE, share_id)
        return count
    raise ValueError(f"no background task called {task!r}")


class _Done:
    """The receipt of a job already with the broker: nothing here to wait for."""

    def wait(self, timeout: float) -> bool:
        del timeout
        return False


@dataclass(frozen=True, slots=True)
class _Local:
    future: Future[object]

    def wait(self, timeout: float) -> bool:
        try:
            self.future.result(timeout)
        except FutureTimeout:
            return False
        except Exception:
            # The failure was logged where it happened; the job is resumed by the share sweep.
            return True
        return True


class InProcessQueue:
    """Jobs on a thread pool of this process, each tried a few times before it is logged."""

    def __init__(self, context: JobContext, *, threads: int) -> None:
        self.context = context
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="doorstep-job")

    def _attempt(self, task: str, args: tuple[str, ...]) -> object:
        for attempt in range(1, LOCAL_ATTEMPTS + 1):
            try:
                return run_task(self.context, self, task, args)
            except Exception:
                log.exception("job %s%r failed (attempt %d)", task, args, attempt)
                if attempt == LOCAL_ATTEMPTS:
                    raise
                time.sleep(attempt)
        return None

    def send(self, task: str, *args: str) -> Receipt:
        """Run the task on the pool."""
        if task not in TASKS:
            raise ValueError(f"no background task called {task!r}")
        try:
            return _Local(self._pool.submit(self._attempt, task, args))
        except RuntimeError:
            # The server is shutting down; the share sweep picks the job up after the restart.
            log.warning("job %s%r not started: shutting down", task, args)
            return _Done()

    def close(self) -> None:
        """Finish the running jobs; queued ones are left for the sweep after a restart."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class BrokerQueue:
    """Jobs as messages on a Dramatiq broker, run by ``doorstep worker`` processes."""

    def __init__(self, settings: Settings) -> None:
        self._broker = _dramatiq.make_broker(settings)

    def send(self, task: str, *args: str) -> Receipt:
        """Put the message on the broker."""
        if task not in TASKS:
            raise ValueError(f"no background task called {task!r}")
        self._broker.enqueue(_dramatiq.message(task, args))
        return _Done()

    def close(self) -> None:
        """Close the broker connection."""
        _dramatiq.close_broker(self._broker)


def make_queue(settings: Settings, context: JobContext) -> JobQueue:
    """The broker queue when ``queue_url`` is set, else the in-process pool."""
    if settings.queue_url:
        return BrokerQueue(settings)
    return InProcessQueue(context, threads=settings.job_threads)


def send_after_commit(db: Session, task: str, *args: str) -> None:
    """Send a job once the session's transaction has committed (a worker must see the rows)."""
    db.info.setdefault(_PENDING, []).append((task, args))


def dispatch_after_commit(sessions: Any, queue: JobQueue, *, wait_seconds: float) -> None:
    """Send the jobs queued on each session of ``sessions`` (a sessionmaker) after it commits.

    An in-process job is waited for up to ``wait_seconds``, so on one machine the owner's answer
    comes back with the copy ready; a slower job goes on and the share stays preparing until then.
    """

    def after_commit(session: Session) -> None:
        pending: list[tuple[str, tuple[str, ...]]] = session.info.pop(_PENDING, [])
        receipts = [queue.send(task, *args) for task, args in pending]
        deadline = time.monotonic() + wait_seconds
        for receipt in receipts:
            receipt.wait(max(0.0, deadline - time.monotonic()))

    def after_rollback(session: Session) -> None:
        session.info.pop(_PENDING, None)

    event.listen(sessions, "after_commit", after_commit)
    event.listen(sessions, "after_rollback", after_rollback)
