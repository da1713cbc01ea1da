"""What an owner chooses to detect: when an object alerts, and which settings are refused."""

from __future__ import annotations

from typing import Any

import pytest

from doorstep.cameras.rules import check_alert_mode, event_alerts, kept_labels, object_alerts
from doorstep.cameras.rules_detection import (
    check_detection_zones,
    check_kind_retention,
    check_object_rules,
    detection_zone_text,
    parse_detection_zone_text,
)
from doorstep.clips.rules import RETENTION_CHOICES
from doorstep.errors import InvalidInput

PORCH = {"name": "porch", "polygon": [[0.3, 0.5], [0.7, 0.5], [0.7, 1.0], [0.3, 1.0]]}
PAVEMENT = {"name": "pavement", "polygon": [[0.0, 0.0], [1.0, 0.0], [1.0, 0.4]]}
#: A person alerts only after 5 s on the porch.
PORCH_RULES = {"person": {"mode": "alert", "zones": ["porch"], "dwell_seconds": 5}}


def _person(**seen: Any) -> dict[str, Any]:
    return {"label": "person", "stationary": False, "seconds": 6.0, "zones": {}, **seen}


def test_a_person_crossing_the_pavement_is_no_alert_when_the_rule_wants_the_porch() -> None:
    crossing = _person(zones={"pavement": 6.0})
    assert not object_alerts(crossing, PORCH_RULES, ignore_stationary=True)


def test_a_person_waiting_on_the_porch_past_the_dwell_alerts() -> None:
    assert object_alerts(_person(zones={"porch": 6.0}), PORCH_RULES, ignore_stationary=True)
    assert not object_alerts(_person(zones={"porch": 4.0}), PORCH_RULES, ignore_stationary=True)


def test_a_stationary_object_alerts_only_when_the_owner_wants_them() -> None:
    parked = {"label": "vehicle", "stationary": True, "seconds": 60.0, "zones": {}}
    rules = {"vehicle": {"mode": "alert"}}
    assert not object_alerts(parked, rules, ignore_stationary=True)
    assert object_alerts(parked, rules, ignore_stationary=False)


@pytest.mark.parametrize("mode", ["detection", "off"])
def test_a_label_kept_quietly_or_off_never_alerts(mode: str) -> None:
    rules = {"person": {"mode": mode}}
    assert not object_alerts(_person(), rules, ignore_stationary=False)
    assert not event_alerts(
        mode="objects",
        labels=["person"],
        objects=[_person()],
        object_rules=rules,
        ignore_stationary=False,
        quiet=False,
    )


def _event(mode: str, labels: list[str], objects: list[dict[str, Any]], rules: Any) -> bool:
    return event_alerts(
        mode=mode,
        labels=labels,
        objects=objects,
        object_rules=rules,
        ignore_stationary=True,
        quiet=False,
    )


def test_an_older_agent_that_reports_only_labels_alerts_when_the_rule_asks_no_zone() -> None:
    assert _event("objects", ["person"], [], {})
    assert _event("people", ["person"], [], {})
    # It cannot tell where the person was, so a rule that needs the porch does not alert.
    assert not _event("objects", ["person"], [], PORCH_RULES)
    # A vehicle is kept quietly by default.
    assert not _event("objects", ["vehicle"], [], {})


def test_the_alert_mode_decides_before_the_rules() -> None:
    crossing = [_person(zones={"pavement": 6.0})]
    assert _event("all", ["person"], crossing, PORCH_RULES)
    assert not _event("objects", ["person"], crossing, PORCH_RULES)
    assert not _event("none", ["person"], [_person(zones={"porch": 9.0})], PORCH_RULES)
    assert not event_alerts(
        mode="all", labels=[], objects=[], object_rules={}, ignore_stationary=True, quiet=True
    )


def test_motion_alone_alerts_only_under_all() -> None:
    assert _event("all", [], [], {})
    assert _event("all", ["motion"], [], {})
    for mode in ("objects", "people"):
        assert not _event(mode, [], [], {})
        assert not _event(mode, ["motion"], [], {})


def test_labels_turned_off_are_not_kept_but_a_ring_is() -> None:
    rules = {"animal": {"mode": "off"}}
    assert kept_labels(["person", "animal", "ring"], rules) == ["person", "ring"]


def test_people_is_the_older_name_of_objects() -> None:
    assert check_alert_mode("people") == "objects"
    assert check_alert_mode("objects") == "objects"
    with pytest.raises(InvalidInput, match="alert mode"):
        check_alert_mode("sometimes")


def test_named_zones_round_trip_through_text() -> None:
    zones = check_detection_zones([PORCH, PAVEMENT])
    text = detection_zone_text(zones)
    assert text.splitlines()[0] == "porch: 0.3,0.5 0.7,0.5 0.7,1 0.3,1"
    assert parse_detection_zone_text(text) == zones
    assert parse_detection_zone_text("\n  \n") == []


