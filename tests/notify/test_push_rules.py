"""The pure push decisions: what pushes, what it says, where it may go, when to try again."""

from __future__ import annotations

import ipaddress

import pytest

from doorstep.errors import InvalidInput
from doorstep.notify import rules, rules_endpoints

NOW = "2026-12-06T03:00:00+00:00"


def test_a_ring_is_urgent_short_lived_and_opens_the_answer_page() -> None:
    event = {
        "type": "ring",
        "ring_id": "r1",
        "camera_id": "c1",
        "camera_name": "Porch",
        "at": NOW,
        "snapshot": "/api/v1/rings/r1/snapshot",
        "e2e": False,
    }
    push = rules.push_for(event, NOW)
    assert push is not None
    assert push.payload() == {
        "type": "ring",
        "title": "Someone is at the door",
        "body": "Porch: the doorbell rang",
        "camera": "Porch",
        "at": NOW,
        "url": "/cameras/c1/live?ring=r1",
        "tag": "ring-c1",
    }
    assert (push.ttl, push.urgency, push.priority) == (60, "high", rules.Priority.RING)
    assert rules.TOPIC_CHARS.fullmatch(push.topic)


def test_an_answered_ring_replaces_its_ring_notification_everywhere() -> None:
    ring = rules.push_for({"type": "ring", "ring_id": "r1", "camera_id": "c1"}, NOW)
    event = {
        "type": "ring_answered",
        "ring_id": "r1",
        "camera_id": "c1",
        "camera_name": "Porch",
        "by_you": False,
    }
    push = rules.push_for(event, NOW)
    assert ring is not None
    assert push is not None
    assert push.payload() == {
        "type": "answered",
        "title": "Someone answered the door",
        "body": "Porch: answered",
        "camera": "Porch",
        "at": NOW,
        "url": "/cameras/c1",
        "tag": "ring-c1",
    }
    # The ring's tag and Topic: the push service replaces a ring still waiting for the phone.
    assert (push.tag, push.topic) == (ring.tag, ring.topic)
    # Urgent, but behind any ring: the ring lane of the outbox never waits on one.
    assert (push.ttl, push.urgency, push.priority) == (60, "high", rules.Priority.TEST)
    mine = rules.push_for({**event, "by_you": True}, NOW)
    assert mine is not None
    assert (mine.title, mine.body) == ("You answered the door", "Porch: answered on another device")


def test_motion_pushes_only_when_the_event_alerts() -> None:
    started = {"type": "event_started", "event_id": "e1", "camera_id": "c1", "labels": ["person"]}
    assert rules.push_for({**started, "alert": False}, NOW) is None
    push = rules.push_for({**started, "alert": True, "camera_name": "Porch"}, NOW)
    assert push is not None
    assert push.title == "A person at Porch"
    assert push.url == "/clips?camera=c1"
    assert (push.ttl, push.urgency) == (3600, "normal")
    clip = {"id": "k1", "camera_name": "Porch", "labels": [], "started_at": NOW}
    assert rules.push_for({"type": "clip", "alert": False, "clip": clip}, NOW) is None
    clip_push = rules.push_for({"type": "clip", "alert": True, "clip": clip}, NOW)
    assert clip_push is not None
    assert clip_push.url == "/clips/k1"
    assert clip_push.title == "Motion at Porch"


@pytest.mark.parametrize(
    ("labels", "title"),
    [
        (["motion", "vehicle"], "A vehicle at Porch"),
        (["animal", "motion", "person", "vehicle"], "A person at Porch"),
        (["animal"], "An animal at Porch"),
        (["animal", "bicycle"], "A bicycle at Porch"),
        (["motion"], "Motion at Porch"),
        (["vehicle", "unknown", 3, {"label": "person"}], "A vehicle at Porch"),
        ([], "Motion at Porch"),
        ("person", "Motion at Porch"),
    ],
)
def test_an_alert_title_names_the_most_telling_label_with_its_article(
    labels: object, title: str
) -> None:
    event = {"type": "event_started", "event_id": "e1", "camera_id": "c1", "alert": True}
    push = rules.push_for({**event, "camera_name": "Porch", "labels": labels}, NOW)
    assert push is not None
    assert push.title == title
    clip = {"id": "k1", "camera_name": "Porch", "labels": labels, "started_at": NOW}
    clip_push = rules.push_for({"type": "clip", "alert": True, "clip": clip}, NOW)
    assert clip_push is not None
    assert clip_push.title == title


