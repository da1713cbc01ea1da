"""The doorbell's storage: rings and their cooldown, who hears a ring, offers for the agent."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.accounts.roles import Role
from doorstep.accounts.store import create_user
from doorstep.cameras import store as cameras
from doorstep.cameras.models import Camera, HouseholdMember
from doorstep.doorbell import rules, service, store
from doorstep.doorbell.models import LiveSession, Ring
from doorstep.platform.bus.held import HeldFiles
from doorstep.platform.bus.memory import take_pending
from doorstep.platform.db import Database
from doorstep.platform.migrate import migrate
from doorstep.platform.types import utcnow
from doorstep.settings import Settings
from tests.doorbell.sdp import GOOD_OFFER
from tests.factories import PASSWORD
from tests.samples import tiny_jpeg


@pytest.fixture
def db(settings: Settings) -> Iterator[Session]:
    """A session on a migrated database of the parametrised backend."""
    database = Database(settings.resolved_database_url)
    migrate(database.engine)
    with database.session() as session:
        yield session
    database.dispose()


def _user(db: Session, name: str, role: Role = Role.RESIDENT) -> User:
    return create_user(
        db,
        email=f"{name}@example.org",
        password=PASSWORD,
        display_name=name.title(),
        home=None,
        cell_resolution=8,
        role=role,
    )


def _camera(db: Session, owner: User, name: str = "Front door") -> Camera:
    return cameras.add_camera(
        db, owner, name=name, position=None, requests_opt_in=False, cell_resolution=8
    )


def _member(db: Session, camera: Camera, user: User, *, live_view: bool) -> None:
    db.add(HouseholdMember(camera_id=camera.id, user_id=user.id, live_view=live_view))
    db.flush()


def _count(db: Session, model: type[object]) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_a_ring_alerts_the_owner_and_only_household_allowed_live_view(db: Session) -> None:
    ada, bob, cy = _user(db, "ada"), _user(db, "bob"), _user(db, "cy")
    camera = _camera(db, ada)
    _member(db, camera, bob, live_view=True)
    _member(db, camera, cy, live_view=False)
    take_pending(db)
    held = HeldFiles()
    pressed = service.press(db, held, camera, "button", tiny_jpeg())
    assert pressed.rang
    alerts = take_pending(db)
    assert sorted(account for account, _ in alerts) == sorted([ada.id, bob.id])
    event = alerts[0][1]
    assert event["type"] == "ring"
    assert event["ring_id"] == pressed.ring_id
    assert event["camera_name"] == "Front door"
    assert event["snapshot"] == f"/api/v1/rings/{pressed.ring_id}/snapshot"
    assert event["e2e"] is False
    assert held.get(f"ring-{pressed.ring_id}") == tiny_jpeg()


def test_presses_within_the_cooldown_are_one_ring_and_one_alert(db: Session) -> None:
    ada = _user(db, "ada")
    camera = _camera(db, ada)
    held = HeldFiles()
    start = utcnow()
    first = service.press(db, held, camera, "button", None, now=start)
    take_pending(db)
    for seconds in (0.2, 1, 5, 9.9):
        again = service.press(
            db, held, camera, "button", None, now=start + timedelta(seconds=seconds)
        )
        assert (again.ring_id, again.rang) == (first.ring_id, False)
    assert take_pending(db) == []
    assert _count(db, Ring) == 1
    later = service.press(db, held, camera, "mqtt", None, now=start + rules.RING_COOLDOWN)
    assert later.rang
    assert later.ring_id != first.ring_id
    assert len(take_pending(db)) == 1
    assert store.last_ring(db, camera.id).id == later.ring_id  # type: ignore[union-attr]


def test_rings_are_per_camera(db: Session) -> None:
    ada = _user(db, "ada")
    front, back = _camera(db, ada), _camera(db, ada, "Back door")
    held = HeldFiles()
    assert service.press(db, held, front, "button", None).rang
    assert service.press(db, held, back, "button", None).rang


def _offer(db: Session, camera: Camera, user: User, at_offset: float = 0) -> LiveSession:
    return store.add_session(
        db,
        camera_id=camera.id,
        user_id=user.id,
        ring_id=None,
        offer_sdp=GOOD_OFFER,
        audio=False,
        now=utcnow() + timedelta(seconds=at_offset),
    )


def test_the_agent_sees_offers_it_has_not_taken_up_and_not_expired(db: Session) -> None:
    ada = _user(db, "ada")
    camera, other = _camera(db, ada), _camera(db, ada, "Garage")
    stale = _offer(db, camera, ada, at_offset=-60)
    taken = _offer(db, camera, ada, at_offset=-2)
    fresh = _offer(db, camera, ada)
    elsewhere = _offer(db, other, ada)
    answered = _offer(db, camera, ada)
    store.apply(answered, rules.answer(answered.rule(), "v=0", utcnow()))
    waiting = store.offered_to(db, camera.id, utcnow(), [taken.id])
    assert [row.id for row in waiting] == [fresh.id]
    mine = {row.id for row in store.of_camera(db, camera.id, [stale.id, elsewhere.id, "nope"])}
    assert mine == {stale.id}


def test_removing_a_camera_removes_its_rings_and_sessions(db: Session) -> None:
    ada = _user(db, "ada")
    camera = _camera(db, ada)
    service.press(db, HeldFiles(), camera, "button", None)
    _offer(db, camera, ada)
    db.delete(camera)
    db.flush()
    assert (_count(db, Ring), _count(db, LiveSession)) == (0, 0)


def test_live_view_is_off_for_a_new_household_member(db: Session) -> None:
    ada, bob = _user(db, "ada"), _user(db, "bob")
    camera = _camera(db, ada)
    cameras.join_household(db, camera, bob)
    assert cameras.live_viewer_ids(db, camera.id) == []
    cameras.set_live_view(db, camera, bob.id, True)
    assert cameras.live_viewer_ids(db, camera.id) == [bob.id]


def test_two_presses_at_once_are_one_ring(settings: Settings) -> None:
    database = Database(settings.resolved_database_url)
    migrate(database.engine)
    with database.session() as db:
        camera_id = _camera(db, _user(db, "ada")).id

    def press_once(_: int) -> bool:
        with database.session() as db:
            camera = db.get(Camera, camera_id)
            assert camera is not None
            return service.press(db, HeldFiles(), camera, "button", None).rang

    try:
        with ThreadPoolExecutor(4) as pool:
            rang = list(pool.map(press_once, range(4)))
    finally:
        with database.session() as db:
            rings = _count(db, Ring)
        database.dispose()
    assert (rang.count(True), rings) == (1, 1)
