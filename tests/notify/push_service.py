"""A push service on loopback that speaks RFC 8030, checks RFC 8292 VAPID and decrypts RFC 8291.

It is written from the RFCs with `cryptography` alone, apart from the library Doorstep sends
with, so a mistake in how the sender signs or encrypts cannot be mirrored here and pass.
Each subscription it hands out has its own P-256 key pair and auth secret, as a browser's
would. A POST that passes every check is decrypted and kept as a `Received`; one that does not
is answered 400/401/404/413 and kept as a `Rejected`, so a test can say why.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: RFC 8030 §7.2: a push service must take 4096 bytes of payload and may refuse more.
MAX_BODY = 4096
#: RFC 8292 §2: a token must not expire more than 24 hours after it is made.
MAX_TOKEN_LIFE = 24 * 3600
#: RFC 8030 §5.4: a topic is at most 32 characters of the URL- and filename-safe base64 alphabet.
TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")
URGENCIES = ("very-low", "low", "normal", "high")


def b64url_decode(text: str) -> bytes:
    """Decode URL-safe base64 with or without its padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    """URL-safe base64 without padding, as Web Push writes keys."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def point(key: ec.EllipticCurvePublicKey) -> bytes:
    """The 65-byte uncompressed form of a P-256 public key."""
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


@dataclass(frozen=True)
class Received:
    """One push that passed every check, decrypted; ``status`` is what it was answered."""

    subscription_id: str
    payload: dict[str, Any]
    headers: dict[str, str]
    at: float
    status: int = 201


@dataclass(frozen=True)
class Rejected:
    """One POST refused, with the status answered and the reason."""

    subscription_id: str | None
    status: int
    reason: str
    headers: dict[str, str]
    at: float


@dataclass
class Subscription:
    """What a browser keeps for one push subscription: its key pair and auth secret."""

    id: str
    name: str | None
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    scripted: list[tuple[int, int | None]] = field(default_factory=list)


class Refused(Exception):
    """A check failed: answer ``status`` and record ``reason``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def verify_vapid(authorization: str, origin: str, now: float) -> str:
    """Check an RFC 8292 ``vapid t=…, k=…`` header against ``origin``; return ``k``."""
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() != "vapid":
        raise Refused(401, f"Authorization scheme is {scheme!r}, not vapid")
    params = dict(part.strip().partition("=")[::2] for part in rest.split(","))
    token, key = params.get("t", ""), params.get("k", "")
    if not token or not key:
        raise Refused(401, "Authorization lacks t= or k=")
    try:
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
        header_part, claims_part, signature_part = token.split(".")
        header = json.loads(b64url_decode(header_part))
        claims = json.loads(b64url_decode(claims_part))
        signature = b64url_decode(signature_part)
    except ValueError as error:
        raise Refused(401, f"malformed VAPID token or key: {error}") from error
    if header.get("alg") != "ES256":
        raise Refused(401, f"JWT alg is {header.get('alg')!r}, not ES256")
    # JWS ES256 signatures are r || s, 32 bytes each (RFC 7518 §3.4), not DER.
    if len(signature) != 64:
        raise Refused(401, "ES256 signature is not 64 bytes")
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        public.verify(der, f"{header_part}.{claims_part}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as error:
        raise Refused(401, "JWT signature does not verify under k") from error
    if not isinstance(claims, dict):
        raise Refused(401, "JWT claims are not an object")
    if claims.get("aud") != origin:
        raise Refused(401, f"JWT aud is {claims.get('aud')!r}, not {origin!r}")
    expires = claims.get("exp")
    if not isinstance(expires, int) or expires <= now:
        raise Refused(401, f"JWT exp {expires!r} is not in the future")
    if expires > now + MAX_TOKEN_LIFE:
        raise Refused(401, f"JWT exp {expires!r} is more than 24 hours away")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.startswith(("mailto:", "https:")):
        raise Refused(401, f"JWT sub {subject!r} is neither mailto: nor https:")
    return key


def decrypt(body: bytes, subscription: Subscription) -> bytes:
    """Undo RFC 8291 ``aes128gcm`` with the subscription's private key and auth secret."""
    # RFC 8188 §2.1 header: salt (16), record size (4), key id length (1), key id.
    if len(body) < 21:
        raise Refused(400, "body shorter than an aes128gcm header")
    salt, record_size, id_length = body[:16], int.from_bytes(body[16:20], "big"), body[20]
    sender_point, ciphertext = body[21 : 21 + id_length], body[21 + id_length :]
    if id_length != 65:
        raise Refused(400, "key id is not the sender's 65-byte public key (RFC 8291 §4)")
    if record_size < 18:
        raise Refused(400, f"record size {record_size} is below 18")
    try:
        sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender_point)
    except ValueError as error:
        raise Refused(400, "sender key is not a P-256 point") from error
    shared = subscription.private_key.exchange(ec.ECDH(), sender)
    # RFC 8291 §3.4: the auth secret and both public keys are mixed into the input key.
    key_info = b"WebPush: info\x00" + point(subscription.private_key.public_key()) + sender_point
    ikm = HKDF(hashes.SHA256(), 32, subscription.auth, key_info).derive(shared)
    cek = HKDF(hashes.SHA256(), 16, salt, b"Content-Encoding: aes128gcm\x00").derive(ikm)
    nonce = HKDF(hashes.SHA256(), 12, salt, b"Content-Encoding: nonce\x00").derive(ikm)
    records = [ciphertext[at : at + record_size] for at in range(0, len(ciphertext), record_size)]
    if not records:
        raise Refused(400, "no ciphertext")
    plain = bytearray()
    for sequence, record in enumerate(records):
        iv = (int.from_bytes(nonce, "big") ^ sequence).to_bytes(12, "big")
        try:
            padded = AESGCM(cek).decrypt(iv, record, None)
        except InvalidTag as error:
            raise Refused(400, "payload does not decrypt with this subscription's keys") from error
        content = padded.rstrip(b"\x00")
        last = sequence == len(records) - 1
        # RFC 8188 §2: the last record's delimiter is 2, every other record's is 1.
        if not content or content[-1] != (2 if last else 1):
            raise Refused(400, "bad padding delimiter")
        plain += content[:-1]
    return bytes(plain)