def test_legal_notices_last_a_day_and_link_only_to_our_own_pages() -> None:
    notice = {"type": "disclosure", "disclosure": {"id": "d1", "url": "https://evil.example/"}}
    push = rules.push_for(notice, NOW)
    assert push is not None
    assert push.url == "/disclosures"
    assert push.ttl == 86400
    sneaky = rules.push_for({"type": "notice", "url": "//evil.example/x"}, NOW)
    assert sneaky is not None
    assert sneaky.url == "/account"


def test_events_that_are_not_for_a_phone_push_nothing() -> None:
    for kind in ("mjpeg", "answer", "ended", "session", "agency_alert", "event_updated"):
        assert rules.push_for({"type": kind}, NOW) is None


def test_a_push_survives_the_trip_through_a_job() -> None:
    push = rules.trial_push(NOW)
    assert rules.Push.from_payload(push.payload()) == push


def test_rings_go_before_notices_and_notices_before_motion() -> None:
    assert rules.Priority.RING < rules.Priority.TEST < rules.Priority.NOTICE < rules.Priority.ALERT


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.0.1",
        "127.0.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.251",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "fe80::1",
        "fd12:3456::1",
        "::ffff:192.168.0.1",
        "ff02::1",
        "2001:db8::1",
    ],
)
def test_private_and_reserved_addresses_are_not_public(address: str) -> None:
    assert not rules_endpoints.is_public(ipaddress.ip_address(address))


def test_public_addresses_are() -> None:
    for address in ("93.184.215.14", "2a00:1450:4001:80b::200a", "::ffff:93.184.215.14"):
        assert rules_endpoints.is_public(ipaddress.ip_address(address))


def test_loopback_http_only_when_allowed_and_only_the_loopback_literals() -> None:
    url = "http://127.0.0.1:8123/push/abc"
    with pytest.raises(InvalidInput):
        rules_endpoints.parse_endpoint(url, allow_loopback=False)
    endpoint = rules_endpoints.parse_endpoint(url, allow_loopback=True)
    assert endpoint.origin == "http://127.0.0.1:8123"
    assert endpoint.target == "/push/abc"
    six = rules_endpoints.parse_endpoint("http://[::1]:9/p?x=1", allow_loopback=True)
    assert (six.origin, six.target) == ("http://[::1]:9", "/p?x=1")
    for other in ("http://localhost:8123/p", "http://10.0.0.1/p", "http://push.example.org/p"):
        with pytest.raises(InvalidInput):
            rules_endpoints.parse_endpoint(other, allow_loopback=True)
    public = rules_endpoints.parse_endpoint(
        "https://fcm.googleapis.com/fcm/send/x", allow_loopback=False
    )
    assert public.origin == "https://fcm.googleapis.com"
    assert not rules_endpoints.may_connect(
        public, ipaddress.ip_address("10.0.0.1"), allow_loopback=True
    )


def test_retries_back_off_with_jitter_honour_retry_after_and_give_up() -> None:
    first = [rules.retry_delay(1, None, jitter) for jitter in (0.0, 0.999)]
    assert first == [0.5, pytest.approx(0.9995)]
    assert rules.retry_delay(3, None, 0.0) == 2.0
    assert rules.retry_delay(2, 30.0, 0.5) == 30.0
    assert rules.retry_delay(2, rules.MAX_RETRY_AFTER_SECONDS + 1, 0.5) is None
    assert rules.retry_delay(rules.MAX_ATTEMPTS, None, 0.5) is None
    assert rules.parse_retry_after("120") == 120.0
    assert rules.parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT") is None
    assert rules.parse_retry_after("-5") is None


def test_a_press_is_one_notification_not_a_ring_and_then_an_alert() -> None:
    now = "2026-12-06T04:00:00+00:00"
    started = {"type": "event_started", "alert": True, "labels": ["ring"], "camera_name": "Porch"}
    assert rules.push_for(started, now) is None
    assert (
        rules.push_for({**started, "type": "event_updated", "labels": ["person", "ring"]}, now)
        is None
    )
    clip = {"type": "clip", "alert": True, "clip": {"id": "c", "labels": ["motion", "ring"]}}
    assert rules.push_for(clip, now) is None
    assert rules.push_for({**started, "labels": ["person"]}, now) is not None
