"""Cameras repository: add, pair with a one-time code, heartbeat, settings, online status."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from doorstep.accounts.models import ApiToken, User
from doorstep.accounts.roles import Role
from doorstep.cameras.models import Camera, HouseholdMember, PairingCode
from doorstep.cameras.rules import (
    check_alert_mode,
    check_time_zone,
    check_zones,
    parse_quiet_time,
    rules_for,
)
from doorstep.cameras.rules_detection import (
    check_detection_zones,
    check_kind_retention,
    check_object_rules,
)
from doorstep.clips.rules import RETENTION_CHOICES
from doorstep.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from doorstep.geo.cells import Coordinates, public_cell
from doorstep.platform.security import digest, new_api_token
from doorstep.platform.types import utcnow

PAIRING_TTL = timedelta(minutes=15)
_HEX16 = re.compile(r"[0-9a-fA-F]{32}")
_HEX32 = re.compile(r"[0-9a-fA-F]{64}")
#: A camera is online while its last heartbeat is this recent.
ONLINE_WINDOW = timedelta(seconds=45)
#: How stale ``last_seen_at`` may be before a sign of life writes it again.
SEEN_RESOLUTION = timedelta(seconds=5)
DEVICE_SCOPES = ["device"]
# No 0/O or 1/I/L: codes are read off a screen and typed on another device.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def _clean_name(name: str) -> str:
    value = " ".join(name.split())
    if not value or len(value) > 80:
        raise InvalidInput("name the camera (1 to 80 characters)", field="name")
    return value


def add_camera(
    db: Session,
    owner: User,
    *,
    name: str,
    position: Coordinates | None,
    requests_opt_in: bool,
    cell_resolution: int,
) -> Camera:
    """Add a camera at ``position`` (the owner's home when not given)."""
    if position is None and owner.home_lat is not None and owner.home_lon is not None:
        position = Coordinates(owner.home_lat, owner.home_lon)
    camera = Camera(
        owner_id=owner.id,
        name=_clean_name(name),
        lat=position.lat if position else None,
        lon=position.lon if position else None,
        cell=public_cell(position, cell_resolution) if position else None,
        requests_opt_in=requests_opt_in,
        motion_zones=[],
        privacy_zones=[],
    )
    db.add(camera)
    db.flush()
    return camera


def owned_camera(db: Session, owner: User, camera_id: str) -> Camera:
    """The owner's camera, or NotFound (never Forbidden: ids of others' cameras stay secret)."""
    camera = db.get(Camera, camera_id)
    if camera is None or camera.owner_id != owner.id:
        raise NotFound("no such camera")
    return camera


def new_pairing_code(db: Session, camera: Camera) -> str:
    """Make a one-time code for pairing; earlier unused codes of the camera stop working."""
    for old in db.scalars(select(PairingCode).where(PairingCode.camera_id == camera.id)):
        db.delete(old)
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
    code = f"{raw[:5]}-{raw[5:]}"
    db.add(
        PairingCode(
            code_hash=digest(_normalise_code(code)),
            camera_id=camera.id,
            expires_at=utcnow() + PAIRING_TTL,
        )
    )
    return code


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def pair(db: Session, code: str, agent_version: str) -> tuple[Camera, str]:
    """Exchange a pairing code for a device token; each code works once, before it expires."""
    row = db.get(PairingCode, digest(_normalise_code(code)))
    now = utcnow()
    if row is None or row.used_at is not None:
        raise NotAuthenticated("that pairing code is not valid; make a new one in Doorstep")
    if row.expires_at <= now:
        raise NotAuthenticated("that pairing code has expired; make a new one in Doorstep")
    row.used_at = now
    camera = db.get(Camera, row.camera_id)
    assert camera is not None
    # A camera has one agent: pairing again revokes the previous agent's token.
    for token in db.scalars(select(ApiToken).where(ApiToken.camera_id == camera.id)):
        token.revoked_at = token.revoked_at or now
    secret = new_api_token()
    db.add(
        ApiToken(
            user_id=camera.owner_id,
            camera_id=camera.id,
            name=f"camera: {camera.name}"[:80],
            token_hash=digest(secret),
            scopes=DEVICE_SCOPES,
        )
    )
    camera.paired_at = now
    camera.last_seen_at = now
    camera.agent_version = agent_version[:40]
    return camera, secret


def device_camera(db: Session, token: ApiToken | None) -> Camera:
    """The camera a device token belongs to."""
    if token is None or token.camera_id is None or "device" not in token.scopes:
        raise NotAuthenticated("this endpoint needs a camera's device token")
    camera = db.get(Camera, token.camera_id)
    if camera is None:
        raise NotAuthenticated("the camera of this token no longer exists")
    return camera


def heartbeat(camera: Camera, agent_version: str | None) -> None:
    """Mark the camera as seen now (to within ``SEEN_RESOLUTION``)."""
    now = utcnow()
    # Every upload is a sign of life too; a busy camera would otherwise rewrite its row on each
    # one. Seen a few seconds ago is as good as now against a 45 s online window.
    if camera.last_seen_at is None or now - camera.last_seen_at >= SEEN_RESOLUTION:
        camera.last_seen_at = now
    if agent_version and agent_version[:40] != camera.agent_version:
        camera.agent_version = agent_version[:40]


def is_online(camera: Camera, now: datetime | None = None) -> bool:
    """Whether the camera's agent sent a heartbeat recently."""
    if camera.last_seen_at is None:
        return False
    return (now or utcnow()) - camera.last_seen_at <= ONLINE_WINDOW


def update_settings(db: Session, camera: Camera, changes: dict[str, Any]) -> Camera:
    """Apply validated changes and bump the config version so the agent picks them up."""
    del db
    if "name" in changes:
        camera.name = _clean_name(changes["name"])
    if "motion_zones" in changes:
        camera.motion_zones = check_zones(changes["motion_zones"], field="motion_zones")
    if "privacy_zones" in changes:
        camera.privacy_zones = check_zones(changes["privacy_zones"], field="privacy_zones")
    if "audio_enabled" in changes:
        camera.audio_enabled = bool(changes["audio_enabled"])
    if "alert_mode" in changes:
        camera.alert_mode = check_alert_mode(changes["alert_mode"])
    if "quiet_start" in changes:
        camera.quiet_start = parse_quiet_time(changes["quiet_start"], field="quiet_start")
    if "quiet_end" in changes:
        camera.quiet_end = parse_quiet_time(changes["quiet_end"], field="quiet_end")
    if "time_zone" in changes:
        camera.time_zone = check_time_zone(changes["time_zone"])
    if "retention_days" in changes:
        days = changes["retention_days"]
        if days not in RETENTION_CHOICES:
            choices = ", ".join(str(d) for d in RETENTION_CHOICES)
            raise InvalidInput(f"keep clips for one of {choices} days", field="retention_days")
        camera.retention_days = int(days)
    _update_detection(camera, changes)
    if "requests_opt_in" in changes:
        camera.requests_opt_in = bool(changes["requests_opt_in"])
    if "indoor" in changes:
        camera.indoor = bool(changes["indoor"])
    if changes.get("e2e_enabled") is False and camera.e2e_enabled:
        raise Conflict("end-to-end encryption cannot be turned off for a camera once on")
    camera.config_version += 1
    return camera


def _update_detection(camera: Camera, changes: dict[str, Any]) -> None:
    """Named zones, rules per label and retention per kind, checked against each other."""
    if "detection_zones" in changes:
        camera.detection_zones = check_detection_zones(changes["detection_zones"])
    # Rules are checked again when zones change: a rule must not name a zone that is gone (it
    # would silently alert anywhere).
    if "object_rules" in changes or "detection_zones" in changes:
        camera.object_rules = check_object_rules(
            changes.get("object_rules", {}), camera.detection_zones, camera.object_rules
        )
    if "ignore_stationary" in changes:
        camera.ignore_stationary = bool(changes["ignore_stationary"])
    # Checked against the alerts' retention whenever either changes: neither kind outlives it.
    for field in ("detection_retention_days", "motion_retention_days"):
        if field in changes or "retention_days" in changes:
            days = changes.get(field, getattr(camera, field))
            checked = check_kind_retention(
                days, field=field, choices=RETENTION_CHOICES, alert_days=camera.retention_days
            )
            setattr(camera, field, checked)


def enable_e2e(camera: Camera, salt: str, check: str) -> Camera:
    """Turn on end-to-end encryption with the salt and check the owner's browser made."""
    if camera.e2e_enabled:
        raise Conflict("end-to-end encryption is already on for this camera")
    if not _HEX16.fullmatch(salt) or not _HEX32.fullmatch(check):
        raise InvalidInput("salt is 16 bytes and check 32 bytes, both in hex", field="salt")
    camera.e2e_enabled = True
    camera.e2e_salt, camera.e2e_check = salt.lower(), check.lower()
    camera.config_version += 1
    return camera


def agent_config(camera: Camera) -> dict[str, Any]:
    """What the agent needs to know: zones, what to detect, audio, encryption; nothing of the owner.

    Rules per label are sent whole, defaults filled in, so an agent need not know the defaults.
    """
    return {
        "camera_id": camera.id,
        "name": camera.name,
        "config_version": camera.config_version,
        "motion_zones": camera.motion_zones,
        "privacy_zones": camera.privacy_zones,
        "audio_enabled": camera.audio_enabled,
        "detection_zones": camera.detection_zones,
        "object_rules": rules_for(camera.object_rules),
        "ignore_stationary": camera.ignore_stationary,
        "e2e_enabled": camera.e2e_enabled,
        "e2e_salt": camera.e2e_salt,
        "e2e_check": camera.e2e_check,
    }


def join_household(db: Session, camera: Camera, member: User) -> HouseholdMember:
    """Let ``member`` view this camera's clips; only accepting an invitation calls this."""
    if member.id == camera.owner_id:
        raise InvalidInput("you already own this camera", field="email")
    if db.get(HouseholdMember, (camera.id, member.id)) is not None:
        raise Conflict("you are already in this camera's household")
    row = HouseholdMember(camera_id=camera.id, user_id=member.id)
    db.add(row)
    db.flush()
    return row


def household(db: Session, camera: Camera) -> list[HouseholdMember]:
    """The camera's household members."""
    query = select(HouseholdMember).where(HouseholdMember.camera_id == camera.id)
    return list(db.scalars(query.order_by(HouseholdMember.added_at)))


def remove_household_member(db: Session, camera: Camera, user_id: str) -> None:
    """Stop a household member viewing this camera."""
    row = db.get(HouseholdMember, (camera.id, user_id))
    if row is None:
        raise NotFound("no such household member")
    db.delete(row)


def lock_camera(db: Session, camera: Camera) -> None:
    """Hold the camera's row until the transaction ends: its presses are decided one at a time.

    An update that changes nothing: PostgreSQL locks the row as SELECT ... FOR UPDATE would, and
    SQLite (which has no row locks and ignores FOR UPDATE) takes its write lock, so a second
    transaction waits here and then sees what the first one committed.
    """
    db.execute(
        update(Camera)
        .where(Camera.id == camera.id)
        .values(config_version=Camera.config_version)
        .execution_options(synchronize_session=False)
    )


def household_member(db: Session, camera_id: str, user_id: str) -> HouseholdMember | None:
    """The household membership of ``user_id`` in ``camera_id``, if any."""
    return db.get(HouseholdMember, (camera_id, user_id))


def set_live_view(db: Session, camera: Camera, user_id: str, live_view: bool) -> HouseholdMember:
    """Allow or stop a household member seeing the camera live and answering its rings.

    Only a resident may be allowed: a member who has since joined an agency (or become staff)
    must not hear the door ring. Stopping it is always possible.
    """
    row = db.get(HouseholdMember, (camera.id, user_id))
    if row is None:
        raise NotFound("no such household member")
    if live_view and row.user.role != Role.RESIDENT:
        raise Conflict(
            "only a resident can be allowed live view; this member's account is no longer one"
        )
    row.live_view = live_view
    return row


def live_viewer_ids(db: Session, camera_id: str) -> list[str]:
    """Residents in the household the owner allowed to see the camera live.

    A member whose account has since become an agency's (or staff) hears no ring even if the
    owner had allowed them: live view is for residents only.
    """
    query = (
        select(HouseholdMember.user_id)
        .join(User, User.id == HouseholdMember.user_id)
        .where(
            HouseholdMember.camera_id == camera_id,
            HouseholdMember.live_view.is_(True),
            User.role == Role.RESIDENT.value,
        )
    )
    return list(db.scalars(query))


def may_call_any(db: Session, user_id: str) -> bool:
    """Whether ``user_id`` owns a camera or is allowed to see one live as household."""
    owns = select(Camera.id).where(Camera.owner_id == user_id).limit(1)
    allowed = (
        select(HouseholdMember.camera_id)
        .where(HouseholdMember.user_id == user_id, HouseholdMember.live_view.is_(True))
        .limit(1)
    )
    return db.scalar(owns) is not None or db.scalar(allowed) is not None


def find_camera(db: Session, camera_id: str) -> Camera | None:
    """A camera by id, or None."""
    return db.get(Camera, camera_id)


def owner_ids(db: Session) -> list[str]:
    """Every account that has at least one camera, once each."""
    return list(db.scalars(select(Camera.owner_id).distinct()))


def add_cameras(db: Session, cameras: Sequence[Camera]) -> list[Camera]:
    """Store cameras made in one go, as they are."""
    db.add_all(cameras)
    db.flush()
    return list(cameras)
