"""The one place work waits for COMMIT: events, jobs and shreds queue on a session until it lands.

Whatever a use case must only do once its rows are visible to everyone (tell a page about a new
clip, hand a job to a worker, remove ciphertext whose key is destroyed) is queued here with
``defer``. When the session's outer transaction commits, the runner installed for each kind with
``run_after_commit`` gets the items; a rollback drops them, so nothing happens for work that never
was, and a savepoint rolled back drops what was queued since it began. Items with no runner stay
queued for ``take`` (the request that holds the bus publishes its events after it commits).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

#: Kinds of deferred work.
EVENTS = "events"
JOBS = "jobs"
SHREDS = "shreds"

_PENDING = "doorstep.after_commit"
_RUNNERS = "doorstep.after_commit.runners"
_MARKS = "doorstep.after_commit.savepoints"

Runner = Callable[[list[Any]], None]


def defer(db: Session, kind: str, item: object) -> None:
    """Queue ``item`` of ``kind`` on the session until its transaction has committed."""
    pending: dict[str, list[Any]] = db.info.setdefault(_PENDING, {})
    pending.setdefault(kind, []).append(item)
    if not event.contains(db, "after_soft_rollback", _forget):
        event.listen(db, "after_transaction_create", _mark)
        event.listen(db, "after_soft_rollback", _forget)
        event.listen(db, "after_transaction_end", _unmark)


def take(db: Session, kind: str) -> list[Any]:
    """The items of ``kind`` queued on the session, removed from it."""
    pending: dict[str, list[Any]] = db.info.get(_PENDING, {})
    return pending.pop(kind, [])


def run_after_commit(target: Session | sessionmaker[Session], kind: str, run: Runner) -> None:
    """After each COMMIT of ``target`` (a session, or a factory's every session), ``run`` its items.

    On one session a kind has one runner, however often this is called for it.
    """
    if isinstance(target, Session):
        runners: set[str] = target.info.setdefault(_RUNNERS, set())
        if kind in runners:
            return
        runners.add(kind)

    def after_commit(session: Session) -> None:
        if session.in_nested_transaction():
            # A savepoint was released; nothing is settled until the outer transaction commits.
            return
        items = take(session, kind)
        if items:
            run(items)

    event.listen(target, "after_commit", after_commit)


def _mark(session: Session, transaction: SessionTransaction) -> None:
    # A savepoint begins: remember how much was queued, to drop only the rest if it rolls back.
    if transaction.nested:
        pending: dict[str, list[Any]] = session.info.get(_PENDING, {})
        marks = session.info.setdefault(_MARKS, {})
        marks[transaction] = {kind: len(items) for kind, items in pending.items()}


def _unmark(session: Session, transaction: SessionTransaction) -> None:
    # Savepoints' marks last as long as their outer transaction (a rolled-back savepoint ends
    # before its rollback is reported to ``_forget``).
    if transaction.parent is None:
        session.info.pop(_MARKS, None)


def _forget(session: Session, previous_transaction: SessionTransaction) -> None:
    # The transaction did not happen: neither does anything that waited for it.
    marks: dict[SessionTransaction, dict[str, int]] = session.info.get(_MARKS, {})
    if previous_transaction.nested:
        # With no mark, nothing was queued before the savepoint began: all of it goes.
        kept = marks.pop(previous_transaction, {})
        pending: dict[str, list[Any]] = session.info.get(_PENDING, {})
        for kind, items in pending.items():
            del items[kept.get(kind, 0) :]
    elif previous_transaction.parent is None:
        session.info.pop(_PENDING, None)