@pytest.mark.parametrize(
    ("zones", "message"),
    [
        ("porch", "a list"),
        ([PORCH, {**PAVEMENT, "name": "Porch"}], "two zones are named 'Porch'"),
        ([{**PORCH, "name": "  "}], "1 to 40 characters"),
        ([{**PORCH, "name": "x" * 41}], "1 to 40 characters"),
        ([{**PORCH, "name": "a:b"}], "without ':'"),
        ([{**PORCH, "name": "po\x00rch"}], "without ':'"),
        ([{**PORCH, "name": 3}], "needs a name"),
        ([{"name": "porch"}], "{name, polygon}"),
        ([{**PORCH, "colour": "red"}], "{name, polygon}"),
        ([{"name": "gate", "polygon": [[0, 0], [1, 1]]}], "zone 'gate' needs 3 to 64 points"),
        ([{"name": "gate", "polygon": [[0, 0], [2, 0], [1, 1]]}], "zone 'gate': x and y"),
        ([{"name": "gate", "polygon": [[0, 0], [0.5, 0.5], [1, 1]]}], "zone 'gate' has no area"),
        ([{**PORCH, "name": f"z{n}"} for n in range(17)], "at most 16"),
    ],
)
def test_bad_named_zones_are_refused_clearly(zones: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("{", r"\{").replace("}", r"\}")):
        check_detection_zones(zones)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0,0 1,0 1,1", "as 'name: x,y x,y x,y'"),
        (": 0,0 1,0 1,1", "as 'name: x,y x,y x,y'"),
        ("porch: 0,0 a,b 1,1", "zone 'porch': points are x,y"),
        ("porch: 0,0 1,0", "zone 'porch' needs 3"),
    ],
)
def test_malformed_zone_lines_are_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_detection_zone_text(text)


def test_rules_are_completed_and_zone_names_matched_whatever_their_case() -> None:
    rules = check_object_rules({"person": {"zones": ["PORCH", "porch"]}}, [PORCH])
    assert rules == {"person": {"mode": "alert", "zones": ["porch"], "dwell_seconds": 0}}


def test_a_rule_changes_only_what_it_names_and_other_labels_keep_theirs() -> None:
    current = {"person": {"mode": "alert", "zones": ["porch"], "dwell_seconds": 5}}
    rules = check_object_rules(
        {"vehicle": {"mode": "off"}, "person": {"dwell_seconds": 8}}, [PORCH], current
    )
    assert rules["person"] == {"mode": "alert", "zones": ["porch"], "dwell_seconds": 8}
    assert rules["vehicle"] == {"mode": "off", "zones": [], "dwell_seconds": 0}


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([], "map a label"),
        ({"cat": {"mode": "alert"}}, "'cat' is not a label; labels are person, vehicle"),
        ({"person": {"mode": "loud"}}, "person: mode is one of alert, detection, off"),
        ({"person": {"zones": ["gate"]}}, "person: there is no detection zone named 'gate'"),
        ({"person": {"zones": "porch"}}, "person: zones is a list"),
        ({"person": {"dwell_seconds": 601}}, "from 0 to 600"),
        ({"person": {"dwell_seconds": -1}}, "from 0 to 600"),
        ({"person": {"dwell_seconds": 2.5}}, "whole number"),
        ({"person": {"dwell_seconds": True}}, "whole number"),
        ({"person": {"colour": "red"}}, "mode, zones and dwell_seconds"),
        ({"person": "alert"}, "mode, zones and dwell_seconds"),
    ],
)
def test_bad_rules_are_refused_clearly(rules: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        check_object_rules(rules, [PORCH])
    assert caught.value.field == "object_rules"


def test_a_rule_may_not_keep_a_zone_that_is_gone() -> None:
    with pytest.raises(InvalidInput, match="no detection zone named 'porch'"):
        check_object_rules({}, [PAVEMENT], PORCH_RULES)


def test_retention_per_kind_is_a_choice_no_longer_than_alerts() -> None:
    check = check_kind_retention
    assert (
        check(None, field="motion_retention_days", choices=RETENTION_CHOICES, alert_days=7) is None
    )
    assert check(3, field="motion_retention_days", choices=RETENTION_CHOICES, alert_days=7) == 3
    assert check(7, field="motion_retention_days", choices=RETENTION_CHOICES, alert_days=7) == 7
    with pytest.raises(InvalidInput, match="motion clips are kept at most as long as alerts"):
        check(14, field="motion_retention_days", choices=RETENTION_CHOICES, alert_days=7)
    with pytest.raises(InvalidInput, match="keep detections for one of 1, 3"):
        check(5, field="detection_retention_days", choices=RETENTION_CHOICES, alert_days=30)
    with pytest.raises(InvalidInput, match="keep detections"):
        check("7", field="detection_retention_days", choices=RETENTION_CHOICES, alert_days=30)
