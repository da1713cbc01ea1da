"""Password hashing at production strength (the rest of the suite uses a quick hasher)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from doorstep.platform import security

pytestmark = pytest.mark.real_password_hashes


def test_passwords_are_hashed_with_argon2id_at_the_rfc_9106_low_memory_profile() -> None:
    stored = security.hash_password("a-long-enough-lantern")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert security.verify_password(stored, "a-long-enough-lantern")
    assert not security.verify_password(stored, "a-long-enough-lantern!")
    assert not security.needs_rehash(stored)


def test_an_unknown_account_costs_a_real_verification_and_never_passes() -> None:
    assert security._DUMMY_HASH.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert not security.verify_password(None, "doorstep-no-such-account")


def test_a_weaker_hash_is_marked_for_upgrade() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash("porch")
    assert security.verify_password(weak, "porch")
    assert security.needs_rehash(weak)
