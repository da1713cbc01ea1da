from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from doorstep.errors import Conflict, InvalidInput, PolicyRefused
from doorstep.legal.rules import (
    DemandKind,
    EmergencyRequest,
    EmergencyState,
    LegalDemand,
    NonDisclosureOrder,
    approve,
    check_account_disclosure,
    check_disclosure,
    check_emergency_disclosure,
    emergency_notice_due,
    file_emergency,
    mark_over,
    notice_due,
    refuse,
)

T0 = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=4)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DEVICES = frozenset({"cam-1", "cam-2"})
WARRANT = LegalDemand(DemandKind.WARRANT, "acct-1", DEVICES, T0, T1)
UNREDACTED_WARRANT = LegalDemand(
    DemandKind.WARRANT, "acct-1", DEVICES, T0, T1, allows_unredacted=True
)
SUBPOENA = LegalDemand(DemandKind.SUBPOENA, "acct-1")
ORDER = LegalDemand(DemandKind.COURT_ORDER, "acct-1")
FOOTAGE_ORDER = LegalDemand(DemandKind.COURT_ORDER, "acct-1", DEVICES, T0, T1, covers_footage=True)
CLIP = (T0 + timedelta(hours=1), T0 + timedelta(hours=1, minutes=2))


def reason_of(call: Callable[[], object]) -> str:
    with pytest.raises(PolicyRefused) as caught:
        call()
    reason: str = caught.value.extra["reason"]
    return reason


@pytest.mark.parametrize("demand", [WARRANT, FOOTAGE_ORDER, UNREDACTED_WARRANT])
def test_footage_inside_scope_is_disclosed_redacted(demand: LegalDemand) -> None:
    check_disclosure(demand, "cam-1", *CLIP, unredacted=False)


def test_unredacted_only_when_the_warrant_says_so() -> None:
    check_disclosure(UNREDACTED_WARRANT, "cam-2", *CLIP, unredacted=True)
    assert reason_of(lambda: check_disclosure(WARRANT, "cam-2", *CLIP, unredacted=True)) == (
        "unredacted_not_allowed"
    )


@pytest.mark.parametrize(
    ("demand", "reason"), [(SUBPOENA, "subpoena"), (ORDER, "order_without_footage")]
)
def test_subpoenas_and_plain_orders_never_reach_footage(demand: LegalDemand, reason: str) -> None:
    assert reason_of(lambda: check_disclosure(demand, "cam-1", *CLIP, unredacted=False)) == reason


@pytest.mark.parametrize(
    ("device", "start", "end", "reason"),
    [
        ("cam-9", CLIP[0], CLIP[1], "device_out_of_scope"),
        ("cam-1", T0 - timedelta(seconds=1), CLIP[1], "outside_window"),
        ("cam-1", CLIP[0], T1 + timedelta(seconds=1), "outside_window"),
        ("cam-1", T1 + timedelta(hours=1), T1 + timedelta(hours=2), "outside_window"),
    ],
)
def test_clips_outside_devices_or_window_are_refused(
    device: str, start: datetime, end: datetime, reason: str
) -> None:
    assert (
        reason_of(lambda: check_disclosure(WARRANT, device, start, end, unredacted=False)) == reason
    )


@pytest.mark.parametrize("demand", [WARRANT, SUBPOENA, ORDER])
def test_every_demand_reaches_its_own_account_only(demand: LegalDemand) -> None:
    check_account_disclosure(demand, "acct-1")
    assert reason_of(lambda: check_account_disclosure(demand, "acct-2")) == "account_out_of_scope"


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": DemandKind.SUBPOENA, "covers_footage": True},
        {"kind": DemandKind.SUBPOENA, "allows_unredacted": True},
        {"kind": DemandKind.COURT_ORDER, "allows_unredacted": True},
        {"kind": DemandKind.WARRANT},
        {"kind": DemandKind.WARRANT, "device_ids": DEVICES},
        {"kind": DemandKind.WARRANT, "device_ids": DEVICES, "window_start": T1, "window_end": T0},
        {
            "kind": DemandKind.WARRANT,
            "device_ids": DEVICES,
            "window_start": T0.replace(tzinfo=None),
            "window_end": T1,
        },
        {
            "kind": DemandKind.WARRANT,
            "account_id": " ",
            "device_ids": DEVICES,
            "window_start": T0,
            "window_end": T1,
        },
    ],
)
def test_demands_must_be_recorded_with_a_coherent_scope(fields: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        LegalDemand(**{"account_id": "acct-1", **fields})


def test_non_disclosure_order_needs_an_end_date() -> None:
    with pytest.raises(InvalidInput) as caught:
        NonDisclosureOrder("demand-1", None)
    assert caught.value.field == "ends_at"


def test_notice_is_due_at_once_or_when_the_order_ends() -> None:
    order = NonDisclosureOrder("demand-1", NOW + timedelta(days=180))
    assert notice_due(NOW) == NOW
    assert notice_due(NOW, order) == NOW + timedelta(days=180)
    assert notice_due(NOW, NonDisclosureOrder("demand-1", NOW - timedelta(days=1))) == NOW


def filed(**changes: Any) -> EmergencyRequest:
    fields: dict[str, Any] = {
        "request_id": "em-1",
        "agency_id": "agency-1",
        "device_ids": frozenset({"cam-1"}),
        "window_start": NOW - timedelta(hours=2),
        "window_end": NOW - timedelta(hours=1),
        "attestation": "A missing child was last seen on this street an hour ago.",
        "now": NOW,
        **changes,
    }
    return file_emergency(**fields)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"window_start": NOW - timedelta(hours=7, seconds=1)}, "window_too_long"),
        ({"attestation": "   "}, "attestation_missing"),
        ({"attestation": "urgent"}, "attestation_missing"),
    ],
)
def test_emergency_needs_a_short_window_and_an_attestation(
    changes: dict[str, Any], reason: str
) -> None:
    assert reason_of(lambda: filed(**changes)) == reason


