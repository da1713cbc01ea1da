"""Throttle rules: hard windows for one source, short growing waits for an account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from doorstep.accounts.throttle_rules import (
    Backoff,
    Counter,
    Window,
    client_source,
    device_proof,
    known_address_key,
    parse_device_cookie,
    source_key,
    wait_seconds,
)

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _run(rule: Window | Backoff, times: list[datetime]) -> list[Counter | timedelta]:
    counter: Counter | None = None
    results: list[Counter | timedelta] = []
    for at in times:
        result = rule.admit(counter, at)
        if isinstance(result, Counter):
            counter = result
        results.append(result)
    return results


def test_a_window_admits_its_limit_then_waits_for_the_next_window() -> None:
    rule = Window(limit=3, period=timedelta(minutes=15))
    results = _run(rule, [NOW] * 4)
    assert [isinstance(r, Counter) for r in results] == [True, True, True, False]
    assert results[-1] == timedelta(minutes=15)
    later = rule.admit(Counter(3, NOW, NOW), NOW + timedelta(minutes=15))
    assert later == Counter(1, NOW + timedelta(minutes=15), NOW + timedelta(minutes=15))


def test_a_backoff_never_waits_longer_than_its_cap() -> None:
    rule = Backoff(
        free=2,
        first_delay=timedelta(seconds=2),
        cap=timedelta(seconds=60),
        forget_after=timedelta(minutes=15),
    )
    assert [rule.delay(hits) for hits in (0, 1, 2, 3, 4)] == [
        timedelta(0),
        timedelta(0),
        timedelta(seconds=2),
        timedelta(seconds=4),
        timedelta(seconds=8),
    ]
    assert rule.delay(10_000) == timedelta(seconds=60)
    # However many failures came before, the next attempt waits at most the cap.
    waited = rule.admit(Counter(10_000, NOW, NOW), NOW)
    assert waited == timedelta(seconds=60)
    assert isinstance(rule.admit(Counter(10_000, NOW, NOW), NOW + timedelta(seconds=60)), Counter)


def test_a_backoff_forgets_after_a_quiet_spell() -> None:
    rule = Backoff(2, timedelta(seconds=2), timedelta(seconds=60), timedelta(minutes=15))
    fresh = rule.admit(Counter(50, NOW, NOW), NOW + timedelta(minutes=15))
    assert fresh == Counter(1, NOW + timedelta(minutes=15), NOW + timedelta(minutes=15))


def test_ipv6_clients_are_counted_by_their_64() -> None:
    assert client_source("2001:db8:1:2:aaaa::1") == client_source("2001:db8:1:2:bbbb::9")
    assert client_source("2001:db8:1:3::1") != client_source("2001:db8:1:2::1")
    assert client_source("::ffff:198.51.100.7") == "198.51.100.7"
    assert client_source("198.51.100.7") == "198.51.100.7"
    assert client_source("testclient") == "testclient"


def test_keys_name_no_source_and_proofs_bind_the_account_and_its_password() -> None:
    key = source_key(b"k" * 32, "sign-in-address", "198.51.100.7")
    assert "198.51.100.7" not in key
    assert key != source_key(b"k" * 32, "sign-up-address", "198.51.100.7")
    proof = device_proof(b"k" * 32, "dev", "alice", NOW)
    assert proof != device_proof(b"k" * 32, "dev", "bob", NOW)
    assert proof != device_proof(b"k" * 32, "dev", "alice", NOW + timedelta(microseconds=1))
    # The same instant in another zone is the same password.
    assert proof == device_proof(
        b"k" * 32, "dev", "alice", NOW.astimezone(timezone(timedelta(hours=2)))
    )
    address = known_address_key(b"k" * 32, "alice", "198.51.100.7")
    assert "198.51.100.7" not in address
    assert address != known_address_key(b"k" * 32, "bob", "198.51.100.7")


def test_only_device_cookies_as_doorstep_sets_them_are_read() -> None:
    proof = "ab" * 32
    assert parse_device_cookie(f"{'d' * 22}.{proof}") == ("d" * 22, proof)
    for cookie in (
        "",
        "abc.\u00e9\u00e9",
        f"{'d' * 22}.{proof}\n",
        "\u00e9" * 22 + "." + proof,
        f"{'d' * 22}.{proof.upper()}",
        f"{'d' * 22}.{proof}.{proof}",
        f"{'d' * 65}.{proof}",
        f"{'d' * 22}.{proof[:-1]}",
        f"{'d' * 22}.{proof[:-1]}\u0660",
    ):
        assert parse_device_cookie(cookie) is None, cookie


def test_waits_round_up_to_whole_seconds() -> None:
    assert wait_seconds(timedelta(milliseconds=10)) == 1
    assert wait_seconds(timedelta(seconds=2, milliseconds=100)) == 3
    assert wait_seconds(timedelta(seconds=5)) == 5
