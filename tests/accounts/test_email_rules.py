"""Mailed links' rules, the "new sign-in" rule, and which events reach email and Apprise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from doorstep.accounts.rules import (
    LINK_LIFETIME,
    LinkPurpose,
    LinkState,
    link_state,
    tell_new_sign_in,
)
from doorstep.notify.service_mail import is_legal_notice, notice_text
from doorstep.settings import Settings

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def test_a_link_works_once_and_only_before_it_expires() -> None:
    ends = NOW + LINK_LIFETIME[LinkPurpose.RESET]
    assert link_state(ends, None, NOW) is LinkState.GOOD
    assert link_state(ends, NOW, NOW) is LinkState.USED
    assert link_state(ends, None, ends) is LinkState.EXPIRED
    assert LINK_LIFETIME[LinkPurpose.RESET] == timedelta(hours=1)


def test_only_a_browser_the_account_has_not_seen_gets_a_new_sign_in_mail() -> None:
    assert tell_new_sign_in(seen_before=False, account_has_seen_any=True)
    assert not tell_new_sign_in(seen_before=True, account_has_seen_any=True)
    # The account's very first browser is the one it was made in.
    assert not tell_new_sign_in(seen_before=False, account_has_seen_any=False)


def test_only_a_notice_of_disclosure_is_mailed_not_each_view_of_it() -> None:
    notice = {"type": "disclosure", "disclosure": {"basis": "emergency", "agency_name": "PPB"}}
    viewed = {"type": "disclosure", "disclosure": {"action": "download", "agency_name": "PPB"}}
    assert is_legal_notice(notice)
    assert not is_legal_notice(viewed)
    assert not is_legal_notice({"type": "ring"})


def test_apprise_gets_what_a_phone_gets_for_rings_alerts_requests_and_disclosures() -> None:
    now = "2026-12-06T04:00:00+00:00"
    ring = {"type": "ring", "camera_name": "Porch", "camera_id": "c1", "ring_id": "r1"}
    assert notice_text(ring, now) == ("Someone is at the door", "Porch: the doorbell rang")
    alert = {"type": "event_started", "alert": True, "labels": ["person"], "camera_name": "Gate"}
    assert notice_text(alert, now) == ("A person at Gate", "Open to see the clip once it is saved")
    assert notice_text({**alert, "alert": False}, now) is None
    clip = {"type": "clip", "alert": True, "clip": {"camera_name": "Yard", "labels": []}}
    assert notice_text(clip, now) == ("Motion at Yard", "A new clip was saved")
    rfa = {"type": "rfa", "request": {"agency_name": "PPB", "incident_type": "burglary"}}
    assert notice_text(rfa, now) == (
        "A request for footage near your cameras",
        "PPB asks about burglary; sharing is your choice",
    )
    assert notice_text({"type": "mjpeg"}, now) is None


def test_a_relay_password_is_never_sent_in_clear() -> None:
    with pytest.raises(ValidationError, match="in clear"):
        Settings(smtp_host="mail.example.org", smtp_user="door", smtp_starttls=False)
    Settings(smtp_host="mail.example.org", smtp_user="door", smtp_starttls=False, smtp_tls=True)
