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


def test_apprise_gets_rings_alerts_requests_and_disclosures_only() -> None:
    assert notice_text({"type": "ring", "camera_name": "Porch"}) == (
        "Doorbell",
        "Someone rang at Porch.",
    )
    alert = {"type": "event_started", "alert": True, "labels": ["person"], "camera_name": "Gate"}
    assert notice_text(alert) == ("Alert", "person at Gate.")
    assert notice_text({**alert, "alert": False}) is None
    clip = {"type": "clip", "alert": True, "clip": {"camera_name": "Yard", "labels": []}}
    assert notice_text(clip) == ("Alert", "Motion at Yard.")
    rfa = {"type": "rfa", "request": {"agency_name": "PPB"}}
    assert notice_text(rfa) == ("Request for assistance", "PPB asks for footage near your cameras.")
    assert notice_text({"type": "mjpeg"}) is None


def test_a_relay_password_is_never_sent_in_clear() -> None:
    with pytest.raises(ValidationError, match="in clear"):
        Settings(smtp_host="mail.example.org", smtp_user="door", smtp_starttls=False)
    Settings(smtp_host="mail.example.org", smtp_user="door", smtp_starttls=False, smtp_tls=True)
