"""A token's last use and a camera's last sign of life: kept current, not written per request."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from doorstep.accounts import store as accounts
from doorstep.accounts.models import ApiToken
from doorstep.accounts.store import LAST_USED_RESOLUTION, create_user, token_for
from doorstep.cameras import store as cameras
from doorstep.cameras.models import Camera
from doorstep.cameras.store import SEEN_RESOLUTION, heartbeat
from doorstep.geo.cells import Coordinates
from doorstep.platform.db import Database
from doorstep.platform.types import utcnow
from tests.factories import PASSWORD

HOME = Coordinates(45.5231, -122.6765)


def _paired(database: Database) -> tuple[str, str]:
    """A camera paired with its agent: the camera's id and the device token's secret."""
    with database.session() as db:
        owner = create_user(
            db,
            email="ada@example.org",
            password=PASSWORD,
            display_name="Ada",
            home=HOME,
            cell_resolution=9,
        )
        camera = cameras.add_camera(
            db, owner, name="Porch", position=None, requests_opt_in=False, cell_resolution=9
        )
        _, secret = cameras.pair(db, cameras.new_pairing_code(db, camera), "1.0")
        return camera.id, secret


def _updates(db: Session) -> list[str]:
    """Every UPDATE the session sends, recorded as it goes."""
    sent: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE"):
            sent.append(statement)

    event.listen(db.get_bind(), "before_cursor_execute", record)
    return sent


def _at(monkeypatch: pytest.MonkeyPatch, module: object, when: datetime) -> None:
    monkeypatch.setattr(module, "utcnow", lambda: when)


def test_a_token_used_again_within_the_minute_is_not_rewritten(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, secret = _paired(database)
    start = utcnow()
    _at(monkeypatch, accounts, start)
    with database.session() as db:
        assert token_for(db, secret).last_used_at == start
    # Seconds later: the stored minute still holds, and no UPDATE is sent for it.
    _at(monkeypatch, accounts, start + LAST_USED_RESOLUTION - timedelta(seconds=1))
    with database.session() as db:
        updates = _updates(db)
        assert token_for(db, secret).last_used_at == start
        db.flush()
        assert not [u for u in updates if "api_tokens" in u]
    # A minute on, the next use is recorded.
    later = start + LAST_USED_RESOLUTION
    _at(monkeypatch, accounts, later)
    with database.session() as db:
        token_for(db, secret)
    with database.session() as db:
        stored = db.query(ApiToken).filter(ApiToken.camera_id.is_not(None)).one()
        assert stored.last_used_at == later


def test_a_camera_seen_again_within_seconds_is_not_rewritten(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    camera_id, _ = _paired(database)
    start = utcnow() + timedelta(minutes=1)
    _at(monkeypatch, cameras, start)
    with database.session() as db:
        heartbeat(db.get_one(Camera, camera_id), None)
    with database.session() as db:
        updates = _updates(db)
        camera = db.get_one(Camera, camera_id)
        assert camera.last_seen_at == start
        _at(monkeypatch, cameras, start + SEEN_RESOLUTION - timedelta(milliseconds=1))
        heartbeat(camera, "1.0")
        db.flush()
        assert not [u for u in updates if "cameras" in u]
        # A new agent version is written at once, whatever the time.
        heartbeat(camera, "1.1")
        db.flush()
        assert camera.agent_version == "1.1"
        assert camera.last_seen_at == start
        assert [u for u in updates if "cameras" in u]
    later = start + SEEN_RESOLUTION
    _at(monkeypatch, cameras, later)
    with database.session() as db:
        heartbeat(db.get_one(Camera, camera_id), None)
    with database.session() as db:
        camera = db.get_one(Camera, camera_id)
        assert camera.last_seen_at == later


def test_a_camera_request_finds_its_camera_with_its_token(database: Database) -> None:
    camera_id, secret = _paired(database)
    with database.session() as db:
        sent: list[str] = []

        def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            sent.append(statement)

        event.listen(db.get_bind(), "before_cursor_execute", record)
        camera = cameras.device_camera(db, token_for(db, secret))
        assert camera.id == camera_id
        # One query for the token, its owner and its camera, not one more for the camera.
        assert len([s for s in sent if s.lstrip().upper().startswith("SELECT")]) == 1
