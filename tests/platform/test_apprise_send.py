"""What the account page shows of an Apprise URL: never a part that could be its secret."""

from __future__ import annotations

import pytest

from doorstep.platform import apprise_send


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        # Telegram's bot token is "id:key": the key is read as a (bad) port.
        ("tgram://123456789:ABCdefGHIjklMNO/12345", "ABCdefGHIjklMNO"),
        # On ntfy.sh the topic is the whole secret: anyone who knows it reads the notices.
        ("ntfys://my-secret-topic", "my-secret-topic"),
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ", "t1jj3t3l2"),
    ],
)
def test_a_token_where_the_host_would_be_is_not_shown(url: str, secret: str) -> None:
    shown = apprise_send.masked(apprise_send.check_url(url))
    assert secret.lower() not in shown.lower()
    assert shown.startswith(url.split("://", 1)[0] + "://")


def test_a_real_host_and_port_are_shown() -> None:
    url = "ntfys://ntfy.example.org:8443/private-topic"
    assert apprise_send.masked(url) == "ntfys://ntfy.example.org:8443/…"
    assert apprise_send.masked("json://127.0.0.1:9/hook?token=x") == "json://127.0.0.1:9/…"
