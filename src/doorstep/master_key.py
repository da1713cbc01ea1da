"""The master key: read from DOORSTEP_MASTER_KEY, or made once into the data folder."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from doorstep.errors import ConfigurationError
from doorstep.platform.crypto import DecryptionFailed
from doorstep.platform.folders import secret_file
from doorstep.platform.sealed import MasterKey, TextSeal

if TYPE_CHECKING:
    from doorstep.settings import Settings

MASTER_KEY_FILE = "master.key"
#: The next master key while a rotation is under way (``doorstep admin rotate-master-key``).
NEXT_KEY_FILE = "master.key.next"
#: Keys derived from earlier master keys that outlive them (``platform.sealed.MasterKey``),
#: sealed under the master key in use: the log's signing key and pseudonym key are in it.
KEPT_KEYS_FILE = "derived.keys"
#: ``derived.keys`` sealed under the next master key while a rotation is under way.
NEXT_KEPT_KEYS_FILE = "derived.keys.next"
_KEPT_SEAL = "derived-keys"


def decode_master_key(value: str) -> bytes:
    """Decode a base64 master key and check it is 32 bytes."""
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as err:
        raise ValueError("the master key must be base64") from err
    if len(raw) != 32:
        raise ValueError("the master key must be 32 bytes (44 base64 characters)")
    return raw


def new_master_key() -> str:
    """Return a fresh random master key, base64-encoded."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def seal_kept_keys(master_key: bytes, kept: dict[bytes, bytes]) -> bytes:
    """The contents of ``derived.keys`` holding ``kept`` (HKDF info -> key), sealed."""
    body = json.dumps({info.decode(): base64.b64encode(key).decode() for info, key in kept.items()})
    sealed = TextSeal(bytes(master_key), _KEPT_SEAL).seal(body, bound_to=KEPT_KEYS_FILE)
    return base64.b64encode(sealed) + b"\n"


def _open_kept_keys(path: Path, master_key: bytes) -> dict[bytes, bytes]:
    """The keys in ``path``; ``DecryptionFailed`` if ``master_key`` did not seal them."""
    try:
        sealed = base64.b64decode(path.read_bytes().strip(), validate=True)
    except (binascii.Error, ValueError) as err:
        raise ConfigurationError(f"{path} is damaged; restore it from a backup") from err
    body = TextSeal(bytes(master_key), _KEPT_SEAL).open(sealed, bound_to=KEPT_KEYS_FILE)
    try:
        kept = json.loads(body)
        return {info.encode(): base64.b64decode(key) for info, key in kept.items()}
    except (ValueError, AttributeError, binascii.Error) as err:
        raise ConfigurationError(f"{path} is damaged; restore it from a backup") from err


def read_kept_keys(data_dir: Path, master_key: bytes) -> dict[bytes, bytes]:
    """The derived keys a rotation kept (HKDF info -> key), none if no rotation happened here.

    They open only with the master key in use. A rotation that committed but did not get to
    put its ``derived.keys.next`` in place has them sealed under the new key there.
    """
    path = data_dir / KEPT_KEYS_FILE
    if not path.exists():
        return {}
    try:
        return _open_kept_keys(path, master_key)
    except DecryptionFailed:
        pass
    following = data_dir / NEXT_KEPT_KEYS_FILE
    try:
        if following.exists():
            return _open_kept_keys(following, master_key)
    except DecryptionFailed:
        pass
    raise ConfigurationError(
        f"{path} does not open with this master key: give the current DOORSTEP_MASTER_KEY or "
        "master.key, or restore the data folder from a backup"
    )


def rotation_pending(settings: Settings) -> bool:
    """Whether a master key rotation began here and has not finished."""
    return (settings.data_dir / NEXT_KEY_FILE).exists()


def load_master_key(settings: Settings) -> MasterKey:
    """Return the master key, generating it into the data folder on first start when not given."""
    raw = _raw_master_key(settings)
    try:
        return MasterKey(raw, read_kept_keys(settings.data_dir, raw))
    except ConfigurationError as err:
        # Said at the key check (``platform.keycheck.check``): a key the database does not
        # use is named as such there, in one line; a right key with its kept keys lost, after.
        return MasterKey(raw, problem=err)


def _raw_master_key(settings: Settings) -> bytes:
    given = settings.master_key.get_secret_value()
    if given:
        try:
            return decode_master_key(given)
        except ValueError as err:
            raise ConfigurationError(f"DOORSTEP_MASTER_KEY: {err}") from err
    if settings.env == "production":
        raise ConfigurationError("DOORSTEP_MASTER_KEY must be given in production")
    path = settings.data_dir / MASTER_KEY_FILE
    text = secret_file(path, lambda: (new_master_key() + "\n").encode())
    try:
        return decode_master_key(text.decode("ascii", "replace"))
    except ValueError as err:
        raise ConfigurationError(f"{path}: {err}") from err
