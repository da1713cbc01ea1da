"""Work queued on a session runs once its transaction commits, and never for one rolled back."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from doorstep.platform import after_commit


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
