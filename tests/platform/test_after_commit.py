"""Work queued on a session runs once its transaction commits, and never for one rolled back."""

from __future__ import annotations

import threading
import time
from typing import cast

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from doorstep.platform import after_commit
from doorstep.platform.queue import core as queue
from doorstep.platform.queue.core import JobContext, JobQueue


def _session(ran: list[object]) -> Session:
    session = Session(create_engine("sqlite://"))
    after_commit.run_after_commit(session, after_commit.JOBS, ran.extend)
    return session


def test_queued_work_runs_after_commit_and_only_then() -> None:
    ran: list[object] = []
    with _session(ran) as db:
        db.execute(text("select 1"))
        after_commit.defer(db, after_commit.JOBS, "a")
        assert ran == []
        db.commit()
        assert ran == ["a"]
        db.commit()
    assert ran == ["a"]


def test_a_rollback_drops_what_was_queued() -> None:
    ran: list[object] = []
    with _session(ran) as db:
        db.execute(text("select 1"))
        after_commit.defer(db, after_commit.JOBS, "dropped")
        db.rollback()
        db.execute(text("select 1"))
        after_commit.defer(db, after_commit.JOBS, "kept")
        db.commit()
    assert ran == ["kept"]


def test_a_savepoint_rolled_back_drops_only_its_own() -> None:
    ran: list[object] = []
    with _session(ran) as db:
        db.execute(text("select 1"))
        after_commit.defer(db, after_commit.JOBS, "before")
        savepoint = db.begin_nested()
        after_commit.defer(db, after_commit.JOBS, "inside")
        savepoint.rollback()
        with db.begin_nested():
            after_commit.defer(db, after_commit.JOBS, "released")
        assert ran == []
        db.commit()
    assert ran == ["before", "released"]


def test_work_with_no_runner_waits_to_be_taken() -> None:
    with Session(create_engine("sqlite://")) as db:
        db.execute(text("select 1"))
        after_commit.defer(db, after_commit.EVENTS, ("owner", {"type": "clip"}))
        db.commit()
        assert after_commit.take(db, after_commit.EVENTS) == [("owner", {"type": "clip"})]
        assert after_commit.take(db, after_commit.EVENTS) == []


def test_a_committer_waits_for_awaited_jobs_but_not_for_unawaited_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()
    finished: list[str] = []

    def slow(context: JobContext, jobs: JobQueue, args: tuple[str, ...]) -> object:
        del context, jobs
        release.wait(30)
        finished.extend(args)
        return None

    monkeypatch.setattr(queue, "TASKS", queue.TaskRegistry())
    queue.TASKS.register("awaited", slow)
    queue.TASKS.register("unawaited", slow, awaited=False)
    jobs = queue.InProcessQueue(cast(JobContext, None), threads=2)
    factory = sessionmaker(create_engine("sqlite://"))
    queue.dispatch_after_commit(factory, jobs, wait_seconds=30)
    try:
        with factory() as db:
            queue.send_after_commit(db, "unawaited", "preview")
            started = time.monotonic()
            db.commit()
        # Nothing awaited was sent: the commit came back with the job still running.
        assert time.monotonic() - started < 5
        assert finished == []
        threading.Timer(0.5, release.set).start()
        with factory() as db:
            queue.send_after_commit(db, "awaited", "copy")
            db.commit()
        # An awaited job is done by the time its commit returns.
        assert "copy" in finished
    finally:
        release.set()
        jobs.close()
