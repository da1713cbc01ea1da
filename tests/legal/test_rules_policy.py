"""Indoor cameras need a demand that names them; emergency requests are published after a delay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from doorstep.errors import InvalidInput, PolicyRefused
from doorstep.legal.rules import (
    EMERGENCY_NOTICE_LIMIT,
    DemandKind,
    EmergencyRequest,
    EmergencyState,
    LegalDemand,
    approve,
    check_disclosure,
    emergency_published_at,
    file_emergency,
    mark_over,
    refuse,
)

T0 = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=4)
CLIP = (T0 + timedelta(hours=1), T0 + timedelta(hours=1, minutes=2))
DEVICES = frozenset({"porch", "hall"})
DELAY = timedelta(days=30)


def _refusal(demand: LegalDemand, device: str, *, indoor: bool) -> str | None:
    try:
        check_disclosure(demand, device, *CLIP, False, indoor=indoor)
    except PolicyRefused as err:
        return str(err.extra["reason"])
    return None


@pytest.mark.parametrize("kind", [DemandKind.WARRANT, DemandKind.COURT_ORDER])
def test_an_indoor_camera_listed_but_not_named_is_never_reached(kind: DemandKind) -> None:
    demand = LegalDemand(kind, "acct-1", DEVICES, T0, T1, covers_footage=True)
    assert _refusal(demand, "hall", indoor=True) == "indoor_not_named"
    assert _refusal(demand, "porch", indoor=False) is None


def test_an_indoor_camera_the_demand_names_is_reached() -> None:
    demand = LegalDemand(
        DemandKind.WARRANT, "acct-1", DEVICES, T0, T1, indoor_named=frozenset({"hall"})
    )
    assert _refusal(demand, "hall", indoor=True) is None
    # Naming one indoor camera names no other.
    assert _refusal(demand, "porch", indoor=True) == "indoor_not_named"


def test_the_named_indoor_cameras_must_be_among_the_demands_devices() -> None:
    with pytest.raises(InvalidInput) as caught:
        LegalDemand(
            DemandKind.WARRANT, "acct-1", DEVICES, T0, T1, indoor_named=frozenset({"bedroom"})
        )
    assert caught.value.field == "indoor_device_ids"


def test_scope_is_checked_before_the_indoor_rule() -> None:
    demand = LegalDemand(DemandKind.WARRANT, "acct-1", DEVICES, T0, T1)
    assert _refusal(demand, "garage", indoor=True) == "device_out_of_scope"


def _filed() -> EmergencyRequest:
    attestation = "A child is missing and was last seen at this door; we fear for her life."
    return file_emergency("e-1", "ag-1", DEVICES, T0, T1, attestation, T1)


def _approved(at: datetime) -> EmergencyRequest:
    return approve(approve(_filed(), "rev-1", at), "rev-2", at)


def test_a_pending_emergency_is_never_published() -> None:
    assert emergency_published_at(_filed(), DELAY) is None
    assert emergency_published_at(approve(_filed(), "rev-1", T1), DELAY) is None


def test_an_approved_emergency_is_published_after_the_delay_from_approval() -> None:
    approved_at = T1 + timedelta(minutes=5)
    over = mark_over(_approved(approved_at), approved_at + timedelta(hours=3))
    assert emergency_published_at(over, DELAY) == approved_at + DELAY
    assert emergency_published_at(over, timedelta(days=90)) == approved_at + timedelta(days=90)


def test_never_before_its_owners_are_told() -> None:
    approved_at = T1 + timedelta(minutes=5)
    approved = _approved(approved_at)
    # Not over yet: owners are told at the notice limit, so a shorter delay waits for that.
    assert emergency_published_at(approved, timedelta(0)) == approved_at + EMERGENCY_NOTICE_LIMIT
    over = mark_over(approved, approved_at + timedelta(days=2))
    assert emergency_published_at(over, timedelta(0)) == approved_at + timedelta(days=2)


def test_a_refused_emergency_is_published_after_the_delay_from_filing() -> None:
    refused = refuse(approve(_filed(), "rev-1", T1), "rev-2")
    assert refused.state is EmergencyState.REFUSED
    assert emergency_published_at(refused, DELAY) == T1 + DELAY


def test_a_negative_delay_is_refused() -> None:
    with pytest.raises(InvalidInput):
        emergency_published_at(_approved(T1), timedelta(days=-1))
