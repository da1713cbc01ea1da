"""The server's VAPID key: given by the operator (PEM or raw) or generated, and its JWTs."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr

from doorstep.errors import ConfigurationError
from doorstep.notify.service_vapid import JWT_SECONDS, Signer, private_key, public_key
from doorstep.settings import Environment, Settings
from tests.notify.push_service import b64url, point, verify_vapid


def _settings(tmp_path: Path, given: str = "") -> Settings:
    return Settings(env=Environment.TEST, data_dir=tmp_path, vapid_private_key=SecretStr(given))


def test_a_given_key_is_used_as_pem_or_raw(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    expected = b64url(point(key.public_key()))
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    raw = b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    assert public_key(_settings(tmp_path / "a", pem)) == expected
    assert public_key(_settings(tmp_path / "b", raw)) == expected
    # Given, nothing is written to the data folder.
    assert not (tmp_path / "a").exists()


def test_a_key_that_is_not_one_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="DOORSTEP_VAPID_PRIVATE_KEY"):
        private_key(_settings(tmp_path, "bm90IGEga2V5"))


def test_the_jwt_is_signed_once_per_audience_and_verifies(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    signer = Signer(private_key(settings), "mailto:ops@example.org")
    header = signer.authorization("https://push.example.org")
    assert signer.authorization("https://push.example.org") == header
    assert signer.authorization("https://other.example.org") != header
    now = time.time()
    assert verify_vapid(header, "https://push.example.org", now) == public_key(settings)
    token = header.split("t=", 1)[1].split(",", 1)[0]
    claims_part = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(claims_part + "=" * (-len(claims_part) % 4)))
    assert claims["sub"] == "mailto:ops@example.org"
    assert claims["exp"] <= now + JWT_SECONDS + 1
