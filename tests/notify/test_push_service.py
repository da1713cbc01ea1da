"""The test push service itself: it takes what a real Web Push sender sends and refuses the rest."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from pywebpush import WebPusher, WebPushException, webpush

from tests.notify.push_service import PushService, b64url, point

SUBJECT = "mailto:operator@doorstep.invalid"
PAYLOAD = {
    "type": "ring",
    "title": "Someone is at Front door",
    "body": "Tap to answer",
    "camera": "Front door",
    "at": "2026-12-06T03:00:00+00:00",
    "url": "/cameras/c1/live?ring=r1",
    "tag": "ring-c1",
}


def vapid_key() -> Vapid02:
    return Vapid02(private_key=ec.generate_private_key(ec.SECP256R1()))


def public_key(vapid: Vapid02) -> str:
    return b64url(point(vapid.public_key))


def send_signed(
    subscription: dict[str, Any], vapid: Vapid02, claims: dict[str, Any], **headers: str
) -> int:
    """Encrypt PAYLOAD for the subscription and POST it with a token over exactly ``claims``."""
    signed: dict[str, str] = vapid.sign(claims)
    response = WebPusher(subscription).send(
        json.dumps(PAYLOAD), headers={**signed, **headers}, ttl=60, timeout=10
    )
    return int(response.status_code)


def test_a_pywebpush_message_is_checked_decrypted_and_recorded(push_service: PushService) -> None:
    vapid = vapid_key()
    push_service.expected_key = public_key(vapid)
    subscription = push_service.subscription(name="phone")
    response = webpush(
        subscription,
        json.dumps(PAYLOAD),
        vapid_private_key=vapid,
        vapid_claims={"sub": SUBJECT},
        ttl=60,
        headers={"Urgency": "high", "Topic": "ring-c1"},
        timeout=10,
    )
    assert response.status_code == 201
    assert response.headers["Location"].startswith(push_service.origin)
    [received] = push_service.wait_for(1)
    assert received.payload == PAYLOAD
    assert received.subscription_id == PushService.subscription_id(subscription["endpoint"])
    assert received.headers["ttl"] == "60"
    assert received.headers["urgency"] == "high"
    assert received.headers["topic"] == "ring-c1"
    assert received.status == 201
    assert push_service.rejected == []


def test_a_push_for_another_application_server_key_is_refused(push_service: PushService) -> None:
    push_service.expected_key = public_key(vapid_key())
    subscription = push_service.subscription()
    with pytest.raises(WebPushException) as refused:
        webpush(subscription, "{}", vapid_private_key=vapid_key(), vapid_claims={"sub": SUBJECT})
    assert refused.value.response.status_code == 401
    assert "not the application server's key" in push_service.rejected[0].reason
    assert push_service.received == []


def test_a_token_signed_by_another_key_than_k_is_refused(push_service: PushService) -> None:
    signer, claimed = vapid_key(), vapid_key()
    subscription = push_service.subscription()
    claims = {"sub": SUBJECT, "aud": push_service.origin, "exp": int(time.time()) + 3600}
    token = signer.sign(claims)["Authorization"].split("t=")[1].split(",")[0]
    forged = f"vapid t={token}, k={public_key(claimed)}"
    response = WebPusher(subscription).send(
        json.dumps(PAYLOAD), headers={"Authorization": forged}, ttl=60, timeout=10
    )
    assert response.status_code == 401
    assert push_service.rejected[0].reason == "JWT signature does not verify under k"
    assert push_service.received == []


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": -60}, "is not in the future"),
        ({"exp": 25 * 3600}, "more than 24 hours away"),
        ({"aud": "https://push.example.net"}, "JWT aud is 'https://push.example.net'"),
        ({"aud": "http://127.0.0.1:1"}, "JWT aud is 'http://127.0.0.1:1'"),
    ],
)
def test_an_expired_far_off_or_misaddressed_token_is_refused(
    push_service: PushService, claims: dict[str, Any], reason: str
) -> None:
    subscription = push_service.subscription()
    now = int(time.time())
    token = {"sub": SUBJECT, "aud": push_service.origin, "exp": now + 3600}
    token.update({k: now + v if k == "exp" else v for k, v in claims.items()})
    assert send_signed(subscription, vapid_key(), token) == 401
    assert reason in push_service.rejected[0].reason
    assert push_service.received == []


def test_a_payload_for_another_subscription_does_not_decrypt(push_service: PushService) -> None:
    mine, theirs = push_service.subscription(), push_service.subscription()
    # Encrypted with the keys of one subscription, posted to the other's endpoint.
    misdirected = {"endpoint": theirs["endpoint"], "keys": mine["keys"]}
    claims = {"sub": SUBJECT, "aud": push_service.origin, "exp": int(time.time()) + 3600}
    assert send_signed(misdirected, vapid_key(), claims) == 400
    assert "does not decrypt" in push_service.rejected[0].reason


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Topic": "ring:" + "x" * 40}, "is not ≤ 32 base64url characters"),
        ({"Urgency": "urgent"}, "Urgency 'urgent'"),
    ],
)
def test_headers_rfc_8030_forbids_are_refused(
    push_service: PushService, headers: dict[str, str], reason: str
) -> None:
    claims = {"sub": SUBJECT, "aud": push_service.origin, "exp": int(time.time()) + 3600}
    assert send_signed(push_service.subscription(), vapid_key(), claims, **headers) == 400
    assert reason in push_service.rejected[0].reason


def test_a_push_without_ttl_or_in_the_old_encoding_is_refused(push_service: PushService) -> None:
    subscription = push_service.subscription()
    with httpx.Client() as http:
        bare = http.post(subscription["endpoint"], content=b"x" * 40)
        old = http.post(
            subscription["endpoint"], content=b"x" * 40, headers={"Content-Encoding": "aesgcm"}
        )
    assert (bare.status_code, old.status_code) == (400, 400)
    assert [r.reason for r in push_service.rejected] == [
        "Content-Encoding is None, not aes128gcm",
        "Content-Encoding is 'aesgcm', not aes128gcm",
    ]


def test_an_unknown_subscription_is_404(push_service: PushService) -> None:
    gone = {**push_service.subscription(), "endpoint": f"{push_service.origin}/push/nobody"}
    claims = {"sub": SUBJECT, "aud": push_service.origin, "exp": int(time.time()) + 3600}
    assert send_signed(gone, vapid_key(), claims) == 404
    assert push_service.rejected[0].subscription_id == "nobody"


def test_respond_answers_the_next_pushes_with_a_chosen_status(push_service: PushService) -> None:
    subscription = push_service.subscription()
    subscription_id = PushService.subscription_id(subscription["endpoint"])
    push_service.respond(subscription_id, 410)
    push_service.respond(subscription_id, 429, retry_after=7)
    vapid = vapid_key()
    with pytest.raises(WebPushException) as gone:
        webpush(subscription, "{}", vapid_private_key=vapid, vapid_claims={"sub": SUBJECT})
    with pytest.raises(WebPushException) as slow_down:
        webpush(subscription, "{}", vapid_private_key=vapid, vapid_claims={"sub": SUBJECT})
    webpush(subscription, "{}", vapid_private_key=vapid, vapid_claims={"sub": SUBJECT})
    assert gone.value.response.status_code == 410
    assert slow_down.value.response.status_code == 429
    assert slow_down.value.response.headers["Retry-After"] == "7"
    assert [r.status for r in push_service.wait_for(3, subscription_id=subscription_id)] == [
        410,
        429,
        201,
    ]


def test_many_pushes_at_once_are_all_taken(push_service: PushService) -> None:
    vapid = vapid_key()
    subscriptions = [push_service.subscription() for _ in range(40)]

    def send(subscription: dict[str, Any]) -> int:
        response = webpush(
            subscription,
            json.dumps(PAYLOAD),
            vapid_private_key=vapid,
            vapid_claims={"sub": SUBJECT},
        )
        return int(response.status_code)

    with ThreadPoolExecutor(max_workers=40) as pool:
        assert set(pool.map(send, subscriptions * 5)) == {201}
    assert len(push_service.wait_for(200)) == 200
    assert push_service.rejected == []
