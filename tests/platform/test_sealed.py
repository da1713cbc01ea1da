"""Secrets under master-key-derived keys: sealed text bound to its row, links' derived secrets."""

from __future__ import annotations

import pytest

from doorstep.platform.crypto import DecryptionFailed
from doorstep.platform.sealed import TextSeal, derived_secret

MASTER = bytes(range(32))


def test_sealed_text_opens_only_for_its_row_and_its_key() -> None:
    seal = TextSeal(MASTER, "notice-target/v1")
    sealed = seal.seal("ntfy://user:pw@ntfy.example/door", bound_to="a\x00t1")
    assert b"pw@" not in sealed
    assert seal.open(sealed, bound_to="a\x00t1") == "ntfy://user:pw@ntfy.example/door"
    with pytest.raises(DecryptionFailed):
        seal.open(sealed, bound_to="a\x00t2")
    with pytest.raises(DecryptionFailed):
        TextSeal(MASTER, "another-purpose").open(sealed, bound_to="a\x00t1")
    with pytest.raises(DecryptionFailed):
        TextSeal(bytes(32), "notice-target/v1").open(sealed, bound_to="a\x00t1")


def test_a_derived_secret_is_the_same_each_time_and_differs_by_name_and_key() -> None:
    first = derived_secret(MASTER, "email-link/v1", "link-1")
    assert first == derived_secret(MASTER, "email-link/v1", "link-1")
    assert len(first) == 43
    assert first != derived_secret(MASTER, "email-link/v1", "link-2")
    assert first != derived_secret(bytes(32), "email-link/v1", "link-1")
