"""The cameras' use cases: add, pair, settings, end-to-end encryption, household, removal.

Routes and pages call these; only they reach ``cameras.store``. A camera agent's own calls
(pairing, heartbeats, uploads) are in ``service_device.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.accounts.schemas import HomeLocation
from doorstep.cameras import store
from doorstep.cameras.models import Camera, HouseholdMember
from doorstep.cameras.rules import check_alert_mode, rules_for
from doorstep.cameras.schemas import (
    CLEARABLE,
    CameraPrivate,
    CameraUpdate,
    HouseholdMemberPublic,
    PairingCodePublic,
)
from doorstep.cameras.service_device import device_key
from doorstep.clips import service as clips
from doorstep.clips.rules_objects import KINDS, kind_days
from doorstep.doorbell.rules import live_access
from doorstep.errors import Conflict, InvalidInput, NotFound
from doorstep.geo.cells import Coordinates, public_cell
from doorstep.invitations import store as invitations
from doorstep.invitations.models import Invitation
from doorstep.invitations.store import Invited
from doorstep.platform.bus.live import LiveHub
from doorstep.platform.bus.memory import notify_after_commit
from doorstep.platform.bus.mqtt import SharedLive
from doorstep.platform.keys import Keys
from doorstep.platform.types import utcnow
from doorstep.transparency import service_receipts as receipts


def is_online(camera: Camera) -> bool:
    """Whether the camera's agent sent a heartbeat recently."""
    return store.is_online(camera)


def camera_private(camera: Camera) -> CameraPrivate:
    """The owner's view of a camera."""
    position = None
    if camera.lat is not None and camera.lon is not None:
        position = HomeLocation(lat=camera.lat, lon=camera.lon)
    return CameraPrivate(
        id=camera.id,
        name=camera.name,
        position=position,
        online=store.is_online(camera),
        paired=camera.paired_at is not None,
        last_seen_at=camera.last_seen_at,
        motion_zones=camera.motion_zones,
        privacy_zones=camera.privacy_zones,
        audio_enabled=camera.audio_enabled,
        alert_mode=check_alert_mode(camera.alert_mode),
        quiet_start=camera.quiet_start,
        quiet_end=camera.quiet_end,
        time_zone=camera.time_zone,
        retention_days=camera.retention_days,
        detection_zones=camera.detection_zones,
        object_rules=rules_for(camera.object_rules),
        ignore_stationary=camera.ignore_stationary,
        detection_retention_days=camera.detection_retention_days,
        motion_retention_days=camera.motion_retention_days,
        requests_opt_in=camera.requests_opt_in,
        indoor=camera.indoor,
        e2e_enabled=camera.e2e_enabled,
        e2e_salt=camera.e2e_salt,
        e2e_check=camera.e2e_check,
        config_version=camera.config_version,
    )


def list_cameras(owner: User) -> list[CameraPrivate]:
    """The owner's cameras."""
    return [camera_private(camera) for camera in owner.cameras]


def add_camera(
    db: Session,
    owner: User,
    *,
    name: str,
    position: Coordinates | None,
    requests_opt_in: bool,
    cell_resolution: int,
) -> Camera:
    """Add a camera; its agent is paired next, with a code."""
    return store.add_camera(
        db,
        owner,
        name=name,
        position=position,
        requests_opt_in=requests_opt_in,
        cell_resolution=cell_resolution,
    )


def owned_camera(db: Session, owner: User, camera_id: str) -> Camera:
    """One of the owner's cameras, or NotFound."""
    return store.owned_camera(db, owner, camera_id)


def live_view_camera(db: Session, user: User, camera_id: str) -> Camera:
    """A camera ``user`` may see live and answer: theirs, or one whose owner allowed them.

    The same rule as the doorbell's signalling routes, so the live page never opens for someone
    the API would then refuse: NotFound for anyone outside the household, Forbidden for a
    household member without live view.
    """
    camera = store.find_camera(db, camera_id)
    if camera is None:
        raise NotFound("no such camera")
    is_owner = camera.owner_id == user.id
    member = None if is_owner else store.household_member(db, camera.id, user.id)
    live_access(
        is_owner=is_owner,
        role=user.role,
        household=member is not None,
        live_view=bool(member is not None and member.live_view),
    )
    return camera


