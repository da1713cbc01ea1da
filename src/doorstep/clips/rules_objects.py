"""Objects a camera reports (what it saw, where, how long) and what they make of a clip; pure.

An object, as agents report it on an event's announce and with a clip, and as a clip keeps it::

    {"label": "person", "score": 0.91, "box": [x1, y1, x2, y2],   # fractions of the frame
     "stationary": false, "seconds": 6.2, "zones": {"porch": 4.0}}

A clip's kind decides how long it is kept: ``alert`` (its event notified the owner, or the
doorbell was pressed), ``detection`` (an object was seen and kept quietly) or ``motion``.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from doorstep.cameras.rules import OBJECT_LABELS, rules_for
from doorstep.cameras.rules_detection import MAX_DETECTION_ZONES, MAX_ZONE_NAME
from doorstep.errors import InvalidInput

#: The most objects one announce or one clip reports.
MAX_OBJECTS = 50
#: No object is reported as in view for longer than this (a week, in seconds).
MAX_SECONDS = 7 * 24 * 3600.0

KINDS = ("alert", "detection", "motion")


def _number(value: Any, what: str, *, field: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{what} is a number", field=field)
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high:
        raise InvalidInput(f"{what} is a number from {low:g} to {high:g}", field=field)
    return number


def _box(value: Any, where: str, *, field: str) -> list[float]:
    if not isinstance(value, list) or len(value) != 4:
        raise InvalidInput(f"{where}: box is [x1, y1, x2, y2]", field=field)
    box = [_number(c, f"{where}: each box coordinate", field=field, low=0, high=1) for c in value]
    if not (box[0] < box[2] and box[1] < box[3]):
        raise InvalidInput(f"{where}: a box needs x1 < x2 and y1 < y2", field=field)
    return box


def _zone_name_ok(name: Any) -> bool:
    # The cameras room's limit; no control or format characters (a name is shown on pages).
    return (
        isinstance(name, str)
        and 0 < len(name.strip()) <= MAX_ZONE_NAME
        and not any(unicodedata.category(char).startswith("C") for char in name)
    )


def _zones(
    value: Any, where: str, *, field: str, zone_names: Collection[str] | None
) -> dict[str, float]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}: zones maps zone names to seconds inside", field=field)
    if len(value) > MAX_DETECTION_ZONES:
        raise InvalidInput(f"{where}: at most {MAX_DETECTION_ZONES} zones", field=field)
    zones: dict[str, float] = {}
    for name, seconds in value.items():
        if not _zone_name_ok(name):
            raise InvalidInput(
                f"{where}: a zone name is 1 to {MAX_ZONE_NAME} printable characters", field=field
            )
        checked = _number(
            seconds, f"{where}: seconds in a zone", field=field, low=0, high=MAX_SECONDS
        )
        # A zone the camera no longer has (renamed or removed mid-event) is dropped, not
        # refused: the clip of that event is still kept.
        if zone_names is None or name in zone_names:
            zones[name] = checked
    return zones


def check_object(
    value: Any, number: int, *, field: str, zone_names: Collection[str] | None = None
) -> dict[str, Any]:
    """One reported object, checked, with only its known keys.

    With ``zone_names`` (the camera's detection zones), seconds in any other zone are dropped.
    """
    where = f"object {number}"
    if not isinstance(value, dict):
        raise InvalidInput(f"{where} is not an object", field=field)
    label = value.get("label")
    if label not in OBJECT_LABELS:
        raise InvalidInput(f"{where}: label is one of {', '.join(OBJECT_LABELS)}", field=field)
    if "score" not in value or "box" not in value:
        raise InvalidInput(f"{where} needs a score and a box", field=field)
    stationary = value.get("stationary", False)
    if not isinstance(stationary, bool):
        raise InvalidInput(f"{where}: stationary is true or false", field=field)
    seconds = value.get("seconds", 0)
    return {
        "label": label,
        "score": _number(value["score"], f"{where}: score", field=field, low=0, high=1),
        "box": _box(value["box"], where, field=field),
        "stationary": stationary,
        "seconds": _number(seconds, f"{where}: seconds", field=field, low=0, high=MAX_SECONDS),
        "zones": _zones(value.get("zones", {}), where, field=field, zone_names=zone_names),
    }


def check_objects(
    value: Any, *, zone_names: Collection[str] | None, field: str = "objects"
) -> list[dict[str, Any]]:
    """Reported objects, checked (``InvalidInput`` names the first fault), known keys only.

    ``zone_names`` are the camera's detection zones: an object keeps seconds only in those
    (None keeps any well-formed name, for a check before the camera is known).
    """
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput("objects is a list", field=field)
    if len(value) > MAX_OBJECTS:
        raise InvalidInput(f"at most {MAX_OBJECTS} objects", field=field)
    return [
        check_object(item, number, field=field, zone_names=zone_names)
        for number, item in enumerate(value, start=1)
    ]


def zone_names(detection_zones: Sequence[Mapping[str, Any]] | None) -> frozenset[str]:
    """The names of a camera's detection zones (``cameras.detection_zones``)."""
    return frozenset(str(zone["name"]) for zone in detection_zones or () if "name" in zone)


def kept_objects(
    objects: Sequence[Mapping[str, Any]], object_rules: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """The objects a camera keeps: none of a label whose mode is ``off``."""
    rules = rules_for(object_rules)
    return [dict(seen) for seen in objects if rules[str(seen["label"])].get("mode") != "off"]


def clip_kind(labels: Sequence[str], *, alerted: bool) -> str:
    """A clip's kind from its kept labels and whether its event alerted (a ring always counts)."""
    if alerted or "ring" in labels:
        return "alert"
    if any(label in OBJECT_LABELS for label in labels):
        return "detection"
    return "motion"


def kind_days(
    kind: str, *, retention_days: int, detection_days: int | None, motion_days: int | None
) -> int:
    """How many days a clip of ``kind`` is kept.

    Alerts keep ``retention_days``; detections and motion their own setting when the owner
    chose one, else ``retention_days`` too.
    """
    if kind == "detection" and detection_days is not None:
        return detection_days
    if kind == "motion" and motion_days is not None:
        return motion_days
    return retention_days


def in_zone(objects: Sequence[Mapping[str, Any]], zone: str) -> bool:
    """Whether any of the objects spent time in the zone named ``zone``."""
    return any(zone in (seen.get("zones") or {}) for seen in objects)
