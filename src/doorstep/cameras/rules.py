"""Camera settings rules: zones, alert modes, quiet hours; pure and shared by API and agent."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from doorstep.errors import InvalidInput

MAX_ZONES = 32
MAX_POINTS = 64


class AlertMode(StrEnum):
    """Which events alert the owner.

    ``objects``: an object alerts when its label's rule says so (``event_alerts``). ``people`` is
    its older name, from before rules per label, still accepted and stored as ``objects``: with
    the default rules only a person alerts, which is what ``people`` meant.
    """

    ALL = "all"
    OBJECTS = "objects"
    PEOPLE = "people"
    NONE = "none"


#: The alert modes an owner chooses from, in order, as the settings page names them.
ALERT_MODE_NAMES = {
    AlertMode.ALL: "Any motion",
    AlertMode.OBJECTS: "Only objects I choose (below)",
    AlertMode.NONE: "Nothing",
}


def check_alert_mode(value: Any) -> str:
    """The alert mode to store for ``value``; the older ``people`` is ``objects``."""
    try:
        mode = AlertMode(value)
    except ValueError as err:
        raise InvalidInput(
            "alert mode is all (any motion), objects (only objects your rules choose) or none",
            field="alert_mode",
        ) from err
    return (AlertMode.OBJECTS if mode == AlertMode.PEOPLE else mode).value


Polygon = list[list[float]]


def _polygon_area(points: Sequence[Sequence[float]]) -> float:
    twice = sum(
        points[i][0] * points[(i + 1) % len(points)][1]
        - points[(i + 1) % len(points)][0] * points[i][1]
        for i in range(len(points))
    )
    return abs(twice) / 2


def check_zones(value: Any, *, field: str) -> list[Polygon]:
    """Validate polygons in normalised frame coordinates (0..1) and return them as plain lists."""
    if not isinstance(value, list):
        raise InvalidInput("zones must be a list of polygons", field=field)
    if len(value) > MAX_ZONES:
        raise InvalidInput(f"at most {MAX_ZONES} zones", field=field)
    zones: list[Polygon] = []
    for number, polygon in enumerate(value, start=1):
        if not isinstance(polygon, list) or not 3 <= len(polygon) <= MAX_POINTS:
            raise InvalidInput(f"zone {number} needs 3 to {MAX_POINTS} points [x, y]", field=field)
        points: Polygon = []
        for point in polygon:
            if (
                not isinstance(point, list | tuple)
                or len(point) != 2
                or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in point)
            ):
                raise InvalidInput(f"zone {number}: each point is [x, y]", field=field)
            x, y = float(point[0]), float(point[1])
            if not (math.isfinite(x) and math.isfinite(y) and 0 <= x <= 1 and 0 <= y <= 1):
                raise InvalidInput(
                    f"zone {number}: x and y are fractions of the frame, from 0 to 1", field=field
                )
            points.append([x, y])
        if edges_cross(points):
            raise InvalidInput(f"zone {number}: the zone's edges cross; move a point", field=field)
        if _polygon_area(points) < 1e-6:
            raise InvalidInput(f"zone {number} has no area", field=field)
        zones.append(points)
    return zones


def _turn(a: list[float], b: list[float], c: list[float]) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on_segment(a: list[float], b: list[float], p: list[float]) -> bool:
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def _segments_meet(a: list[float], b: list[float], c: list[float], d: list[float]) -> bool:
    d1, d2, d3, d4 = _turn(c, d, a), _turn(c, d, b), _turn(a, b, c), _turn(a, b, d)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return (
        (d1 == 0 and _on_segment(c, d, a))
        or (d2 == 0 and _on_segment(c, d, b))
        or (d3 == 0 and _on_segment(a, b, c))
        or (d4 == 0 and _on_segment(a, b, d))
    )


def edges_cross(points: Polygon) -> bool:
    """Whether two edges of a closed polygon that are not neighbours meet (a bow tie)."""
    count = len(points)
    edges = [(points[i], points[(i + 1) % count]) for i in range(count)]
    for i in range(count):
        for j in range(i + 2, count):
            if i == 0 and j == count - 1:
                continue  # the first and last edges share the first point
            if _segments_meet(*edges[i], *edges[j]):
                return True
    return False


def parse_zone_text(text: str, *, field: str) -> list[Polygon]:
    """Parse zones typed one per line as ``x,y x,y x,y`` (fractions of the frame)."""
    polygons: list[list[list[float]]] = []
    for line in text.strip().splitlines():
        if not line.strip():
            continue
        try:
            polygon = [[float(c) for c in pair.split(",")] for pair in line.split()]
        except ValueError as err:
            raise InvalidInput(
                "write each zone on its own line as 'x,y x,y x,y' with numbers from 0 to 1",
                field=field,
            ) from err
        polygons.append(polygon)
    return check_zones(polygons, field=field)


def zone_text(zones: Sequence[Sequence[Sequence[float]]]) -> str:
    """The inverse of ``parse_zone_text``, for showing zones in a form."""
    return "\n".join(" ".join(f"{x:g},{y:g}" for x, y in zone) for zone in zones)


def parse_quiet_time(value: str | None, *, field: str) -> str | None:
    """Check an ``HH:MM`` time for quiet hours; empty means none."""
    if value is None or not value.strip():
        return None
    try:
        parsed = time.fromisoformat(value.strip())
    except ValueError as err:
        raise InvalidInput("use a 24-hour time like 22:30", field=field) from err
    return parsed.strftime("%H:%M")


#: The longest IANA zone name kept for a camera.
MAX_ZONE_NAME_LENGTH = 64


def check_time_zone(name: str | None) -> str:
    """An IANA zone name quiet hours are read in (empty: UTC); an unknown one is refused."""
    name = (name or "").strip() or "UTC"
    try:
        if len(name) > MAX_ZONE_NAME_LENGTH:
            raise ValueError(name)
        ZoneInfo(name)
    # ValueError: a name that is not a zone key at all ("../x"); the rest: unknown zones.
    except (ZoneInfoNotFoundError, ValueError, OSError) as err:
        raise InvalidInput(
            f"the time zone {name[:MAX_ZONE_NAME_LENGTH]!r} is not one we know; use an IANA "
            "name such as America/Los_Angeles, or UTC",
            field="time_zone",
        ) from err
    return name


def in_quiet_hours(now: datetime, start: str | None, end: str | None, zone: str = "UTC") -> bool:
    """Whether the instant ``now`` falls in quiet hours, read on the clock of ``zone``.

    The window may run past midnight; it follows the zone's daylight saving time.
    """
    if not start or not end:
        return False
    aware = now if now.tzinfo else now.replace(tzinfo=UTC)  # a naive instant is UTC
    local = aware.astimezone(ZoneInfo(zone)).time()
    begin, finish = time.fromisoformat(start), time.fromisoformat(end)
    if begin <= finish:
        return begin <= local < finish
    return local >= begin or local < finish


#: The kinds of object a camera's detector reports.
OBJECT_LABELS = ("person", "vehicle", "bicycle", "animal")


class ObjectMode(StrEnum):
    """What seeing an object of a label does: notify, keep quietly, or nothing."""

    ALERT = "alert"
    DETECTION = "detection"
    OFF = "off"


#: A camera whose owner has not chosen: people alert, other objects are kept as detections,
#: anywhere in the frame, at once.
DEFAULT_OBJECT_RULES: dict[str, dict[str, Any]] = {
    "person": {"mode": ObjectMode.ALERT.value, "zones": [], "dwell_seconds": 0},
    "vehicle": {"mode": ObjectMode.DETECTION.value, "zones": [], "dwell_seconds": 0},
    "bicycle": {"mode": ObjectMode.DETECTION.value, "zones": [], "dwell_seconds": 0},
    "animal": {"mode": ObjectMode.DETECTION.value, "zones": [], "dwell_seconds": 0},
}


def rules_for(object_rules: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """A camera's rule for every label: its own choices over the defaults."""
    merged = {label: dict(rule) for label, rule in DEFAULT_OBJECT_RULES.items()}
    for label, rule in (object_rules or {}).items():
        if label in merged and isinstance(rule, Mapping):
            merged[label].update(rule)
    return merged