def update_camera(db: Session, owner: User, camera_id: str, body: CameraUpdate) -> CameraPrivate:
    """Change zones, what to detect, audio, alerts, quiet hours, retention or request opt-in."""
    camera = store.owned_camera(db, owner, camera_id)
    # null leaves a setting as it is, like leaving it out; only quiet hours are cleared by null.
    changes: dict[str, Any] = {
        name: value
        for name, value in body.model_dump(exclude_unset=True).items()
        if value is not None or name in CLEARABLE
    }
    before = _kept_days(camera)
    camera = store.update_settings(db, camera, changes)
    _retention_follows(db, camera, before)
    return camera_private(camera)


def _kept_days(camera: Camera) -> dict[str, int]:
    """How many days the camera keeps each kind of clip."""
    return {
        kind: kind_days(
            kind,
            retention_days=camera.retention_days,
            detection_days=camera.detection_retention_days,
            motion_days=camera.motion_retention_days,
        )
        for kind in KINDS
    }


def _retention_follows(db: Session, camera: Camera, before: dict[str, int]) -> None:
    # Only the kinds whose days changed move: a save that leaves them (a rename, say) writes
    # no clip.
    after = _kept_days(camera)
    changed = [kind for kind in KINDS if after[kind] != before[kind]]
    if changed:
        clips.apply_retention(db, camera, changed)


def save_settings(db: Session, camera: Camera, changes: dict[str, Any]) -> None:
    """Apply every change or none: a refused one leaves the camera as it was."""
    before = _kept_days(camera)
    try:
        with db.begin_nested():
            store.update_settings(db, camera, changes)
            _retention_follows(db, camera, before)
    except InvalidInput:
        db.refresh(camera)
        raise


def enable_e2e(db: Session, owner: User, camera_id: str, salt: str, check: str) -> CameraPrivate:
    """Turn on end-to-end encryption; it cannot be turned off again for this camera."""
    camera = store.owned_camera(db, owner, camera_id)
    return camera_private(store.enable_e2e(camera, salt, check))


def new_pairing_code(db: Session, camera: Camera) -> str:
    """A new one-time pairing code; an agent already paired keeps working until re-paired."""
    return store.new_pairing_code(db, camera)


def pairing_code(db: Session, owner: User, camera_id: str) -> PairingCodePublic:
    """A new one-time pairing code for one of the owner's cameras, and how long it lasts."""
    code = store.new_pairing_code(db, store.owned_camera(db, owner, camera_id))
    return PairingCodePublic(code=code, expires_in_seconds=int(store.PAIRING_TTL.total_seconds()))


def remove_camera(db: Session, keys: Keys, owner: User, camera_id: str) -> None:
    """Remove one of the owner's cameras and shred all its clips."""
    camera = store.owned_camera(db, owner, camera_id)
    clips.shred_all(db, keys, list(camera.clips))
    # The shredded clips are gone; reload the collection so the cascade does not delete them twice.
    db.expire(camera, ["clips"])
    db.delete(camera)
    receipts.camera_removed(db, keys.master, owner.id, camera_id)


def household(db: Session, owner: User, camera_id: str) -> list[HouseholdMemberPublic]:
    """Who may view this camera's clips besides the owner."""
    camera = store.owned_camera(db, owner, camera_id)
    return [_member(row) for row in store.household(db, camera)]


def _member(row: HouseholdMember) -> HouseholdMemberPublic:
    return HouseholdMemberPublic(
        user_id=row.user_id,
        display_name=row.user.display_name,
        email=row.user.email,
        added_at=row.added_at,
        live_view=row.live_view,
    )


