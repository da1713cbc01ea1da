"""The owner's pages: cameras (add, pair, settings) and the clip timeline with playback."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from doorstep.accounts.auth import OptionalPrincipal, Principal
from doorstep.cameras import service as cameras
from doorstep.cameras._pages import refused_settings, still_view
from doorstep.cameras.models import Camera
from doorstep.cameras.rules import (
    ALERT_MODE_NAMES,
    check_alert_mode,
    parse_zone_text,
    rules_for,
    zone_text,
)
from doorstep.cameras.rules_detection import (
    LABEL_NAMES,
    OBJECT_MODE_NAMES,
    detection_zone_text,
    form_days,
    parse_detection_zone_text,
    rules_from_form,
)
from doorstep.clips import service as clips
from doorstep.clips.rules import RETENTION_CHOICES
from doorstep.doorbell import service as doorbell
from doorstep.errors import Conflict, DoorstepError, InvalidInput
from doorstep.geo.cells import parse_coordinates
from doorstep.platform.http.deps import DbDep, StateDep
from doorstep.platform.http.render import login_redirect, render
from doorstep.platform.http.times import local_day

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=4000)]


def _camera_view(camera: Camera) -> dict[str, Any]:
    return {
        "camera": camera,
        "online": cameras.is_online(camera),
        "motion_text": zone_text(camera.motion_zones),
        "privacy_text": zone_text(camera.privacy_zones),
    }


def _detection_view(camera: Camera) -> dict[str, Any]:
    return {
        "alert_mode": check_alert_mode(camera.alert_mode),
        "alert_modes": ALERT_MODE_NAMES,
        "label_names": LABEL_NAMES,
        "object_modes": OBJECT_MODE_NAMES,
        "object_rules": rules_for(camera.object_rules),
        "detection_text": detection_zone_text(camera.detection_zones),
        "zone_names": [zone["name"] for zone in camera.detection_zones],
    }


Mode = Annotated[str, Form(max_length=10)]
Names = Annotated[list[str], Form(max_length=40)]
Dwell = Annotated[str, Form(max_length=4)]


def _cameras_page(
    request: Request, principal: Principal, *, status: int = 200, **extra: Any
) -> Response:
    request.state.principal = principal
    views = [_camera_view(camera) for camera in principal.user.cameras]
    return render(request, "cameras.html", {"views": views, **extra}, status=status)


@router.get("/cameras")
def cameras_page(request: Request, principal: OptionalPrincipal) -> Response:
    """The owner's cameras, online status, and a form to add one."""
    if principal is None:
        return login_redirect(request)
    return _cameras_page(request, principal)


