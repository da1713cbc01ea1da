"""Where `doorstep audit verify` keeps pins: per origin, private, never silently replaced."""

from __future__ import annotations

import base64
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from doorstep.errors import InvalidInput
from doorstep.transparency.merkle import EMPTY_ROOT, sign_tree_head
from doorstep.transparency.pins import Pin, PinStore, parse_public_key, server_origin, state_folder

PRIVATE = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
RAW = PRIVATE.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_state_folder_follows_xdg_and_ignores_a_relative_value() -> None:
    assert state_folder({"XDG_STATE_HOME": "/srv/state"}) == Path("/srv/state/doorstep")
    home = Path.home() / ".local" / "state" / "doorstep"
    assert state_folder({"XDG_STATE_HOME": "relative/state"}) == home
    assert state_folder({}) == home


@pytest.mark.parametrize(
    ("given", "origin"),
    [
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("HTTPS://Doorstep.Example:443/audit", "https://doorstep.example"),
        ("http://doorstep.example:80", "http://doorstep.example"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_one_origin_per_server(given: str, origin: str) -> None:
    assert server_origin(given) == origin


@pytest.mark.parametrize("given", ["ftp://example.org", "doorstep.example", "http://:80"])
def test_an_address_that_is_not_http_is_refused(given: str) -> None:
    with pytest.raises(InvalidInput):
        server_origin(given)


def test_a_key_is_read_from_base64_hex_a_file_or_pem(tmp_path: Path) -> None:
    assert parse_public_key(base64.b64encode(RAW).decode()) == RAW
    assert parse_public_key(RAW.hex()) == RAW
    key_file = tmp_path / "log.pub"
    key_file.write_text(base64.b64encode(RAW).decode() + "\n")
    assert parse_public_key(str(key_file)) == RAW
    pem = PRIVATE.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    key_file.write_bytes(pem)
    assert parse_public_key(str(key_file)) == RAW


@pytest.mark.parametrize("given", ["not a key", base64.b64encode(b"short").decode(), ""])
def test_anything_else_is_not_a_key(given: str) -> None:
    with pytest.raises(InvalidInput):
        parse_public_key(given)


def test_a_pin_round_trips_privately(tmp_path: Path) -> None:
    store = PinStore(tmp_path / "doorstep")
    head = sign_tree_head(0, EMPTY_ROOT, datetime(2026, 12, 5, tzinfo=UTC), bytes(range(32)))
    origin = "http://127.0.0.1:8000"
    assert store.load(origin) is None
    path = store.save(Pin(origin, RAW, head))
    assert store.load(origin) == Pin(origin, RAW, head)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert store.path_for("http://127.0.0.1:8001") != path
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_a_damaged_pin_is_an_error_not_a_fresh_start(tmp_path: Path) -> None:
    store = PinStore(tmp_path / "doorstep")
    origin = "https://doorstep.example"
    path = store.save(Pin(origin, RAW))
    path.write_text(path.read_text().replace(base64.b64encode(RAW).decode(), "AAAA"))
    with pytest.raises(InvalidInput, match="damaged"):
        store.load(origin)
    path.write_text("{")
    with pytest.raises(InvalidInput, match="cannot read"):
        store.load(origin)
