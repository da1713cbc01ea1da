"""One interface for background work: a thread pool inside the server, or Dramatiq on Redis.

Without ``DOORSTEP_QUEUE_URL`` every API process runs its jobs on a small thread pool of its own.
With it, jobs are messages on the broker and ``doorstep worker`` processes on any machine run them;
the API processes only send. Every task is idempotent, so a job that runs twice (a worker killed
after finishing but before acknowledging, a sweep sent by two processes) does no harm.

The queue knows no feature: each feature's ``jobs`` module registers its tasks in ``TASKS`` when it
is imported, and the composition roots (``app.py``, ``worker.py``) import them.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from doorstep.platform import after_commit
from doorstep.platform.crypto import DecryptionFailed
from doorstep.platform.db import Database
from doorstep.platform.http import metrics
from doorstep.platform.keys import Keys
from doorstep.platform.queue import _dramatiq
from doorstep.platform.sealed import TextSeal
from doorstep.settings import Settings

log = logging.getLogger(__name__)

SHARE_PREPARE = "share_prepare"
RETENTION_SWEEP = "retention_sweep"
SHARE_SWEEP = "share_sweep"
#: In-process attempts of one job; with Dramatiq the broker's retries take over.
LOCAL_ATTEMPTS = 3
#: The purpose of the key that seals jobs on the broker.
QUEUE_SEAL = "task-queue"


@dataclass(frozen=True, slots=True)
class JobContext:
    """What every task needs: the database and the keys to footage."""

    db: Database
    keys: Keys
    #: The service's settings (mail relay, public URL ...); None only in tests that need none.
    settings: Settings | None = None


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


#: A task's work: given what every task needs, the queue (to send follow-up jobs) and its args.
Handler = Callable[[JobContext, JobQueue, tuple[str, ...]], object]


@dataclass
class TaskRegistry:
    """The tasks the features registered, by name."""

    handlers: dict[str, Handler] = field(default_factory=dict)
    #: Tasks a request never waits for (mail, notifications): see ``dispatch_after_commit``.
    detached: set[str] = field(default_factory=set)

    def register(self, task: str, handler: Handler, *, detached: bool = False) -> None:
        """Let ``task`` be sent and run; registering the same handler again changes nothing."""
        known = self.handlers.get(task)
        if known is not None and known is not handler:
            raise ValueError(f"two handlers for the background task {task!r}")
        self.handlers[task] = handler
        if detached:
            self.detached.add(task)

    def names(self) -> tuple[str, ...]:
        """Every registered task."""
        return tuple(self.handlers)

    def check(self, task: str) -> None:
        """Refuse a task nobody registered: a programming error, not a retry."""
        if task not in self.handlers:
            raise ValueError(f"no background task called {task!r}")


#: Filled by the features' ``jobs`` modules as they are imported.
TASKS = TaskRegistry()


def run_task(context: JobContext, queue: JobQueue, task: str, args: tuple[str, ...]) -> object:
    """Run one task by name; an unknown name is a programming error, not a retry."""
    TASKS.check(task)
    return TASKS.handlers[task](context, queue, args)


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

    def __init__(self, context: JobContext, *, threads: int, lane: str = "jobs") -> None:
        self.context = context
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="doorstep-job")
        #: The lane's name, the queue depth gauge's one label.
        self.depth = metrics.QUEUE_DEPTH.labels(lane)

    def _attempt(self, task: str, args: tuple[str, ...]) -> object:
        try:
            return self._attempts(task, args)
        finally:
            self.depth.dec()

    def _attempts(self, task: str, args: tuple[str, ...]) -> object:
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
        TASKS.check(task)
        self.depth.inc()
        try:
            return _Local(self._pool.submit(self._attempt, task, args))
        except RuntimeError:
            self.depth.dec()
            # The server is shutting down; the share sweep picks the job up after the restart.
            log.warning("job %s%r not started: shutting down", task, args)
            return _Done()

    def close(self) -> None:
        """Finish the running jobs; queued ones are left for the sweep after a restart."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class BrokerQueue:
    """Jobs as messages on a Dramatiq broker, run by ``doorstep worker`` processes.

    A job's arguments are sealed (AES-GCM under a key of the master key's, bound to the task's
    name): a push's words, a notice's agency and the moment a doorbell rang are nobody's to read
    on the broker, and a broker client cannot plant a job, as none can on the MQTT bus.
    """

    def __init__(self, settings: Settings, master_key: bytes) -> None:
        self._broker = _dramatiq.make_broker(settings)
        self._seal = TextSeal(master_key, QUEUE_SEAL)

    def send(self, task: str, *args: str) -> Receipt:
        """Put the message, its arguments sealed, on the broker."""
        TASKS.check(task)
        sealed = self._seal.seal(json.dumps(list(args)), bound_to=task)
        self._broker.enqueue(_dramatiq.message(task, (base64.b64encode(sealed).decode(),)))
        return _Done()

    def open(self, task: str, message_args: tuple[str, ...]) -> tuple[str, ...] | None:
        """A message's arguments opened, or None for one this service did not seal."""
        try:
            (sealed,) = message_args
            opened = json.loads(self._seal.open(base64.b64decode(sealed), bound_to=task))
        except (ValueError, DecryptionFailed):
            log.warning("job %s dropped: its message was not sealed by this service", task)
            return None
        return tuple(str(arg) for arg in opened)

    def run(self, context: JobContext, task: str, message_args: tuple[str, ...]) -> object:
        """Run a task taken from the broker; a message that does not open is dropped."""
        args = self.open(task, message_args)
        return None if args is None else run_task(context, self, task, args)

    def close(self) -> None:
        """Close the broker connection."""
        _dramatiq.close_broker(self._broker)


def make_queue(settings: Settings, context: JobContext) -> JobQueue:
    """The broker queue when ``queue_url`` is set, else the in-process pool."""
    if settings.queue_url:
        return BrokerQueue(settings, context.keys.master)
    return InProcessQueue(context, threads=settings.job_threads)


def send_after_commit(db: Session, task: str, *args: str) -> None:
    """Send a job once the session's transaction has committed (a worker must see the rows)."""
    after_commit.defer(db, after_commit.JOBS, (task, args))


def dispatch_after_commit(sessions: Any, queue: JobQueue, *, wait_seconds: float) -> None:
    """Send the jobs queued on each session of ``sessions`` (a sessionmaker) after it commits.

    An in-process job is waited for up to ``wait_seconds``, so on one machine the owner's answer
    comes back with the copy ready; a slower job goes on and the share stays preparing until then.
    """

    def send(pending: list[tuple[str, tuple[str, ...]]]) -> None:
        receipts = []
        for task, args in pending:
            receipt = queue.send(task, *args)
            if task not in TASKS.detached:
                receipts.append(receipt)
        deadline = time.monotonic() + wait_seconds
        for receipt in receipts:
            receipt.wait(max(0.0, deadline - time.monotonic()))

    after_commit.run_after_commit(sessions, after_commit.JOBS, send)
