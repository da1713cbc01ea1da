"""The in-process bus: per-account channels that browsers follow over server-sent events."""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from doorstep.platform import after_commit

#: Events an account's browsers may be slow to take; past this a full queue drops and counts.
QUEUE_SIZE = 100


@dataclass(eq=False)
class Subscription:
    """One open page listening to an account's events."""

    account_id: str
    queue: asyncio.Queue[dict[str, Any]]
    loop: asyncio.AbstractEventLoop
    dropped: int = 0


@dataclass
class MemoryBus:
    """Publish to an account's channel from any thread; subscribers read in their event loop."""

    _subscriptions: dict[str, set[Subscription]] = field(default_factory=lambda: defaultdict(set))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def subscribe(self, account_id: str) -> Subscription:
        """Start following an account's events (call from inside the event loop)."""
        subscription = Subscription(
            account_id, asyncio.Queue(QUEUE_SIZE), asyncio.get_running_loop()
        )
        with self._lock:
            self._subscriptions[account_id].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop following."""
        with self._lock:
            self._subscriptions[subscription.account_id].discard(subscription)

    def publish(self, account_id: str, event: dict[str, Any]) -> int:
        """Send an event to every open page of the account; returns how many got it."""
        with self._lock:
            targets = list(self._subscriptions.get(account_id, ()))
        for subscription in targets:
            subscription.loop.call_soon_threadsafe(_offer, subscription, event)
        return len(targets)

    def listeners(self, account_id: str | None = None) -> int:
        """How many pages follow the account (or anyone) right now."""
        with self._lock:
            if account_id is None:
                return sum(len(subs) for subs in self._subscriptions.values())
            return len(self._subscriptions.get(account_id, ()))


def _offer(subscription: Subscription, event: dict[str, Any]) -> None:
    # A page that stopped reading must not hold up the camera that is uploading.
    try:
        subscription.queue.put_nowait(event)
    except asyncio.QueueFull:
        subscription.dropped += 1


#: Something else an account event should cause (a push, an email), called with the session
#: before it commits: it queues its own work after commit, so a rollback drops it too.
Echo = Callable[[Session, str, dict[str, Any]], None]
#: Filled by the features that echo events (``notify.jobs`` and its kin) as they are imported.
ECHOES: list[Echo] = []


def add_echo(echo: Echo) -> None:
    """Call ``echo`` for every account event from now on (once, however often it is added)."""
    if echo not in ECHOES:
        ECHOES.append(echo)


def echo_event(db: Session, account_id: str, event: dict[str, Any]) -> None:
    """Let every echo see an event published some other way than ``notify_after_commit``."""
    for echo in ECHOES:
        echo(db, account_id, event)


def notify_after_commit(db: Session, account_id: str, event: dict[str, Any]) -> None:
    """Queue an event to be published once the session's transaction has committed."""
    after_commit.defer(db, after_commit.EVENTS, (account_id, event))
    echo_event(db, account_id, event)


def take_pending(db: Session) -> list[tuple[str, dict[str, Any]]]:
    """The events queued on the session, removed from it; the request publishes them."""
    pending: list[tuple[str, dict[str, Any]]] = after_commit.take(db, after_commit.EVENTS)
    return pending
