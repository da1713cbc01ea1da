"""What the camera page shows beside the camera: its snapshot, and a refused form as typed."""

from __future__ import annotations

from typing import Any

from doorstep.accounts.auth import Principal
from doorstep.cameras.models import Camera
from doorstep.clips import service as clips
from doorstep.platform.http.deps import DbDep


def still_view(db: DbDep, principal: Principal, camera: Camera) -> dict[str, Any]:
    """The snapshot zones are drawn over, or why there is none."""
    still = clips.latest_still(db, principal.user, camera.id)
    if camera.e2e_enabled:
        reason = (
            "This camera is end-to-end encrypted: Doorstep cannot see its pictures, so zones are "
            "drawn over a blank 16:9 frame. Zones are fractions of the picture, so they land in "
            "the same place on the camera."
        )
    else:
        reason = (
            "No snapshot yet: zones are drawn over a blank 16:9 frame until this camera records "
            "its first clip. Zones are fractions of the picture, so they fit it whatever its size."
        )
    return {"still": still, "still_reason": reason}


def refused_settings(
    camera: Camera, typed: dict[str, str], sent: dict[str, tuple[str, list[str], str]] | None
) -> dict[str, Any]:
    """The settings form as the owner typed it, to correct it (not as it is stored).

    ``sent`` is the detection section when the form had it; without it the section shows what
    is stored.
    """
    form: dict[str, Any] = {
        "name": typed["name"],
        "audio_enabled": typed["audio_enabled"] == "on",
        "quiet_start": typed["quiet_start"],
        "quiet_end": typed["quiet_end"],
        "retention_days": _days(typed["retention_days"]),
        "requests_opt_in": typed["requests_opt_in"] == "on",
        "indoor": typed.get("indoor") == "on",
        "ignore_stationary": camera.ignore_stationary,
        "detection_retention_days": camera.detection_retention_days,
        "motion_retention_days": camera.motion_retention_days,
    }
    shown: dict[str, Any] = {
        "typed": form,
        "motion_text": typed["motion_zones"],
        "privacy_text": typed["privacy_zones"],
        "alert_mode": typed["alert_mode"],
    }
    if sent is not None:
        form["ignore_stationary"] = typed["ignore_stationary"] == "on"
        form["detection_retention_days"] = _days(typed["detection_retention_days"])
        form["motion_retention_days"] = _days(typed["motion_retention_days"])
        shown["detection_text"] = typed["detection_zones"]
        shown["object_rules"] = {
            label: {"mode": mode, "zones": zones, "dwell_seconds": dwell}
            for label, (mode, zones, dwell) in sent.items()
        }
    return shown


def _days(value: str) -> int | None:
    """A typed number of days as the form's options compare it (none when it is no number)."""
    return int(value) if value.isascii() and value.isdigit() else None
