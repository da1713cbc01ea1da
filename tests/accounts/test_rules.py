"""Password strength rules."""

from __future__ import annotations

import pytest

from doorstep.accounts.rules import check_password
from doorstep.errors import InvalidInput


@pytest.mark.parametrize(
    "password", ["short", "Password123", "zzzzzzzzzzzz", "x" * 257, "adalovelace-rocks"]
)
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(InvalidInput):
        check_password(password, email="adalovelace@example.org", display_name="Ada")


def test_a_long_unusual_password_is_accepted() -> None:
    check_password("lantern-porch-9", email="ada@example.org", display_name="Ada")
