"""The master key's guards: a first key must open the data, derived keys sealed, a busy folder."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import delete, select

from doorstep import rotation
from doorstep.accounts.models import User
from doorstep.app import create_app
from doorstep.clips import store as clips_store
from doorstep.errors import ConfigurationError
from doorstep.master_key import (
    KEPT_KEYS_FILE,
    MASTER_KEY_FILE,
    NEXT_KEPT_KEYS_FILE,
    NEXT_KEY_FILE,
    decode_master_key,
    new_master_key,
    seal_kept_keys,
)
from doorstep.platform import keycheck
from doorstep.platform.sealed import derive
from doorstep.settings import Settings
from doorstep.transparency import service as transparency
from tests.factories import resident
from tests.test_rotation import _make_everything, _opens_everything


def test_an_upgraded_database_records_only_a_first_key_that_opens_its_data(
    app: FastAPI, settings: Settings
) -> None:
    resident(TestClient(app), "ann@example.org")
    state = app.state.doorstep
    with state.db.session() as db:
        owner = db.scalars(select(User).where(User.email == "ann@example.org")).one()
        clips_store.owner_data_key(db, state.master_key, owner.id)
        # As a database from before the check was kept: no key named yet.
        db.execute(delete(keycheck.KeyCheck))
    app.state.shutdown()
    key_a = (settings.data_dir / MASTER_KEY_FILE).read_text().strip()

    with pytest.raises(ConfigurationError, match="does not open this database's data keys"):
        create_app(settings.model_copy(update={"master_key": SecretStr(new_master_key())}))
    again = create_app(settings.model_copy(update={"master_key": SecretStr(key_a)}))
    try:
        with again.state.doorstep.db.session() as db:
            assert keycheck.stored_digest(db) == keycheck.key_digest(
                bytes(again.state.doorstep.master_key)
            )
    finally:
        again.state.shutdown()


def test_the_kept_log_keys_are_sealed_under_the_new_master_key(
    app: FastAPI, settings: Settings
) -> None:
    held = _make_everything(app, settings)
    app.state.shutdown()
    old = decode_master_key((settings.data_dir / MASTER_KEY_FILE).read_text())
    secrets = [derive(old, info) for info in transparency.keys_kept_across_rotation()]

    rotation.rotate_master_key(settings)

    kept = (settings.data_dir / KEPT_KEYS_FILE).read_bytes()
    for secret in secrets:
        for form in (secret, secret.hex().encode(), base64.b64encode(secret)):
            assert form not in kept
            assert form[:16] not in kept
    assert not (settings.data_dir / NEXT_KEPT_KEYS_FILE).exists()
    # The new key opens them: the log still signs with the key its verifier pinned.
    _opens_everything(settings, held)
    other = settings.model_copy(update={"master_key": SecretStr(new_master_key())})
    with pytest.raises(ConfigurationError, match="not the one this database uses"):
        create_app(other)
    # The right key with kept keys it did not seal (another folder's): one line at start.
    current = decode_master_key((settings.data_dir / MASTER_KEY_FILE).read_text())
    sealed_elsewhere = seal_kept_keys(decode_master_key(new_master_key()), {b"x": current})
    (settings.data_dir / KEPT_KEYS_FILE).write_bytes(sealed_elsewhere)
    with pytest.raises(ConfigurationError, match="does not open with this master key"):
        create_app(settings)


_SERVER = """
import sys
from doorstep.app import create_app
from doorstep.settings import Settings
app = create_app(Settings(env="test", data_dir=sys.argv[1], database_url=sys.argv[2]))
print("up", flush=True)
sys.stdin.read()
app.state.shutdown()
"""


def test_a_rotation_is_refused_while_a_server_holds_the_data_folder(
    app: FastAPI, settings: Settings
) -> None:
    app.state.shutdown()
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(settings.data_dir), settings.resolved_database_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdin is not None
    assert server.stdout is not None
    try:
        assert server.stdout.readline().strip() == "up"
        with pytest.raises(ConfigurationError, match="stop doorstep serve and doorstep worker"):
            rotation.rotate_master_key(settings)
        assert not (settings.data_dir / NEXT_KEY_FILE).exists()
    finally:
        server.stdin.close()
        server.wait(timeout=60)
        server.stdout.close()
    assert server.returncode == 0
    assert rotation.rotate_master_key(settings).counts


def _held_locks(settings: Settings) -> int:
    lock = str(settings.data_dir / "in-use.lock")
    held = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            held += os.readlink(f"/proc/self/fd/{fd}") == lock
        except OSError:
            continue
    return held


def test_a_stopped_server_lets_go_of_its_data_folder(settings: Settings) -> None:
    # One descriptor per server left open would add up in a process that starts many (the
    # tests; past 1,024 the MQTT client's select() fails).
    app = create_app(settings)
    assert _held_locks(settings) == 1
    app.state.shutdown()
    assert _held_locks(settings) == 0
    again = create_app(settings)
    assert _held_locks(settings) == 1
    again.state.shutdown()
    assert _held_locks(settings) == 0
