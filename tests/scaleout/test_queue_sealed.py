"""Jobs on the broker are sealed: a Redis client reads no argument and plants no job."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import redis
from dramatiq.message import Message

from doorstep.platform.blobs import LocalBlobStore
from doorstep.platform.keys import Keys
from doorstep.platform.queue.core import TASKS, BrokerQueue, JobContext, JobQueue
from doorstep.settings import Environment, Settings

PROBE = "sealed_probe"
SECRET_WORDS = "Someone is at the Front door"
ran: list[tuple[str, ...]] = []


def _probe(context: JobContext, jobs: JobQueue, args: tuple[str, ...]) -> object:
    del context, jobs
    ran.append(args)
    return None


TASKS.register(PROBE, _probe)


def _stored_messages(queue_url: str) -> list[Message[object]]:
    client = redis.Redis.from_url(queue_url)
    try:
        found = []
        for key in client.keys("dramatiq:*.msgs"):
            found += [
                Message.decode(raw if isinstance(raw, bytes) else raw.encode())
                for raw in client.hvals(key)
            ]
        return found
    finally:
        client.close()


def test_a_job_on_the_broker_is_sealed_and_a_planted_one_is_dropped(
    queue_url: str, tmp_path: Path
) -> None:
    master = secrets.token_bytes(32)
    settings = Settings(env=Environment.TEST, data_dir=tmp_path, queue_url=queue_url)
    context = JobContext(db=None, keys=Keys(master, LocalBlobStore(tmp_path), tmp_path))  # type: ignore[arg-type]
    jobs = BrokerQueue(settings, master)
    try:
        jobs.send(PROBE, "account-1", SECRET_WORDS)
        (message,) = [m for m in _stored_messages(queue_url) if m.actor_name == PROBE]
        assert SECRET_WORDS not in repr(message.args)
        assert "account-1" not in repr(message.args)

        ran.clear()
        jobs.run(context, PROBE, tuple(message.args))
        assert ran == [("account-1", SECRET_WORDS)]

        # Planted in the clear, sealed under another key, or moved to another task: dropped.
        other = BrokerQueue(settings, secrets.token_bytes(32))
        forged = (base64.b64encode(b"\x00" * 40).decode(),)
        for planted in (("account-1", "hello"), forged):
            assert jobs.run(context, PROBE, planted) is None
        other.send(PROBE, "account-2", "planted")
        other.close()
        stored = [m for m in _stored_messages(queue_url) if m.actor_name == PROBE]
        for candidate in stored:
            jobs.run(context, PROBE, tuple(candidate.args))
        assert ("account-2", "planted") not in ran
        assert ran == [("account-1", SECRET_WORDS)] * 2
    finally:
        jobs.close()
