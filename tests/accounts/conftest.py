"""Accounts' fixtures: a real SMTP server for the email tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mailbox import Mailbox


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """An SMTP server on loopback for one test."""
    box = Mailbox()
    box.start()
    yield box
    box.stop()
