"""The master key: read from DOORSTEP_MASTER_KEY, or made once into the data folder.

A process holding it holds the data folder's ``in-use.lock`` shared, so that a master key
rotation (``sole_user``) can tell the folder is not in use.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import secrets
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from doorstep.errors import ConfigurationError
from doorstep.platform.crypto import DecryptionFailed
from doorstep.platform.folders import FILE_MODE, private_folder, secret_file
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
#: Locked shared by every process holding the master key (serve, worker, the admin commands),
#: for as long as it holds it; a rotation needs it alone.
IN_USE_FILE = "in-use.lock"


class _Claim:
    """One process's shared lock on a data folder's ``in-use.lock``, let go when unreferenced."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        self._close = weakref.finalize(self, os.close, self.fd)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError as err:
            raise ConfigurationError(
                "a master key rotation is running on this data folder: start again once "
                "`doorstep admin rotate-master-key` has finished"
            ) from err

    @property
    def released(self) -> bool:
        """Whether the lock was let go (``let_go``): its descriptor is closed."""
        return not self._close.alive

    def release(self) -> None:
        """Close the descriptor now, which lets go of the lock, instead of at collection."""
        self._close()


#: Every master key a process loads for a data folder shares its one lock.
_CLAIMS: weakref.WeakValueDictionary[Path, _Claim] = weakref.WeakValueDictionary()


def _claim(data_dir: Path) -> _Claim:
    path = private_folder(data_dir) / IN_USE_FILE
    claim = _CLAIMS.get(path)
    if claim is None or claim.released:
        claim = _CLAIMS[path] = _Claim(path)
    return claim


def let_go(master_key: bytes) -> None:
    """Let go of the data folder a key loaded by ``load_master_key`` holds: its server stopped.

    Without this the lock lasts until the key is collected, and a process that starts and stops
    many servers (the tests) would keep a descriptor open for each.
    """
    claim = getattr(master_key, "holds", None)
    if isinstance(claim, _Claim):
        claim.release()


@contextmanager
def sole_user(master_key: MasterKey) -> Iterator[None]:
    """Hold the data folder alone for the block; refuse while another process holds its key.

    Only processes on this machine are seen: servers and workers on other machines sharing
    one PostgreSQL database must be stopped by the operator.
    """
    claim = master_key.holds
    if not isinstance(claim, _Claim):
        raise TypeError("a master key from load_master_key holds its data folder")
    try:
        fcntl.flock(claim.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as err:
        fcntl.flock(claim.fd, fcntl.LOCK_SH)
        raise ConfigurationError(
            "doorstep is running on this data folder: stop doorstep serve and doorstep worker first"
        ) from err
    try:
        yield
    finally:
        fcntl.flock(claim.fd, fcntl.LOCK_SH)


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
    holds = _claim(settings.data_dir)
    try:
        return MasterKey(raw, read_kept_keys(settings.data_dir, raw), holds=holds)
    except ConfigurationError as err:
        # Said at the key check (``platform.keycheck.check``): a key the database does not
        # use is named as such there, in one line; a right key with its kept keys lost, after.
        return MasterKey(raw, problem=err, holds=holds)


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