def object_alerts(
    seen: Mapping[str, Any], object_rules: Mapping[str, Any] | None, *, ignore_stationary: bool
) -> bool:
    """Whether one tracked object meets its label's alert rule.

    ``seen`` is an object as agents report it: ``{"label", "stationary": bool, "seconds": time in
    view, "zones": {zone name: seconds inside}}``. It alerts when its label's mode is ``alert``,
    it moved (unless stationary objects are wanted), and it stayed at least ``dwell_seconds`` in
    one of the rule's zones, or in view when the rule names no zone.
    """
    rule = rules_for(object_rules).get(str(seen.get("label")))
    if rule is None or rule.get("mode") != ObjectMode.ALERT:
        return False
    if ignore_stationary and seen.get("stationary"):
        return False
    dwell = float(rule.get("dwell_seconds") or 0)
    required = list(rule.get("zones") or [])
    if not required:
        return float(seen.get("seconds") or 0) >= dwell
    inside = seen.get("zones") or {}
    return any(name in inside and float(inside[name]) >= dwell for name in required)


def kept_labels(labels: Sequence[str], object_rules: Mapping[str, Any] | None) -> list[str]:
    """The labels a camera keeps: those whose mode is not ``off`` (others, like "ring", stay)."""
    rules = rules_for(object_rules)
    return [
        label
        for label in labels
        if label not in rules or rules[label].get("mode") != ObjectMode.OFF
    ]


def event_alerts(
    *,
    mode: str,
    labels: Sequence[str],
    objects: Sequence[Mapping[str, Any]],
    object_rules: Mapping[str, Any] | None,
    ignore_stationary: bool,
    quiet: bool,
) -> bool:
    """Whether an event alerts its owner.

    Under ``all`` any motion does; otherwise an object must meet its label's rule
    (``object_alerts``). A label reported without its objects (an older agent) alerts when its
    rule asks for no zone and no dwell.
    """
    if quiet or mode == AlertMode.NONE:
        return False
    if mode == AlertMode.ALL:
        return True
    if any(
        object_alerts(seen, object_rules, ignore_stationary=ignore_stationary) for seen in objects
    ):
        return True
    rules = rules_for(object_rules)
    reported = {str(seen.get("label")) for seen in objects}
    return any(
        label in rules
        and label not in reported
        and rules[label].get("mode") == ObjectMode.ALERT
        and not rules[label].get("zones")
        and not float(rules[label].get("dwell_seconds") or 0)
        for label in labels
    )