class PushService:
    """An RFC 8030 push service on 127.0.0.1 in a thread of its own."""

    def __init__(self, expected_key: str | None = None, *, delay: float = 0.0) -> None:
        self.expected_key = expected_key
        #: Seconds each answer takes, as across the internet to a real push service.
        self.delay = delay
        self.received: list[Received] = []
        self.rejected: list[Rejected] = []
        self._subscriptions: dict[str, Subscription] = {}
        self._lock = threading.Condition()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>``: what a VAPID ``aud`` must say."""
        assert self._server is not None, "start the push service first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Self:
        """Listen on a free loopback port."""
        server = _Server(("127.0.0.1", 0), _Handler, bind_and_activate=False)
        server.push = self
        # Hundreds of sends arrive at once from a bench: the default backlog of 5 would drop them.
        server.request_queue_size = 1024
        server.daemon_threads = True
        server.server_bind()
        server.server_activate()
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="push-service"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and wait for the thread."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def subscription(self, name: str | None = None) -> dict[str, Any]:
        """A new subscription as ``PushManager.subscribe()`` gives it, in its JSON form."""
        private_key = ec.generate_private_key(ec.SECP256R1())
        subscription = Subscription(
            secrets.token_urlsafe(12), name, private_key, secrets.token_bytes(16)
        )
        with self._lock:
            self._subscriptions[subscription.id] = subscription
        return {
            "endpoint": f"{self.origin}/push/{subscription.id}",
            "keys": {
                "p256dh": b64url(point(private_key.public_key())),
                "auth": b64url(subscription.auth),
            },
        }

    @staticmethod
    def subscription_id(endpoint: str) -> str:
        """The id in one of this service's endpoints."""
        return endpoint.rsplit("/", 1)[1]

    def respond(
        self, subscription_id: str, status: int, *, times: int = 1, retry_after: int | None = None
    ) -> None:
        """Answer the next ``times`` valid pushes to this subscription with ``status``."""
        with self._lock:
            self._subscriptions[subscription_id].scripted.extend([(status, retry_after)] * times)

    def wait_for(
        self, n: int, timeout: float = 10.0, subscription_id: str | None = None
    ) -> list[Received]:
        """Wait until ``n`` pushes (to one subscription, if given) are received; return them."""
        deadline = time.monotonic() + timeout

        def matching() -> list[Received]:
            return [r for r in self.received if subscription_id in (None, r.subscription_id)]

        with self._lock:
            while len(found := matching()) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{len(found)} of {n} pushes arrived in {timeout} s; "
                        f"refused: {[(r.status, r.reason) for r in self.rejected]}"
                    )
                self._lock.wait(left)
            return found

    def handle(
        self, path: str, headers: dict[str, str], body: bytes, at: float
    ) -> tuple[int, dict[str, str]]:
        """Check and record one POST; return the status and headers to answer with."""
        subscription_id = path.removeprefix("/push/") if path.startswith("/push/") else None
        try:
            with self._lock:
                subscription = self._subscriptions.get(subscription_id or "")
            if subscription is None:
                raise Refused(404, f"no subscription at {path}")
            self._check(headers, body, at)
            payload = json.loads(decrypt(body, subscription))
            if not isinstance(payload, dict):
                raise Refused(400, f"payload is {type(payload).__name__}, not a JSON object")
        except Refused as refused:
            with self._lock:
                self.rejected.append(
                    Rejected(subscription_id, refused.status, refused.reason, headers, at)
                )
                self._lock.notify_all()
            return refused.status, {}
        except ValueError as error:
            with self._lock:
                self.rejected.append(
                    Rejected(subscription_id, 400, f"payload is not JSON: {error}", headers, at)
                )
                self._lock.notify_all()
            return 400, {}
        with self._lock:
            status, retry_after = (
                subscription.scripted.pop(0) if subscription.scripted else (201, None)
            )
            self.received.append(Received(subscription.id, payload, headers, at, status))
            self._lock.notify_all()
        answer = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        if status == 201:
            # RFC 8030 §5: the push message's own URL.
            answer["Location"] = f"{self.origin}/message/{secrets.token_urlsafe(8)}"
        return status, answer

    def _check(self, headers: dict[str, str], body: bytes, at: float) -> None:
        if headers.get("content-encoding") != "aes128gcm":
            raise Refused(
                400, f"Content-Encoding is {headers.get('content-encoding')!r}, not aes128gcm"
            )
        ttl = headers.get("ttl")
        if ttl is None or not ttl.isdigit():
            raise Refused(400, f"TTL header missing or not a number: {ttl!r}")
        urgency = headers.get("urgency")
        if urgency is not None and urgency not in URGENCIES:
            raise Refused(400, f"Urgency {urgency!r} is none of {URGENCIES}")
        topic = headers.get("topic")
        if topic is not None and not TOPIC.fullmatch(topic):
            raise Refused(400, f"Topic {topic!r} is not ≤ 32 base64url characters")
        if len(body) > MAX_BODY:
            raise Refused(413, f"body of {len(body)} bytes is over {MAX_BODY}")
        key = verify_vapid(headers.get("authorization", ""), self.origin, at)
        if self.expected_key is not None and key != self.expected_key:
            raise Refused(401, "VAPID key k is not the application server's key")


class _Server(ThreadingHTTPServer):
    push: PushService


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive, so a sender's connection pool is used as it would be against a real service.
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        at = time.time()
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, extra = self.server.push.handle(self.path, headers, body, at)
        if self.server.push.delay:
            time.sleep(self.server.push.delay)
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """Keep the test output clean."""
