"""The master key: read from DOORSTEP_MASTER_KEY, or made once into the data folder."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from doorstep.errors import ConfigurationError
from doorstep.platform.folders import secret_file
from doorstep.platform.sealed import MasterKey

if TYPE_CHECKING:
    from doorstep.settings import Settings

MASTER_KEY_FILE = "master.key"
#: The next master key while a rotation is under way (``doorstep admin rotate-master-key``).
NEXT_KEY_FILE = "master.key.next"
#: Keys derived from earlier master keys that outlive them (``platform.sealed.MasterKey``).
KEPT_KEYS_FILE = "derived.keys"


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


def read_kept_keys(data_dir: Path) -> dict[bytes, bytes]:
    """The derived keys a rotation kept (HKDF info -> key), none if no rotation happened here."""
    path = data_dir / KEPT_KEYS_FILE
    if not path.exists():
        return {}
    try:
        kept = json.loads(path.read_text())
        return {info.encode(): base64.b64decode(key) for info, key in kept.items()}
    except (ValueError, AttributeError, binascii.Error) as err:
        raise ConfigurationError(f"{path} is damaged; restore it from a backup") from err


def rotation_pending(settings: Settings) -> bool:
    """Whether a master key rotation began here and has not finished."""
    return (settings.data_dir / NEXT_KEY_FILE).exists()


def load_master_key(settings: Settings) -> MasterKey:
    """Return the master key, generating it into the data folder on first start when not given."""
    return MasterKey(_raw_master_key(settings), read_kept_keys(settings.data_dir))


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
