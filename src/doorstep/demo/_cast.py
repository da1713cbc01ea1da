"""The people and places of the demo's record: accounts, departments, cameras by distance."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy.orm import Session

from doorstep.accounts import service as accounts
from doorstep.accounts.models import User
from doorstep.agencies import service as agencies
from doorstep.agencies.models import Agency
from doorstep.cameras.models import Camera
from doorstep.demo._story import Cast, DemoAgency
from doorstep.geo.cells import Coordinates, distance_m
from doorstep.platform.http.state import AppState
from doorstep.platform.security import hash_password, new_secret


def cast_of(db: Session, emails: Sequence[str]) -> Cast:
    """The ids of the demo owner, the officer and the two reviewers, given their emails."""
    ids = [account_by_email(db, email).id for email in emails]
    owner, officer, reviewer, second_reviewer = ids
    return Cast(owner, officer, reviewer, second_reviewer)


def user_by_id(db: Session, user_id: str) -> User:
    """An account the demo made, by id."""
    user = accounts.find_user(db, user_id)
    assert user is not None
    return user


def account_by_email(db: Session, email: str) -> User:
    """The account with this email, which the demo made earlier."""
    user = accounts.find_user_by_email(db, email)
    if user is None:
        raise LookupError(f"the demo has no account {email}")
    return user


# --- agencies ------------------------------------------------------------------------------------


def verified_agency(
    db: Session, state: AppState, spec: DemoAgency, centre: Coordinates, reviewer: User
) -> Agency:
    """The department, applied for by its chief and verified by a reviewer."""
    found = agencies.agency_named(db, spec.name)
    if found is not None:
        return found
    resolution = state.settings.public_cell_resolution
    chief = accounts.find_user_by_email(db, spec.chief_email)
    if chief is None:
        # Not a demo login: like the neighbourhood's residents, a password nobody knows.
        (chief,) = accounts.add_residents(
            db,
            [accounts.NewResident(spec.chief_email, spec.chief_name)],
            password_hash=_unknown_password(),
            cell_resolution=resolution,
        )
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


def agency_named(db: Session, name: str) -> Agency:
    """A department the demo made, by name."""
    agency = agencies.agency_named(db, name)
    if agency is None:
        raise LookupError(f"the demo has no agency {name}")
    return agency


def camera_named(owner: User, name: str | None = None) -> Camera:
    """The owner's camera with this name, or the first by name."""
    cameras = sorted(owner.cameras, key=lambda camera: camera.name)
    return next(camera for camera in cameras if name is None or camera.name == name)


def by_distance(db: Session, owner_ids: Sequence[str], point: Coordinates) -> list[User]:
    """Owners ordered by how near their nearest camera is to ``point`` (then by email)."""
    ranked = []
    for owner_id in owner_ids:
        owner = user_by_id(db, owner_id)
        nearest = min(
            distance_m(point, Coordinates(camera.lat, camera.lon))
            for camera in owner.cameras
            if camera.lat is not None and camera.lon is not None
        )
        ranked.append((nearest, owner.email, owner))
    return [owner for _, _, owner in sorted(ranked, key=lambda item: (item[0], item[1]))]
