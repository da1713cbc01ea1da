"""The server's VAPID identity (RFC 8292): its P-256 key pair and the JWTs push services check.

The key is generated into the data folder on first use, like the master key, unless the
operator gives one (``DOORSTEP_VAPID_PRIVATE_KEY``). Browsers subscribe with its public half,
so it must stay the same across restarts and across every process sending pushes.
"""

from __future__ import annotations

import base64
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from doorstep.errors import ConfigurationError
from doorstep.notify.rules_endpoints import b64url_decode
from doorstep.platform.folders import secret_file
from doorstep.settings import Settings

VAPID_KEY_FILE = "vapid-private.pem"
#: A JWT lives 12 hours (RFC 8292 allows 24) and is signed anew when under an hour is left.
JWT_SECONDS = 12 * 3600
JWT_RENEW_SECONDS = 3600

_lock = threading.Lock()
_keys: dict[tuple[str, Path], ec.EllipticCurvePrivateKey] = {}


def _decode(given: str) -> ec.EllipticCurvePrivateKey:
    text = given.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("not a P-256 private key")
        return key
    raw = b64url_decode(text)
    if len(raw) != 32:
        raise ValueError("a raw VAPID private key is 32 bytes, base64url")
    return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())


def _from_file(data_dir: Path) -> ec.EllipticCurvePrivateKey:
    path = data_dir / VAPID_KEY_FILE
    text = secret_file(
        path,
        lambda: ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    try:
        return _decode(text.decode("ascii", "replace"))
    except ValueError as err:
        raise ConfigurationError(f"{path}: not a VAPID private key ({err})") from err


def private_key(settings: Settings) -> ec.EllipticCurvePrivateKey:
    """The server's VAPID private key: given in the settings, or the data folder's."""
    given = settings.vapid_private_key.get_secret_value()
    cache_key = (given, settings.data_dir)
    with _lock:
        key = _keys.get(cache_key)
        if key is None:
            if given:
                try:
                    key = _decode(given)
                except ValueError as err:
                    raise ConfigurationError(f"DOORSTEP_VAPID_PRIVATE_KEY: {err}") from err
            else:
                key = _from_file(settings.data_dir)
            _keys[cache_key] = key
        return key


def public_key(settings: Settings) -> str:
    """The public key browsers subscribe with: base64url, no padding, uncompressed point."""
    point = (
        private_key(settings)
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return base64.urlsafe_b64encode(point).decode().rstrip("=")


class Signer:
    """Signs the VAPID JWT for each push service's origin, once per half day, not per push."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, subject: str) -> None:
        self._vapid = Vapid02(key)
        self._subject = subject
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[float, str]] = {}

    def authorization(self, audience: str) -> str:
        """The ``Authorization`` header for a push to ``audience`` (the endpoint's origin)."""
        now = time.time()
        with self._lock:
            cached = self._tokens.get(audience)
            if cached is not None and cached[0] - now > JWT_RENEW_SECONDS:
                return cached[1]
        expires = int(now) + JWT_SECONDS
        claims = {"aud": audience, "exp": expires, "sub": self._subject}
        header: str = self._vapid.sign(claims)["Authorization"]
        with self._lock:
            self._tokens[audience] = (expires, header)
        return header
