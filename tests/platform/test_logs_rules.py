"""What a log line may say: request ids, truncated networks and the scrubbing net (pure rules)."""

from __future__ import annotations

import pytest

from doorstep.media.errors import SourceUnavailable, without_credentials
from doorstep.platform.observe import log_rules


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::/48"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),
        ("fe80::1%eth0", "fe80::/48"),
        ("testclient", None),
        ("", None),
        (None, None),
    ],
)
def test_a_client_address_is_logged_only_as_its_network(
    address: str | None, network: str | None
) -> None:
    assert log_rules.client_network(address) == network


@pytest.mark.parametrize(
    "incoming",
    [
        "f1e2d3c4b5a69788",
        "0b7e2f4c-9a1d-4a8e-bc3f-2d6e8f9a0b1c",
        "lb_request-42abc",
    ],
)
def test_a_short_safe_request_id_is_kept(incoming: str) -> None:
    assert log_rules.request_id(incoming) == incoming


@pytest.mark.parametrize(
    "incoming",
    [
        None,
        "",
        "short",
        "192.168.10.20",
        "ada@example.org",
        "x" * 65,
        "id with spaces in it",
        "id\nforged log line",
        "\x1b[31mred-terminal",
    ],
)
def test_any_other_request_id_is_replaced_by_a_new_one(incoming: str | None) -> None:
    replaced = log_rules.request_id(incoming)
    assert replaced != incoming
    assert len(replaced) == 16
    assert int(replaced, 16) >= 0
    assert log_rules.request_id(incoming) != replaced  # fresh each time


def test_secret_named_fields_are_redacted_whatever_their_value() -> None:
    fields = {
        "password": "hunter2-hunter2",
        "Authorization": "Bearer abc",
        "session_token": 1234,
        "cookie": {"doorstep_session": "x"},
        "email": "ada@example.org",
        "client_ip": "10.1.2.3",
        "user_agent": "Mozilla/5.0",
        "query": "q=secret",
        "route": "/api/v1/clips/{clip_id}",
        "recipient_count": 3,
    }
    assert log_rules.scrub_fields(fields) == {
        "password": "[redacted]",
        "Authorization": "[redacted]",
        "session_token": "[redacted]",
        "cookie": "[redacted]",
        "email": "[redacted]",
        "client_ip": "[redacted]",
        "user_agent": "[redacted]",
        "query": "[redacted]",
        "route": "/api/v1/clips/{clip_id}",
        "recipient_count": 3,
    }


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("login from 203.0.113.77 failed", "login from [address] failed"),
        ("peer [2001:db8::7]:443 closed", "peer [[address]]:443 closed"),
        ("mailed ada.l+x@example.org twice", "mailed [email] twice"),
        ("rtsp://admin:hunter2@cam.local/stream", "rtsp://[redacted]@cam.local/stream"),
        ("header was Bearer eyJhbGciOi.xyz", "header was Bearer [redacted]"),
        ("redis://:hunter2@redis:6379/0", "redis://[redacted]@redis:6379/0"),
        ("rtsp://admin:p@ss@cam.local/stream", "rtsp://[redacted]@cam.local/stream"),
        (
            "http://cam/snap.jpg?user=admin&pwd=hunter2",
            "http://cam/snap.jpg?user=admin&pwd=[redacted]",
        ),
        (
            "GET /x?access_token=abc&sig=def&n=1",
            "GET /x?access_token=[redacted]&sig=[redacted]&n=1",
        ),
        (
            "at ?Password=a&api_key=b&Auth=c",
            "at ?Password=[redacted]&api_key=[redacted]&Auth=[redacted]",
        ),
        ("peer [2001:db8::1]:443 closed", "peer [[address]]:443 closed"),
        ("peer 2001:db8:1:2:3:4:5:6:443 closed", "peer [address]:443 closed"),
        ("peer 2001:db8:0:0:0:0:0:1 closed", "peer [address] closed"),
        (
            "Key (token_hash)=(9f2c4e) already exists.",
            "Key (token_hash)=([redacted]) already exists.",
        ),
        ("Failing row contains (7, 48.85, 2.29).", "Failing row contains ([redacted])."),
        ("took 12:34:56 and version 1.2.3", "took 12:34:56 and version 1.2.3"),
        ("Running upgrade 0025 -> 0026", "Running upgrade 0025 -> 0026"),
    ],
)
def test_values_lose_addresses_emails_and_credentials(text: str, scrubbed: str) -> None:
    assert log_rules.scrub_text(text) == scrubbed


def test_nested_values_and_the_event_are_scrubbed_and_trusted_fields_kept() -> None:
    fields = {
        "event": "refused 198.51.100.4",
        "network": "198.51.100.0/24",
        "details": ["from 198.51.100.4", {"who": "ada@example.org"}],
        "status": 403,
    }
    assert log_rules.scrub_fields(fields) == {
        "event": "refused [address]",
        "network": "198.51.100.0/24",
        "details": ["from [address]", {"who": "[email]"}],
        "status": 403,
    }


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("http://cam/snap.jpg?user=admin&pwd=hunter2", "http://cam/snap.jpg"),
        ("rtsp://admin:p@ss@cam.local/stream?token=hunter2#x", "rtsp://***@cam.local/stream"),
        ("redis://:hunter2@redis:6379/0", "redis://***@redis:6379/0"),
        ("/dev/video0", "/dev/video0"),
    ],
)
def test_a_camera_error_shows_its_source_without_credentials_or_query(
    source: str, shown: str
) -> None:
    assert without_credentials(source) == shown
    error = SourceUnavailable(source, f"connection refused by {source}")
    assert "hunter2" not in error.detail
    assert "hunter2" not in str(error.extra)


@pytest.mark.parametrize(
    ("peer", "trusted"),
    [
        ("10.0.0.5", True),
        ("::ffff:10.0.0.9", True),
        ("fd00::1", True),
        ("10.0.1.5", False),
        ("203.0.113.77", False),
        ("testclient", False),
        (None, False),
    ],
)
def test_only_a_trusted_proxy_names_the_request_id(peer: str | None, trusted: bool) -> None:
    proxies = ["10.0.0.0/24", "fd00::/64"]
    assert log_rules.is_trusted_peer(peer, proxies) is trusted
    chosen = log_rules.request_id(
        "lb-7f3a9c2e11d0", trusted=log_rules.is_trusted_peer(peer, proxies)
    )
    assert (chosen == "lb-7f3a9c2e11d0") is trusted
