"""Agencies storage: targeting by cell, counts without declines, share expiry, frozen RFAs."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.accounts.roles import Role
from doorstep.agencies import store as agency_store
from doorstep.agencies.models import Agency
from doorstep.cameras.models import Camera
from doorstep.geo.cells import Coordinates, public_cell
from doorstep.platform.blobs import LocalBlobStore
from doorstep.platform.db import Database
from doorstep.platform.keys import Keys
from doorstep.platform.migrate import migrate
from doorstep.platform.types import utcnow
from doorstep.requests import store as agencies
from doorstep.requests.jobs import sweep_expired_shares
from doorstep.requests.models import Rfa, RfaRecipient, Share
from doorstep.requests.rules import Circle, RfaDraft
from doorstep.settings import Settings

JURISDICTION = {
    "type": "Polygon",
    "coordinates": [
        [[-122.72, 45.49], [-122.60, 45.49], [-122.60, 45.57], [-122.72, 45.57], [-122.72, 45.49]]
    ],
}
CENTRE = Coordinates(45.5236, -122.6771)
#: Metres per degree of latitude, near enough for placing cameras around the centre.
M_PER_DEG = 111_195.0


@pytest.fixture
def db(settings: Settings) -> Iterator[Session]:
    database = Database(settings.resolved_database_url)
    migrate(database.engine)
    with database.session() as session:
        yield session
    database.dispose()


def _user(db: Session, email: str, role: Role = Role.RESIDENT) -> User:
    user = User(email=email, password_hash="x", display_name=email[:5], role=role.value)
    db.add(user)
    db.flush()
    return user


def _camera(db: Session, owner: User, north_m: float, *, opt_in: bool = True) -> Camera:
    lat = CENTRE.lat + north_m / M_PER_DEG
    camera = Camera(
        owner_id=owner.id,
        name="Porch",
        lat=lat,
        lon=CENTRE.lon,
        cell=public_cell(Coordinates(lat, CENTRE.lon), 8),
        requests_opt_in=opt_in,
        motion_zones=[],
        privacy_zones=[],
    )
    db.add(camera)
    db.flush()
    return camera


def _agency(db: Session) -> tuple[Agency, User]:
    chief = _user(db, "chief@ppb.example")
    agency = agency_store.apply(
        db,
        chief,
        name="Portland Police Bureau",
        kind="law_enforcement",
        jurisdiction=JURISDICTION,
        contact="records@ppb.example",
        cell_resolution=8,
    )
    agency_store.decide(db, agency.id, _user(db, "admin@example.org", Role.ADMIN), verify=True)
    return agency, chief


def _rfa(db: Session, agency: Agency, author: User, radius_m: float = 300) -> Rfa:
    now = utcnow()
    draft = RfaDraft(
        case_number="PPB-1",
        incident_type="Burglary",
        offence_category="burglary",
        description="A side door was forced.",
        area=Circle(CENTRE, radius_m),
        start=now - timedelta(hours=2),
        end=now - timedelta(minutes=1),
    )
    rfa, _checked = agencies.create_rfa(db, agency, author, draft, cell_resolution=8)
    return rfa


def test_cameras_are_targeted_by_public_cell_alone(db: Session) -> None:
    agency, chief = _agency(db)
    rfa = _rfa(db, agency, chief, radius_m=150)
    cells = set(rfa.cells)
    # Walk north from the centre: the first camera outside the circle whose cell the request
    # reaches is asked all the same, and the first whose cell it does not reach is not.
    north = list(range(160, 3000, 10))
    beyond = next(m for m in north if _cell_at(m) in cells)
    apart = next(m for m in north if _cell_at(m) not in cells)
    near, far, opted_out = (_user(db, f"{n}@example.org") for n in ("near", "far", "no"))
    kept = _camera(db, near, beyond)
    _camera(db, far, apart)
    _camera(db, opted_out, 0, opt_in=False)
    found = agencies.select_recipients(db, rfa.cells)
    assert found == {near.id: [kept.id]}
    assert agencies.ask_owners(db, rfa) == [near.id]


def _cell_at(north_m: float) -> str:
    return public_cell(Coordinates(CENTRE.lat + north_m / M_PER_DEG, CENTRE.lon), 8)


def test_counts_merge_declines_with_silence(db: Session) -> None:
    agency, chief = _agency(db)
    owners = [_user(db, f"o{i}@example.org") for i in range(3)]
    for owner in owners:
        _camera(db, owner, 10)
    rfa = _rfa(db, agency, chief)
    agencies.ask_owners(db, rfa)
    row = db.get(RfaRecipient, (rfa.id, owners[0].id))
    assert row is not None
    agencies.decline(db, row)
    counts = agencies.rfa_counts(db, [rfa.id])[rfa.id]
    assert counts == agencies.RfaCounts(asked=3, shared=0, clips=0)
    assert agencies.answer_state(row).value == "declined"


def test_expired_shares_lose_their_key(db: Session) -> None:
    agency, chief = _agency(db)
    owner = _user(db, "owner@example.org")
    rfa = _rfa(db, agency, chief)
    now = utcnow()
    share = Share(
        rfa_id=rfa.id,
        owner_id=owner.id,
        clip_started_at=now,
        clip_ended_at=now,
        wrapped_key=b"key",
        sha256="0" * 64,
        size=1,
        ciphertext_size=1,
        created_at=now - timedelta(days=91),
        expires_at=now - timedelta(days=1),
    )
    db.add(share)
    db.flush()
    assert agencies.locker(db, agency) == []
    assert agencies.expire_shares(db) == [share]
    assert share.wrapped_key is None
    assert share.state == "expired"


def test_a_request_is_frozen_but_can_close(db: Session) -> None:
    agency, chief = _agency(db)
    rfa = _rfa(db, agency, chief)
    agencies.close_rfa(db, rfa)
    db.flush()
    assert rfa.closed_at is not None
    with pytest.raises(Exception, match="cannot be"), db.begin_nested():
        db.execute(text("UPDATE rfas SET case_number = 'X' WHERE id = :id"), {"id": rfa.id})
    with pytest.raises(Exception, match="cannot be"), db.begin_nested():
        db.execute(text("DELETE FROM rfas WHERE id = :id"), {"id": rfa.id})
    db.execute(text("UPDATE rfas SET author_id = NULL WHERE id = :id"), {"id": rfa.id})


def test_the_camera_map_counts_only_opted_in_cameras(db: Session) -> None:
    agency, _chief = _agency(db)
    owner = _user(db, "owner@example.org")
    for index in range(5):
        _camera(db, owner, index)
    _camera(db, owner, 6, opt_in=False)
    cell = public_cell(CENTRE, 8)
    assert agency_store.camera_map(db, agency, 5) == {cell: 5}
    assert agency_store.camera_map(db, agency, 6) == {}


def test_the_sweep_shreds_expired_copies(settings: Settings, tmp_path: Path) -> None:
    database = Database(settings.resolved_database_url)
    migrate(database.engine)
    blobs = LocalBlobStore(tmp_path / "blobs")
    with database.session() as db:
        agency, chief = _agency(db)
        owner = _user(db, "owner@example.org")
        rfa = _rfa(db, agency, chief)
        now = utcnow()
        share = Share(
            rfa_id=rfa.id,
            owner_id=owner.id,
            clip_started_at=now,
            clip_ended_at=now,
            wrapped_key=b"key",
            sha256="1" * 64,
            size=1,
            ciphertext_size=1,
            created_at=now - timedelta(days=91),
            expires_at=now - timedelta(days=1),
        )
        db.add(share)
        db.flush()
        blob_key = share.blob_key
    blobs.put(blob_key, io.BytesIO(b"sealed"))
    assert (
        sweep_expired_shares(
            database, Keys(master=b"m" * 32, blobs=blobs, scratch=tmp_path / "work")
        )
        == 1
    )
    assert list((tmp_path / "blobs").rglob("*.sealed")) == []
    database.dispose()
