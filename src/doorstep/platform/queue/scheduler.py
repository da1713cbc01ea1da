"""Periodic jobs run by a thread inside the server: retention sweeps and the like."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class PeriodicJob:
    """A job and how often it runs."""

    name: str
    every_seconds: float
    run: Callable[[], object]
    runs: int = 0
    failures: int = 0


@dataclass
class Scheduler:
    """Runs each job on its period in one daemon thread; a failing job is logged and retried."""

    jobs: list[PeriodicJob] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def add(self, name: str, every_seconds: float, run: Callable[[], object]) -> PeriodicJob:
        """Register a job; it first runs right after ``start``."""
        job = PeriodicJob(name, every_seconds, run)
        self.jobs.append(job)
        return job

    def run_due(self, now: float, next_runs: dict[str, float]) -> None:
        """Run every job whose time has come."""
        for job in self.jobs:
            if next_runs.get(job.name, 0.0) > now:
                continue
            try:
                job.run()
                job.runs += 1
            except Exception:
                # One broken sweep must not stop the others; it is tried again next period.
                job.failures += 1
                log.exception("background job %s failed", job.name)
            next_runs[job.name] = now + job.every_seconds

    def _loop(self) -> None:
        import time

        next_runs: dict[str, float] = {}
        while not self._stop.is_set():
            self.run_due(time.monotonic(), next_runs)
            self._stop.wait(1.0)

    def start(self) -> None:
        """Start the thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="doorstep-jobs", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread and wait for the job in progress."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
