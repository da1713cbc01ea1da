"""Server-sent events carry ids; a page that reconnects with Last-Event-ID gets what it missed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.clips import service_replay
from doorstep.clips.jobs import sweep_expired
from doorstep.clips.models import AccountEvent
from doorstep.clips.rules import REPLAY_WINDOW
from doorstep.platform.bus.memory import notify_after_commit, take_pending
from doorstep.platform.http.state import AppState
from doorstep.platform.types import utcnow
from tests.factories import resident

Event = tuple[int | None, dict[str, Any]]


def _publish(app: FastAPI, account_id: str, n: int) -> None:
    """An account event as a use case sends one: kept with its transaction, told after it."""
    state: AppState = app.state.doorstep
    with state.db.session() as db:
        notify_after_commit(db, account_id, {"type": "note", "n": n})
    for account, event in take_pending(db):
        state.bus.publish(account, event)


def _events(lines: Iterator[str]) -> Iterator[Event]:
    """The stream's events as (id, data), comments and the retry hint skipped."""
    data: dict[str, Any] | None = None
    seq: int | None = None
    for line in lines:
        if line.startswith("data: "):
            data = json.loads(line.removeprefix("data: "))
        elif line.startswith("id: "):
            seq = int(line.removeprefix("id: "))
        elif not line and data is not None:
            yield seq, data
            data, seq = None, None


def _me(client: TestClient) -> str:
    me: str = client.get("/api/v1/me").json()["id"]
    return me


def test_a_reconnecting_page_gets_exactly_what_it_missed_in_order(
    app: FastAPI, client: TestClient
) -> None:
    resident(client)
    ada = _me(client)
    with client.stream("GET", "/api/v1/events") as stream:
        lines = stream.iter_lines()
        assert next(lines) == ": connected"
        assert next(lines) == "retry: 3000"
        _publish(app, ada, 1)
        seen, first = next(_events(lines))
    assert first == {"type": "note", "n": 1}
    assert seen is not None
    for n in (2, 3, 4):
        _publish(app, ada, n)

    with client.stream("GET", "/api/v1/events", headers={"last-event-id": str(seen)}) as stream:
        events = _events(stream.iter_lines())
        missed = [next(events) for _ in range(3)]
        _publish(app, ada, 5)
        live = next(events)
    assert [data for _, data in missed] == [{"type": "note", "n": n} for n in (2, 3, 4)]
    ids = [seq or 0 for seq, _ in missed + [live]]
    assert 0 < seen < ids[0] < ids[1] < ids[2] < ids[3]
    # Live again, and nothing replayed comes a second time.
    assert live[1] == {"type": "note", "n": 5}


def test_no_page_ever_gets_another_accounts_events(app: FastAPI, client: TestClient) -> None:
    with TestClient(app) as other:
        resident(other, "eve@example.org", display_name="Eve")
        eve = _me(other)
    resident(client)
    ada = _me(client)
    _publish(app, ada, 1)
    _publish(app, eve, 666)
    _publish(app, ada, 2)
    # Resuming from before Eve's event, as a forged id might: only Ada's own come. (A page that
    # had to open a new EventSource sends the id as a parameter.)
    with client.stream("GET", "/api/v1/events", params={"last_event_id": "0"}) as stream:
        events = _events(stream.iter_lines())
        replayed = [next(events) for _ in range(2)]
        _publish(app, ada, 3)
        live = next(events)
    assert [data["n"] for _, data in replayed] == [1, 2]
    assert live[1]["n"] == 3


def test_a_garbage_last_event_id_replays_nothing_and_says_so(
    app: FastAPI, client: TestClient
) -> None:
    resident(client)
    ada = _me(client)
    _publish(app, ada, 1)
    for garbage in ("abc", "-1", "9" * 400, "1e3", "١٢"):
        with client.stream(
            "GET", "/api/v1/events", headers={b"last-event-id": garbage.encode()}
        ) as stream:
            assert stream.status_code == 200
            lines = stream.iter_lines()
            assert [next(lines) for _ in range(4)] == [
                ": connected",
                "retry: 3000",
                "",
                ": Last-Event-ID not understood; only new events follow",
            ]
            _publish(app, ada, 2)
            assert next(_events(lines))[1] == {"type": "note", "n": 2}


def test_events_older_than_the_window_are_forgotten(app: FastAPI, client: TestClient) -> None:
    resident(client)
    ada = _me(client)
    _publish(app, ada, 1)
    state: AppState = app.state.doorstep
    with state.db.session() as db:
        for row in db.query(AccountEvent).all():
            row.created_at = utcnow() - REPLAY_WINDOW * 2
    _publish(app, ada, 2)
    with state.db.session() as db:
        assert [row.event["n"] for row in db.query(AccountEvent).all()] == [2]
    with client.stream("GET", "/api/v1/events", headers={"last-event-id": "0"}) as stream:
        events = _events(stream.iter_lines())
        assert next(events)[1]["n"] == 2


def test_an_event_told_while_the_missed_ones_are_read_is_sent_once(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    resident(client)
    ada = _me(client)
    _publish(app, ada, 1)
    read_missed = service_replay.missed

    def racing(db: Session, user: User, last_event_id: str | None) -> service_replay.Replay:
        # Committed and told after the page subscribed, before its missed events are read: it
        # is both in the replay and in the page's live queue.
        _publish(app, ada, 2)
        return read_missed(db, user, last_event_id)

    monkeypatch.setattr(service_replay, "missed", racing)
    with client.stream("GET", "/api/v1/events", headers={"last-event-id": "0"}) as stream:
        events = _events(stream.iter_lines())
        replayed = [next(events) for _ in range(2)]
        _publish(app, ada, 3)
        after = next(events)
    assert [data["n"] for _, data in replayed] == [1, 2]
    assert after[1]["n"] == 3


def test_the_retention_sweep_forgets_the_events_of_quiet_accounts(
    app: FastAPI, client: TestClient
) -> None:
    resident(client)
    _publish(app, _me(client), 1)
    state: AppState = app.state.doorstep
    with state.db.session() as db:
        for row in db.query(AccountEvent).all():
            row.created_at = utcnow() - REPLAY_WINDOW * 2
    sweep_expired(state.db, state.keys)
    with state.db.session() as db:
        assert db.query(AccountEvent).count() == 0
