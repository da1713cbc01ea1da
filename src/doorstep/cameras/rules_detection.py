"""What an owner chooses to detect: named zones, rules per label, and how long each kind is kept.

Pure, like ``cameras.rules`` (whose labels, modes and defaults these check against).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from doorstep.cameras.rules import DEFAULT_OBJECT_RULES, OBJECT_LABELS, ObjectMode, check_zones
from doorstep.errors import InvalidInput

#: At most this many named detection zones on a camera.
MAX_DETECTION_ZONES = 16
#: A detection zone's name, as rules and the settings page refer to it.
MAX_ZONE_NAME = 40
#: The longest an object may be asked to stay in a zone (or in view) before it alerts, in seconds.
MAX_DWELL_SECONDS = 600
_RULE_KEYS = frozenset({"mode", "zones", "dwell_seconds"})


def _zone_name(value: Any, number: int, *, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"zone {number} needs a name", field=field)
    name = " ".join(value.split())
    if not 1 <= len(name) <= MAX_ZONE_NAME or ":" in name or not name.isprintable():
        raise InvalidInput(
            f"zone {number}: a name is 1 to {MAX_ZONE_NAME} characters, without ':'", field=field
        )
    return name


def check_detection_zones(value: Any, *, field: str = "detection_zones") -> list[dict[str, Any]]:
    """Validate named zones ``[{"name", "polygon"}]``; names are unique, whatever their case."""
    if not isinstance(value, list):
        raise InvalidInput("detection zones are a list of {name, polygon}", field=field)
    if len(value) > MAX_DETECTION_ZONES:
        raise InvalidInput(f"at most {MAX_DETECTION_ZONES} detection zones", field=field)
    zones: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, zone in enumerate(value, start=1):
        if not isinstance(zone, Mapping) or set(zone) != {"name", "polygon"}:
            raise InvalidInput(f"zone {number} is {{name, polygon}}", field=field)
        name = _zone_name(zone["name"], number, field=field)
        if name.casefold() in seen:
            raise InvalidInput(f"two zones are named '{name}'; give each its own name", field=field)
        seen.add(name.casefold())
        try:
            (polygon,) = check_zones([zone["polygon"]], field=field)
        except InvalidInput as err:
            detail = err.detail.replace("zone 1", f"zone '{name}'", 1)
            raise InvalidInput(detail, field=field) from err
        zones.append({"name": name, "polygon": polygon})
    return zones


def parse_detection_zone_text(text: str, *, field: str = "detection_zones") -> list[dict[str, Any]]:
    """Parse named zones typed one per line as ``name: x,y x,y x,y``."""
    zones: list[dict[str, Any]] = []
    for line in text.strip().splitlines():
        if not line.strip():
            continue
        name, colon, points = line.partition(":")
        if not colon or not name.strip():
            raise InvalidInput(
                f"write each zone on its own line as 'name: x,y x,y x,y' ({line[:40].strip()!r})",
                field=field,
            )
        try:
            polygon = [[float(c) for c in pair.split(",")] for pair in points.split()]
        except ValueError as err:
            raise InvalidInput(
                f"zone '{name.strip()}': points are x,y with numbers from 0 to 1", field=field
            ) from err
        zones.append({"name": name, "polygon": polygon})
    return check_detection_zones(zones, field=field)


def detection_zone_text(zones: Sequence[Mapping[str, Any]]) -> str:
    """The inverse of ``parse_detection_zone_text``, for showing named zones in a form."""
    return "\n".join(
        f"{zone['name']}: " + " ".join(f"{x:g},{y:g}" for x, y in zone["polygon"]) for zone in zones
    )


def _check_rule(
    label: str, rule: Any, was: Mapping[str, Any], zone_names: Mapping[str, str]
) -> dict[str, Any]:
    field = "object_rules"
    if not isinstance(rule, Mapping) or not set(rule) <= _RULE_KEYS:
        raise InvalidInput(f"{label}: a rule has mode, zones and dwell_seconds", field=field)
    # What a rule leaves out (or sends as null) stays as it was, or its label's default.
    given = {key: value for key, value in rule.items() if value is not None}
    checked = {**DEFAULT_OBJECT_RULES[label], **was, **given}
    modes = ", ".join(mode.value for mode in ObjectMode)
    if checked["mode"] not in set(ObjectMode):
        raise InvalidInput(f"{label}: mode is one of {modes}", field=field)
    zones = checked["zones"]
    if not isinstance(zones, list) or not all(isinstance(name, str) for name in zones):
        raise InvalidInput(f"{label}: zones is a list of zone names", field=field)
    named: list[str] = []
    for name in zones:
        known = zone_names.get(" ".join(name.split()).casefold())
        if known is None:
            choices = ", ".join(zone_names.values()) or "none yet"
            raise InvalidInput(
                f"{label}: there is no detection zone named '{name[:MAX_ZONE_NAME]}' "
                f"(zones: {choices})",
                field=field,
            )
        if known not in named:
            named.append(known)
    dwell = checked["dwell_seconds"]
    if isinstance(dwell, bool) or not isinstance(dwell, int) or not 0 <= dwell <= MAX_DWELL_SECONDS:
        raise InvalidInput(
            f"{label}: dwell is a whole number of seconds from 0 to {MAX_DWELL_SECONDS}",
            field=field,
        )
    return {"mode": ObjectMode(checked["mode"]).value, "zones": named, "dwell_seconds": dwell}


def check_object_rules(
    value: Any,
    detection_zones: Sequence[Mapping[str, Any]],
    current: Mapping[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """Validate rules per label against the camera's named zones, over its ``current`` rules.

    A rule given changes only what it names; labels not given keep their rule, checked again
    (a zone it names may be gone). Defaults fill in the rest.
    """
    if not isinstance(value, Mapping):
        raise InvalidInput("object rules map a label to its rule", field="object_rules")
    names = {str(zone["name"]).casefold(): str(zone["name"]) for zone in detection_zones}
    was = {
        label: rule
        for label, rule in (current or {}).items()
        if label in OBJECT_LABELS and isinstance(rule, Mapping)
    }
    rules: dict[str, dict[str, Any]] = {}
    for label in [*was, *(label for label in value if label not in was)]:
        if label not in OBJECT_LABELS:
            raise InvalidInput(
                f"'{str(label)[:20]}' is not a label; labels are {', '.join(OBJECT_LABELS)}",
                field="object_rules",
            )
        rules[label] = _check_rule(label, value.get(label, {}), was.get(label, {}), names)
    return rules


#: The settings page's words for labels and for what seeing one does.
LABEL_NAMES = {"person": "Person", "vehicle": "Vehicle", "bicycle": "Bicycle", "animal": "Animal"}
OBJECT_MODE_NAMES = {
    ObjectMode.ALERT: "Alert",
    ObjectMode.DETECTION: "Keep quietly",
    ObjectMode.OFF: "Off",
}


def parse_dwell(text: str, label: str) -> int:
    """A dwell typed into the settings form; empty is none."""
    value = text.strip()
    if not value:
        return 0
    # isdigit() alone lets "²" through, which int() refuses.
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_DWELL_SECONDS:
        raise InvalidInput(
            f"{LABEL_NAMES.get(label, label)}: wait a whole number of seconds from 0 to "
            f"{MAX_DWELL_SECONDS}",
            field="object_rules",
        )
    return int(value)


def rules_from_form(sent: Mapping[str, tuple[str, list[str], str]]) -> dict[str, Any]:
    """Rules per label from the settings form's (mode, zone names, dwell text) of each label."""
    return {
        label: {"mode": mode, "zones": zones, "dwell_seconds": parse_dwell(dwell, label)}
        for label, (mode, zones, dwell) in sent.items()
    }


def form_days(value: str) -> int | None:
    """A retention per kind from the settings form: "" is as alerts; -1 (refused) is no number."""
    return None if not value else int(value) if value.isascii() and value.isdigit() else -1


#: What each kind of clip is called when its retention is refused.
_KIND_NAMES = {"detection_retention_days": "detections", "motion_retention_days": "motion clips"}


def check_kind_retention(
    days: Any, *, field: str, choices: Sequence[int], alert_days: int
) -> int | None:
    """Days detections or motion-only clips are kept: None (as alerts) or a choice up to alerts'.

    Footage that alerted nobody never outlives footage that did.
    """
    if days is None:
        return None
    kind = _KIND_NAMES.get(field, field)
    if isinstance(days, bool) or not isinstance(days, int) or days not in choices:
        listed = ", ".join(str(d) for d in choices)
        raise InvalidInput(f"keep {kind} for one of {listed} days, or as alerts", field=field)
    if days > alert_days:
        raise InvalidInput(
            f"{kind} are kept at most as long as alerts ({alert_days} days); choose fewer days "
            f"or 'same as alerts'",
            field=field,
        )
    return days