def test_six_hours_is_allowed() -> None:
    assert filed(window_start=NOW - timedelta(hours=7)).state is EmergencyState.PENDING


@pytest.mark.parametrize(
    "changes",
    [
        {"device_ids": frozenset()},
        {"window_end": NOW - timedelta(hours=3)},
        {"now": NOW.replace(tzinfo=None)},
    ],
)
def test_malformed_emergencies_are_invalid(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        filed(**changes)


def test_two_different_reviewers_approve() -> None:
    once = approve(filed(), "rev-a", NOW)
    assert once.state is EmergencyState.PENDING
    twice = approve(once, "rev-b", NOW + timedelta(minutes=5))
    assert twice.state is EmergencyState.APPROVED
    assert twice.approved_at == NOW + timedelta(minutes=5)
    assert twice.approvals == ("rev-a", "rev-b")


def test_the_same_reviewer_cannot_approve_twice() -> None:
    with pytest.raises(Conflict):
        approve(approve(filed(), "rev-a", NOW), "rev-a", NOW)


@pytest.mark.parametrize(
    "request_", [filed(), approve(filed(), "rev-a", NOW)], ids=["none", "one-approval"]
)
def test_one_refusal_ends_the_request(request_: EmergencyRequest) -> None:
    refused = refuse(request_, "rev-c")
    assert refused.state is EmergencyState.REFUSED
    assert refused.refused_by == "rev-c"
    with pytest.raises(Conflict):
        approve(refused, "rev-d", NOW)


def approved() -> EmergencyRequest:
    return approve(approve(filed(), "rev-a", NOW), "rev-b", NOW)


def test_only_an_approved_emergency_reaches_footage_in_scope() -> None:
    clip = (NOW - timedelta(minutes=90), NOW - timedelta(minutes=80))
    check_emergency_disclosure(approved(), "cam-1", *clip)
    assert (
        reason_of(lambda: check_emergency_disclosure(filed(), "cam-1", *clip))
        == "emergency_not_approved"
    )
    assert (
        reason_of(lambda: check_emergency_disclosure(approved(), "cam-2", *clip))
        == "device_out_of_scope"
    )
    over = mark_over(approved(), NOW)
    assert (
        reason_of(lambda: check_emergency_disclosure(over, "cam-1", *clip))
        == "emergency_not_approved"
    )
    assert (
        reason_of(lambda: check_emergency_disclosure(approved(), "cam-1", *clip, indoor=True))
        == "indoor_not_in_emergency"
    )


def test_settled_requests_cannot_be_refused_or_ended_again() -> None:
    with pytest.raises(Conflict):
        refuse(approved(), "rev-c")
    with pytest.raises(Conflict):
        mark_over(filed(), NOW)
    with pytest.raises(Conflict):
        mark_over(mark_over(approved(), NOW), NOW)


def test_owner_notice_is_due_thirty_days_after_approval_at_the_latest() -> None:
    assert emergency_notice_due(approved()) == NOW + timedelta(days=30)


@pytest.mark.parametrize(
    ("over_after", "due_after"),
    [(timedelta(days=2), timedelta(days=2)), (timedelta(days=45), timedelta(days=30))],
)
def test_owner_notice_is_due_when_over_and_within_thirty_days(
    over_after: timedelta, due_after: timedelta
) -> None:
    assert emergency_notice_due(mark_over(approved(), NOW + over_after)) == NOW + due_after


def test_no_notice_for_a_request_never_approved() -> None:
    assert emergency_notice_due(refuse(filed(), "rev-a")) is None
