"""Invitation rules: only the addressee answers, once, before the invitation ends."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from doorstep.errors import Conflict, InvalidInput, NotFound
from doorstep.invitations import rules
from doorstep.invitations.rules import Invitation, InvitationKind, InvitationState

NOW = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)
CODE = "ABCD-EFGH-JKMN-PQRS"


def _invitation(**changes: Any) -> Invitation:
    base = Invitation(
        invitation_id="i1",
        kind=InvitationKind.AGENCY,
        email="officer@ppb.example",
        created_at=NOW,
        expires_at=rules.expiry(NOW),
        code_digest=rules.code_digest(CODE),
    )
    return replace(base, **changes)


def test_an_invitation_lasts_its_lifetime_and_then_expires() -> None:
    invitation = _invitation()
    assert invitation.expires_at - invitation.created_at == rules.INVITATION_LIFETIME
    assert rules.state_at(invitation, NOW) is InvitationState.PENDING
    later = NOW + rules.INVITATION_LIFETIME
    assert rules.state_at(invitation, later) is InvitationState.EXPIRED
    with pytest.raises(Conflict, match="expired"):
        rules.accept(invitation, "officer@ppb.example", CODE, later)


def test_only_the_addressee_answers_and_only_once() -> None:
    invitation = _invitation()
    with pytest.raises(NotFound):
        rules.accept(invitation, "someone@else.example", CODE, NOW)
    accepted = rules.accept(invitation, "officer@ppb.example", CODE, NOW + timedelta(hours=1))
    assert accepted.state is InvitationState.ACCEPTED
    assert accepted.answered_at == NOW + timedelta(hours=1)
    with pytest.raises(Conflict):
        rules.decline(accepted, "officer@ppb.example", NOW + timedelta(hours=2))
    with pytest.raises(Conflict):
        rules.withdraw(accepted, NOW + timedelta(hours=2))


def test_declined_and_withdrawn_invitations_cannot_be_accepted() -> None:
    declined = rules.decline(_invitation(), "officer@ppb.example", NOW)
    withdrawn = rules.withdraw(_invitation(), NOW)
    for closed in (declined, withdrawn):
        with pytest.raises(Conflict):
            rules.accept(closed, "officer@ppb.example", CODE, NOW)


def test_accepting_takes_the_code_and_tries_run_out() -> None:
    invitation = _invitation()
    for wrong in ("", "ABCD-EFGH-JKMN-PQRT", "X" * 500):
        with pytest.raises(rules.WrongCode):
            rules.accept(invitation, "officer@ppb.example", wrong, NOW)
    # Typed by hand: case, spaces and full-width letters do not matter.
    typed = "abcd efgh ｊｋｍｎ pqrs"
    accepted = rules.accept(invitation, "officer@ppb.example", typed, NOW)
    assert accepted.state is InvitationState.ACCEPTED
    spent = _invitation(code_tries=rules.MAX_CODE_TRIES)
    assert rules.state_at(spent, NOW) is InvitationState.VOID
    with pytest.raises(Conflict, match="void"):
        rules.accept(spent, "officer@ppb.example", CODE, NOW)


def test_codes_are_fresh_readable_and_kept_only_as_a_digest() -> None:
    codes = {rules.new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        letters = code.replace("-", "")
        assert len(letters) == rules.CODE_LENGTH >= 10
        assert set(letters) <= set(rules.CODE_ALPHABET)
        assert code not in rules.code_digest(code)
        assert rules.code_digest(code) == rules.code_digest(code.lower())


def test_times_must_carry_a_zone() -> None:
    with pytest.raises(InvalidInput):
        _invitation(created_at=NOW.replace(tzinfo=None))
    with pytest.raises(InvalidInput):
        rules.state_at(_invitation(), NOW.replace(tzinfo=None))