@router.post("/cameras")
def add_camera(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    name: Text,
    position: Text = "",
    requests_opt_in: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Add a camera, then go to its page to pair it."""
    if principal is None:
        return login_redirect(request)
    try:
        camera = cameras.add_camera(
            db,
            principal.user,
            name=name,
            position=parse_coordinates(position) if position.strip() else None,
            requests_opt_in=requests_opt_in == "on",
            cell_resolution=state.settings.public_cell_resolution,
        )
    except InvalidInput as err:
        return _cameras_page(request, principal, status=err.status, error=err, form={"name": name})
    return RedirectResponse(f"/cameras/{camera.id}?added=1", status_code=303)


def _camera_page(
    request: Request,
    db: DbDep,
    principal: Principal,
    camera: Camera,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    request.state.principal = principal
    context = {
        **_camera_view(camera),
        **_detection_view(camera),
        "retention_choices": RETENTION_CHOICES,
        "server_url": str(request.base_url).rstrip("/"),
        "household": cameras.household(db, principal.user, camera.id),
        **still_view(db, principal, camera),
        **extra,
    }
    return render(request, "camera.html", context, status=status)


@router.get("/cameras/{camera_id}")
def camera_page(
    request: Request, principal: OptionalPrincipal, db: DbDep, camera_id: str
) -> Response:
    """One camera: pairing, zones, audio, alerts, retention, requests."""
    if principal is None:
        return login_redirect(request)
    camera = cameras.owned_camera(db, principal.user, camera_id)
    saved = request.query_params.get("saved") == "1"
    return _camera_page(
        request,
        db,
        principal,
        camera,
        added=request.query_params.get("added"),
        notice="Settings saved." if saved else None,
    )


#: The live page may ask for the microphone (Talk), and only for this origin; every other page
#: keeps the site-wide "no microphone" policy.
LIVE_PERMISSIONS = "camera=(), microphone=(self), geolocation=(), interest-cohort=()"


@router.get("/cameras/{camera_id}/live")
def live_page(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    camera_id: str,
    ring: Annotated[str | None, Query(max_length=64)] = None,
    mjpeg: Annotated[str | None, Query(max_length=5)] = None,
) -> Response:
    """Live view of one camera over WebRTC (answering ``ring``), or the simple MJPEG fallback."""
    if principal is None:
        return login_redirect(request)
    request.state.principal = principal
    camera = cameras.live_view_camera(db, principal.user, camera_id)
    owner = camera.owner_id == principal.user.id
    context = {"camera": camera, "ring_id": ring, "mjpeg": mjpeg == "1" and owner, "owner": owner}
    return render(
        request, "camera_live.html", context, headers={"permissions-policy": LIVE_PERMISSIONS}
    )


@router.post("/cameras/{camera_id}/pairing-code")
def pairing_code(
    request: Request, principal: OptionalPrincipal, db: DbDep, camera_id: str
) -> Response:
    """Show a new one-time pairing code."""
    if principal is None:
        return login_redirect(request)
    camera = cameras.owned_camera(db, principal.user, camera_id)
    return _camera_page(request, db, principal, camera, code=cameras.new_pairing_code(db, camera))


@router.post("/cameras/{camera_id}/settings")
def camera_settings(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    camera_id: str,
    name: Text,
    motion_zones: Text = "",
    privacy_zones: Text = "",
    audio_enabled: Annotated[str, Form(max_length=5)] = "",
    alert_mode: Annotated[str, Form(max_length=10)] = "all",
    quiet_start: Annotated[str, Form(max_length=5)] = "",
    quiet_end: Annotated[str, Form(max_length=5)] = "",
    time_zone: Annotated[str, Form(max_length=64)] = "",
    retention_days: Annotated[str, Form(max_length=4)] = "30",
    requests_opt_in: Annotated[str, Form(max_length=5)] = "",
    indoor: Annotated[str, Form(max_length=5)] = "",
    detection: Annotated[str, Form(max_length=1)] = "",
    detection_zones: Text = "",
    person_mode: Mode = "",
    person_zones: Names = [],  # noqa: B006 - FastAPI copies form defaults
    person_dwell: Dwell = "",
    vehicle_mode: Mode = "",
    vehicle_zones: Names = [],  # noqa: B006
    vehicle_dwell: Dwell = "",
    bicycle_mode: Mode = "",
    bicycle_zones: Names = [],  # noqa: B006
    bicycle_dwell: Dwell = "",
    animal_mode: Mode = "",
    animal_zones: Names = [],  # noqa: B006
    animal_dwell: Dwell = "",
    ignore_stationary: Annotated[str, Form(max_length=5)] = "",
    detection_retention_days: Annotated[str, Form(max_length=4)] = "",
    motion_retention_days: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    """Save a camera's settings; the agent picks them up without a restart.

    The detection section is saved only when the form had it (``detection``): a form without it
    leaves what to detect as it was.
    """
    if principal is None:
        return login_redirect(request)
    camera = cameras.owned_camera(db, principal.user, camera_id)
    sent = {
        "person": (person_mode, person_zones, person_dwell),
        "vehicle": (vehicle_mode, vehicle_zones, vehicle_dwell),
        "bicycle": (bicycle_mode, bicycle_zones, bicycle_dwell),
        "animal": (animal_mode, animal_zones, animal_dwell),
    }
    try:
        more: dict[str, Any] = {}
        if detection:
            more = {
                "detection_zones": parse_detection_zone_text(detection_zones),
                "object_rules": rules_from_form(sent),
                "ignore_stationary": ignore_stationary == "on",
                "detection_retention_days": form_days(detection_retention_days),
                "motion_retention_days": form_days(motion_retention_days),
            }
        changes = {
            "name": name,
            "motion_zones": parse_zone_text(motion_zones, field="motion_zones"),
            "privacy_zones": parse_zone_text(privacy_zones, field="privacy_zones"),
            "audio_enabled": audio_enabled == "on",
            "alert_mode": alert_mode,
            "quiet_start": quiet_start,
            "quiet_end": quiet_end,
            "time_zone": time_zone,
            "retention_days": form_days(retention_days) or -1,
            "requests_opt_in": requests_opt_in == "on",
            "indoor": indoor == "on",
            **more,
        }
        cameras.save_settings(db, camera, changes)
    except InvalidInput as err:
        typed = {
            "name": name,
            "motion_zones": motion_zones,
            "privacy_zones": privacy_zones,
            "audio_enabled": audio_enabled,
            "alert_mode": alert_mode,
            "quiet_start": quiet_start,
            "quiet_end": quiet_end,
            "retention_days": retention_days,
            "requests_opt_in": requests_opt_in,
            "indoor": indoor,
            "detection_zones": detection_zones,
            "ignore_stationary": ignore_stationary,
            "detection_retention_days": detection_retention_days,
            "motion_retention_days": motion_retention_days,
        }
        shown = refused_settings(camera, typed, sent if detection else None)
        return _camera_page(request, db, principal, camera, status=err.status, error=err, **shown)
    return RedirectResponse(f"/cameras/{camera.id}?saved=1", status_code=303)


@router.get("/cameras/{camera_id}/settings")
def camera_settings_get(
    request: Request, principal: OptionalPrincipal, db: DbDep, camera_id: str
) -> Response:
    """The settings form's address, reloaded or bookmarked, is the camera's page."""
    if principal is None:
        return login_redirect(request)
    camera = cameras.owned_camera(db, principal.user, camera_id)
    return RedirectResponse(f"/cameras/{camera.id}", status_code=303)


@router.post("/cameras/{camera_id}/household/{user_id}/live-view")
def household_live_view(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    camera_id: str,
    user_id: str,
    live_view: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Allow or stop a household member seeing the camera live and answering its rings.

    The same use case as the JSON route: stopping it ends the member's open calls at once.
    """
    if principal is None:
        return login_redirect(request)
    camera = cameras.owned_camera(db, principal.user, camera_id)
    try:
        member = doorbell.set_household_live_view(
            db, principal.user, camera_id, user_id, live_view == "on"
        )
    except Conflict as err:
        return _camera_page(request, db, principal, camera, status=err.status, error=err)
    notice = (
        f"{member.display_name} can now see {camera.name} live and answer its rings."
        if member.live_view
        else f"{member.display_name} can no longer see {camera.name} live."
    )
    return _camera_page(request, db, principal, camera, notice=notice)


@router.post("/cameras/{camera_id}/delete")
def remove_camera(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep, camera_id: str
) -> Response:
    """Remove a camera and shred its clips."""
    if principal is None:
        return login_redirect(request)
    cameras.remove_camera(db, state.keys, principal.user, camera_id)
    return RedirectResponse("/cameras", status_code=303)


@router.get("/clips")
def clips_page(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    camera: str = "",
    label: str = "",
    day: str = "",
    zone: Annotated[str, Query(max_length=64)] = "",
    kind: str = "",
    time_zone: Annotated[str, Query(max_length=64)] = "UTC",
) -> Response:
    """The timeline across cameras, with filters, newest first, a visit per item.

    The day is the viewer's: it begins at midnight in the zone their browser sent.
    """
    if principal is None:
        return login_redirect(request)
    request.state.principal = principal
    error: DoorstepError | None = None
    try:
        start = local_day(day, time_zone, "day")
    except InvalidInput as err:
        start, error = None, err
    listing = clips.clip_listing(
        db, principal.user, camera_id=camera, label=label, day=start, zone=zone, kind=kind
    )
    context = {
        "clips": listing.clips,
        "visits": listing.visits,
        "names": listing.names,
        "filters": {"camera": camera, "label": label, "day": day, "zone": zone, "kind": kind},
        "error": error,
    }
    return render(request, "clips.html", context, status=error.status if error else 200)


@router.get("/clips/{clip_id}")
def clip_page(request: Request, principal: OptionalPrincipal, db: DbDep, clip_id: str) -> Response:
    """Play one clip; download or delete it."""
    if principal is None:
        return login_redirect(request)
    request.state.principal = principal
    clip = clips.viewable_clip(db, principal.user, clip_id)
    owner = clip.owner_id == principal.user.id
    return render(request, "clip.html", {"clip": clip, "camera": clip.camera, "owner": owner})


@router.post("/clips/delete")
def delete_clips(
    request: Request,
    principal: OptionalPrincipal,
    db: DbDep,
    state: StateDep,
    ids: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    everything: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Delete the selected clips, or all of them."""
    if principal is None:
        return login_redirect(request)
    chosen = None if everything == "yes" else ids
    deleted = clips.delete_clips(db, state.keys, principal.user, chosen)
    return RedirectResponse(f"/clips?deleted={deleted}", status_code=303)