def set_live_view(
    db: Session, owner: User, camera_id: str, user_id: str, live_view: bool
) -> HouseholdMemberPublic:
    """Allow or stop a household member seeing the camera live and answering its rings."""
    camera = store.owned_camera(db, owner, camera_id)
    return _member(store.set_live_view(db, camera, user_id, live_view))


def lock_camera(db: Session, camera: Camera) -> None:
    """Hold the camera's row for the rest of the transaction (two presses at once are one)."""
    store.lock_camera(db, camera)


def household_member(db: Session, camera_id: str, user_id: str) -> HouseholdMember | None:
    """Whether (and how) ``user_id`` is in the household of ``camera_id``."""
    return store.household_member(db, camera_id, user_id)


def live_viewer_ids(db: Session, camera_id: str) -> list[str]:
    """Household members the owner allowed to see the camera live and hear its rings."""
    return store.live_viewer_ids(db, camera_id)


def may_call_any(db: Session, user_id: str) -> bool:
    """Whether ``user_id`` may see at least one camera live (owner, or household allowed)."""
    return store.may_call_any(db, user_id)


def invite_household(db: Session, owner: User, camera_id: str, email: str) -> Invited:
    """Invite someone to view (not share or delete) this camera's clips, if they accept."""
    camera = store.owned_camera(db, owner, camera_id)
    return invitations.invite_to_household(db, camera, owner, email)


def household_invitations(db: Session, owner: User, camera_id: str) -> list[Invitation]:
    """Household invitations still waiting for an answer."""
    return invitations.pending_for_camera(db, store.owned_camera(db, owner, camera_id))


def withdraw_household_invitation(
    db: Session, owner: User, camera_id: str, invitation_id: str
) -> None:
    """Take back a household invitation nobody has answered."""
    camera = store.owned_camera(db, owner, camera_id)
    invitations.withdraw(db, invitation_id, camera=camera)


def revoke_household(db: Session, owner: User, camera_id: str, user_id: str) -> None:
    """Stop a household member viewing this camera."""
    store.remove_household_member(db, store.owned_camera(db, owner, camera_id), user_id)


def live_camera(db: Session, owner: User, camera_id: str, live: LiveHub | SharedLive) -> str:
    """Start the owner's MJPEG live view of a camera; refused end to end.

    The wish to watch is made now, and the camera's agent, waiting in its long-poll, is woken
    once this commits: it finds the wish and starts sending frames.
    """
    camera = store.owned_camera(db, owner, camera_id)
    if camera.e2e_enabled:
        raise Conflict(
            "MJPEG live view is not available for an end-to-end encrypted camera: its pictures "
            "would have to pass through the server unencrypted"
        )
    live.want(camera.id)
    notify_after_commit(db, device_key(camera.id), {"type": "mjpeg"})
    return camera.id


# --- cameras already paired: the demo neighbourhood's --------------------------------------------


@dataclass(frozen=True, slots=True)
class Placement:
    """A camera that is already paired and online: whose, its name, where, and its opt-in."""

    owner_id: str
    name: str
    position: Coordinates
    requests_opt_in: bool


def add_paired_cameras(
    db: Session, placements: Sequence[Placement], *, cell_resolution: int
) -> list[Camera]:
    """Add cameras whose agents are paired and have just been seen, in order, without codes."""
    cameras = [
        Camera(
            owner_id=placement.owner_id,
            name=placement.name,
            lat=placement.position.lat,
            lon=placement.position.lon,
            cell=public_cell(placement.position, cell_resolution),
            requests_opt_in=placement.requests_opt_in,
            motion_zones=[],
            privacy_zones=[],
            last_seen_at=utcnow(),
            paired_at=utcnow(),
        )
        for placement in placements
    ]
    return store.add_cameras(db, cameras)


def find_camera(db: Session, camera_id: str) -> Camera | None:
    """A camera by id, whoever owns it, or None."""
    return store.find_camera(db, camera_id)


def camera_owner_ids(db: Session) -> list[str]:
    """Every account that has at least one camera, once each."""
    return store.owner_ids(db)
