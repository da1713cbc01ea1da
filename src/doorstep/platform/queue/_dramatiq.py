"""The Dramatiq side of the task queue: the Redis broker, messages, and the worker's actors."""

from __future__ import annotations

from collections.abc import Callable

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.message import Message

from doorstep.settings import Settings

QUEUE_NAME = "doorstep"
#: A dead worker's unacknowledged messages are handed back during broker maintenance; doing it on
#: one command in ten (not Dramatiq's one in a thousand) brings them back within seconds.
MAINTENANCE_CHANCE = 100_000
ACTOR_OPTIONS: dict[str, object] = {
    "max_retries": 10,
    "min_backoff": 1_000,
    "max_backoff": 300_000,
    # Redacting a long clip on a slow machine takes minutes, not hours.
    "time_limit": 3_600_000,
}


def make_broker(settings: Settings) -> RedisBroker:
    """A Redis broker for ``queue_url`` with Doorstep's queue declared."""
    # Dramatiq's Redis broker has no annotations on its constructor.
    broker = RedisBroker(  # type: ignore[no-untyped-call]
        url=settings.queue_url,
        heartbeat_timeout=settings.queue_heartbeat_seconds * 1000,
        maintenance_chance=MAINTENANCE_CHANCE,
    )
    broker.declare_queue(QUEUE_NAME)
    return broker


def close_broker(broker: RedisBroker) -> None:
    """Close the broker and its Redis connections (Dramatiq's close leaves them open)."""
    broker.close()
    broker.client.close()
    broker.client.connection_pool.disconnect()


def message(task: str, args: tuple[str, ...]) -> Message[object]:
    """The message that asks a worker to run ``task`` with ``args``."""
    return Message(queue_name=QUEUE_NAME, actor_name=task, args=args, kwargs={}, options={})


def declare_actors(
    broker: RedisBroker, tasks: tuple[str, ...], run: Callable[[str, tuple[str, ...]], object]
) -> None:
    """Register one actor per task on ``broker``, each calling ``run(task, args)``."""
    for task in tasks:

        def actor(*args: str, _task: str = task) -> None:
            run(_task, args)

        dramatiq.Actor(
            actor,
            broker=broker,
            actor_name=task,
            queue_name=QUEUE_NAME,
            priority=0,
            options=dict(ACTOR_OPTIONS),
        )
