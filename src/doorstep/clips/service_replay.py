"""Server-sent events a page missed: each account event gets an id, and is kept a few minutes.

Every event published to an account (``platform.bus.memory.notify_after_commit`` and its echo)
is written to ``account_events`` in the same transaction, and its row id travels with it as
``seq``: the id a page's ``EventSource`` sees and sends back as ``Last-Event-ID`` when it
reconnects. The ids come from the database, not from a process, so they hold when pages and
uploads land on different API processes behind a balancer (the MQTT bus carries ``seq`` too).
On reconnecting, a page is sent the account's events after that id (the newest ``REPLAY_MAX``
of the last ``REPLAY_WINDOW``), then the live ones; an id that is not a number replays nothing.

Ids are allocated in the order transactions insert, which under concurrent commits can differ
from the order they commit: a page may then see 11 before 10, and one that drops between the
two and resumes from 11 misses 10. An account's events older than the window are deleted when
its next one comes, and every account's by the retention sweep.
Channels that are not an account (``camera:...``, ``live-session:...``) are long-polled by
devices, not followed by pages, and are not kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.clips import _store_replay as kept
from doorstep.clips.rules import REPLAY_MAX, REPLAY_WINDOW
from doorstep.platform.types import utcnow

#: The key of an event's id in the dict the bus carries (not part of what a page is sent).
SEQ = "seq"
#: The largest Last-Event-ID taken as a number (a 64-bit row id).
_MAX_ID = 2**63 - 1


def journal(db: Session, account_id: str, event: dict[str, Any]) -> None:
    """The echo that keeps each account event and stamps it with its id (``SEQ``)."""
    if ":" in account_id or SEQ in event:
        return
    now = utcnow()
    # This account's only: two accounts' events never wait on each other's rows.
    kept.forget_before(db, now - REPLAY_WINDOW, account_id)
    event[SEQ] = kept.keep(db, account_id, dict(event), now)


def forget_old(db: Session) -> None:
    """Remove every account's events past the replay window (the retention sweep calls this)."""
    kept.forget_before(db, utcnow() - REPLAY_WINDOW)


@dataclass(frozen=True, slots=True)
class Replay:
    """What a reconnecting page is sent before the live events."""

    events: list[dict[str, Any]] = field(default_factory=list)
    #: False when the page sent a Last-Event-ID that is not one of ours.
    understood: bool = True


def missed(db: Session, user: User, last_event_id: str | None) -> Replay:
    """The user's events after ``last_event_id`` (the header a reconnecting browser sends)."""
    if last_event_id is None:
        return Replay()
    text = last_event_id.strip()
    if not (len(text) <= 19 and text.isascii() and text.isdigit() and int(text) <= _MAX_ID):
        return Replay(understood=False)
    since = utcnow() - REPLAY_WINDOW
    rows = kept.after(db, user.id, int(text), since, REPLAY_MAX)
    return Replay([{**row.event, SEQ: row.id} for row in rows])
