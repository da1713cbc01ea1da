"""A letter goes to the one address it names: never to a list smuggled into that address."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from doorstep.errors import InvalidInput
from doorstep.platform import mail
from doorstep.settings import Environment, Settings
from tests.mailbox import Mailbox


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """An SMTP server on loopback for one test."""
    box = Mailbox()
    box.start()
    yield box
    box.stop()


def _settings(tmp_path: Path, mailbox: Mailbox) -> Settings:
    return Settings(env=Environment.TEST, data_dir=tmp_path, **mailbox.settings())


@pytest.mark.parametrize(
    "to",
    [
        "me@example.org,victim@example.org",
        "me@example.org;victim@example.org",
        "<victim@example.org>me@example.org",
        "me@example.org\nBcc:victim@example.org",
    ],
)
def test_an_address_that_is_a_list_is_refused_and_nobody_gets_it(
    tmp_path: Path, mailbox: Mailbox, to: str
) -> None:
    letter = mail.Letter(to, "Confirm your email for Doorstep", "a link")
    with pytest.raises(InvalidInput):
        mail.send(_settings(tmp_path, mailbox), letter)
    mail.send(_settings(tmp_path, mailbox), mail.Letter("me@example.org", "next", "text"))
    mailbox.wait_for(1)
    assert mailbox.recipients == [["me@example.org"]]
