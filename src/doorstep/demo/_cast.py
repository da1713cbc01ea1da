"""The people and places of the demo's record: accounts, departments, cameras by distance."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.accounts.roles import Role
from doorstep.agencies import service as agencies
from doorstep.agencies.models import Agency
from doorstep.cameras.models import Camera
from doorstep.demo._story import Cast, DemoAgency
from doorstep.geo.cells import Coordinates, distance_m
from doorstep.platform.http.state import AppState
from doorstep.platform.security import hash_password, new_secret


def _cast(db: Session, emails: Sequence[str]) -> Cast:
    ids = [db.scalars(select(User.id).where(User.email == email)).one() for email in emails]
    owner, officer, reviewer, second_reviewer = ids
    return Cast(owner, officer, reviewer, second_reviewer)


def _user(db: Session, user_id: str) -> User:
    user = db.get(User, user_id)
    assert user is not None
    return user


# --- agencies ------------------------------------------------------------------------------------


def _agency(
    db: Session, state: AppState, spec: DemoAgency, centre: Coordinates, reviewer: User
) -> Agency:
    """The department, applied for by its chief and verified by a reviewer."""
    found = db.scalar(select(Agency).where(Agency.name == spec.name))
    if found is not None:
        return found
    resolution = state.settings.public_cell_resolution
    chief = db.scalar(select(User).where(User.email == spec.chief_email))
    if chief is None:
        # Not a demo login: like the neighbourhood's residents, a password nobody knows.
        chief = User(
            email=spec.chief_email,
            password_hash=_unknown_password(),
            display_name=spec.chief_name,
            role=Role.RESIDENT.value,
        )
        db.add(chief)
        db.flush()
    agency = agencies.apply(
        db,
        chief,
        name=spec.name,
        kind=spec.kind.value,
        jurisdiction=spec.jurisdiction(centre),
        contact=spec.contact,
        cell_resolution=resolution,
    )
    return agencies.decide(db, agency.id, reviewer, verify=True)


@functools.cache
def _unknown_password() -> str:
    """One hash of a random password, for accounts nobody logs in to (hashing is slow)."""
    return hash_password(new_secret())


def _agency_named(db: Session, name: str) -> Agency:
    return db.scalars(select(Agency).where(Agency.name == name)).one()


def _camera(owner: User, name: str | None = None) -> Camera:
    cameras = sorted(owner.cameras, key=lambda camera: camera.name)
    return next(camera for camera in cameras if name is None or camera.name == name)


def _by_distance(db: Session, owner_ids: Sequence[str], point: Coordinates) -> list[User]:
    """Owners ordered by how near their nearest camera is to ``point`` (then by email)."""
    ranked = []
    for owner_id in owner_ids:
        owner = db.get(User, owner_id)
        assert owner is not None
        nearest = min(
            distance_m(point, Coordinates(camera.lat, camera.lon))
            for camera in owner.cameras
            if camera.lat is not None and camera.lon is not None
        )
        ranked.append((nearest, owner.email, owner))
    return [owner for _, _, owner in sorted(ranked, key=lambda item: (item[0], item[1]))]
