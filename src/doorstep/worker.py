"""`doorstep worker`: run background jobs from the task queue, on as many machines as needed.

Each worker also keeps the periodic sweeps going. Any worker may send a sweep, but a short lease
in Redis lets only one of them do it per period, however many workers there are.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from types import FrameType

from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker

import doorstep.tasks  # noqa: F401 - registers every feature's background tasks
from doorstep.clips import jobs as clip_jobs
from doorstep.doorbell.jobs import DOORBELL_SWEEP
from doorstep.errors import ConfigurationError
from doorstep.master_key import load_master_key, rotation_pending
from doorstep.pets.jobs import PET_SWEEP
from doorstep.platform import keycheck
from doorstep.platform.blobs import make_blob_store
from doorstep.platform.db import Database
from doorstep.platform.http import metrics_server
from doorstep.platform.http.metrics import PRODUCT
from doorstep.platform.keys import WORK_FOLDER, Keys
from doorstep.platform.migrate import migrate
from doorstep.platform.observe import logs
from doorstep.platform.queue import _dramatiq
from doorstep.platform.queue import core as queue
from doorstep.platform.queue.scheduler import Scheduler
from doorstep.settings import Settings

log = logging.getLogger(__name__)

LEASE_PREFIX = "doorstep:sweep-lease:"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="doorstep worker",
        description="Run background jobs (redaction, retention and share sweeps) from the "
        "task queue at DOORSTEP_QUEUE_URL.",
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="jobs run at once (DOORSTEP_JOB_THREADS)"
    )
    return parser


def _send_sweep(jobs: queue.BrokerQueue, broker: RedisBroker, task: str, period: int) -> None:
    # Whoever takes the lease sends this period's sweep; the others skip it.
    if broker.client.set(LEASE_PREFIX + task, "1", nx=True, ex=max(1, period - 1)):
        jobs.send(task)


@dataclass
class RunningWorker:
    """Dramatiq worker threads taking Doorstep's jobs from the broker, in this process."""

    worker: Worker
    broker: RedisBroker
    jobs: queue.BrokerQueue

    def stop(self, timeout_ms: int = 600_000) -> None:
        """Finish the jobs in progress (up to ``timeout_ms``), then close the connections."""
        self.worker.stop(timeout=timeout_ms)
        _dramatiq.close_broker(self.broker)
        self.jobs.close()


def start_worker(
    settings: Settings,
    context: queue.JobContext,
    *,
    threads: int,
    idle_wake_ms: int = 1000,
) -> RunningWorker:
    """Start taking jobs from ``settings.queue_url`` on ``threads`` threads of this process."""
    jobs = queue.BrokerQueue(settings, context.keys.master)
    broker = _dramatiq.make_broker(settings)
    _dramatiq.declare_actors(
        broker,
        queue.TASKS.names(),
        lambda task, message_args: jobs.run(context, task, message_args),
    )
    worker = Worker(broker, worker_threads=threads, worker_timeout=idle_wake_ms)
    worker.start()
    return RunningWorker(worker, broker, jobs)


def main_worker(argv: Sequence[str]) -> int:
    """Run the `doorstep worker` command until SIGTERM or SIGINT; returns the exit status."""
    args = _parser().parse_args(list(argv))
    # What the jobs write (redaction's plaintext among it) is the operator's alone.
    os.umask(0o077)
    settings = Settings()
    logs.configure(settings.log_format)
    if not settings.queue_url:
        print("doorstep worker: set DOORSTEP_QUEUE_URL (e.g. redis://127.0.0.1:6379/0)")
        return 2
    db = Database(settings.resolved_database_url)
    migrate(db.engine)
    scratch = settings.data_dir / WORK_FOLDER
    keys = Keys(master=load_master_key(settings), blobs=make_blob_store(settings), scratch=scratch)
    try:
        with db.session() as session:
            keycheck.check(session, keys.master, rotation_pending=rotation_pending(settings))
    except ConfigurationError as err:
        print(f"doorstep worker: {err.detail}")
        return 2
    context = queue.JobContext(db, keys, settings)
    running = start_worker(settings, context, threads=args.threads or settings.job_threads)
    # Its own endpoint: give each worker on a machine a DOORSTEP_METRICS_BIND of its own.
    metrics = metrics_server.start_metrics(settings, PRODUCT)
    jobs, broker = running.jobs, running.broker
    scheduler = Scheduler()
    # At once, then every 10 minutes: footage a killed worker was redacting is still on disk in
    # plain until this removes it.
    scheduler.add("stale-files", 600, partial(clip_jobs.clear_stale_files, settings.data_dir))
    if settings.retention_sweep_seconds:
        for task in (queue.RETENTION_SWEEP, queue.SHARE_SWEEP, DOORBELL_SWEEP, PET_SWEEP):
            period = settings.retention_sweep_seconds
            scheduler.add(task, period, partial(_send_sweep, jobs, broker, task, period))

    stop = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        del number, frame
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    scheduler.start()
    log.info("doorstep worker: taking jobs from the queue")
    stop.wait()
    log.info("doorstep worker: stopping after the jobs in progress")
    scheduler.stop()
    running.stop()
    if metrics is not None:
        metrics.stop()
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main_worker(sys.argv[1:]))
