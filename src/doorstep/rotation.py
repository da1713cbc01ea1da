"""`doorstep admin rotate-master-key`: every data key and sealed text moved to a new master key.

The order makes a crash at any point lose nothing:

1. The new key is written to ``master.key.next`` (synced) before the database changes; a run
   that finds the file goes on with the key in it.
2. The keys derived from the master key that must outlive it (the audit log's tree-head key
   verifiers pinned, its pseudonyms), as the old key made them, are sealed under the new key
   into ``derived.keys.next`` (synced): a backup of the data folder holds them only sealed.
3. One transaction re-wraps every wrapped data key, re-seals every sealed text and records the
   new key's check (``platform.keycheck``): all of it commits, or none.
4. ``derived.keys.next`` replaces ``derived.keys``, and ``master.key.next`` replaces
   ``master.key`` (when the key lives there).

A crash before 3 commits leaves the old key in use everywhere; after it, the database is on the
new key and the server refuses to start until the command is run again, which only finishes 4.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from doorstep.accounts import service as accounts
from doorstep.errors import ConfigurationError
from doorstep.legal import service as legal
from doorstep.master_key import (
    KEPT_KEYS_FILE,
    MASTER_KEY_FILE,
    NEXT_KEPT_KEYS_FILE,
    NEXT_KEY_FILE,
    decode_master_key,
    load_master_key,
    new_master_key,
    seal_kept_keys,
    sole_user,
)
from doorstep.pets import service as pets
from doorstep.platform import keycheck
from doorstep.platform.db import Database
from doorstep.platform.migrate import migrate
from doorstep.platform.sealed import MasterKey, derive
from doorstep.requests import service as requests
from doorstep.settings import Settings
from doorstep.transparency import service as transparency

#: Every room's re-wrap, each in the one transaction (``rewrap_keys`` in its service).
REWRAPS: tuple[Callable[[Session, bytes, bytes], dict[str, int]], ...] = (
    accounts.rewrap_keys,
    legal.rewrap_keys,
    requests.rewrap_keys,
    pets.rewrap_keys,
)


@dataclass
class Rotation:
    """What a rotation did: counts per kind of key, and where the new key is."""

    counts: dict[str, int] = field(default_factory=dict)
    new_key_at: Path | None = None
    key_in_environment: bool = False
    finished_earlier_run: bool = False


def _write_synced(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _next_key(settings: Settings, given: bytes | None) -> bytes:
    """The key to rotate to: the one a stopped run wrote down, else ``given``, else a new one."""
    path = settings.data_dir / NEXT_KEY_FILE
    if path.exists():
        pending = decode_master_key(path.read_text())
        if given is not None and given != pending:
            raise ConfigurationError(
                f"a rotation to another key is under way ({path}): run the command again "
                "without --new-key-file to finish it first"
            )
        return pending
    key = given if given is not None else decode_master_key(new_master_key())
    _write_synced(path, base64.b64encode(key) + b"\n")
    return key


def _keep_derived_keys(data_dir: Path, old: MasterKey, new: bytes) -> None:
    """Seal, under ``new``, the keys the old master key derived (or kept) that must outlive it."""
    kept = dict(old.kept)
    for info in transparency.keys_kept_across_rotation():
        kept.setdefault(info, derive(old, info))
    _write_synced(data_dir / NEXT_KEPT_KEYS_FILE, seal_kept_keys(new, kept))


def _install_kept_keys(data_dir: Path) -> None:
    """Put the kept keys sealed under the new master key in place, if a rotation left them."""
    if (data_dir / NEXT_KEPT_KEYS_FILE).exists():
        os.replace(data_dir / NEXT_KEPT_KEYS_FILE, data_dir / KEPT_KEYS_FILE)


def _install(pending: Path, settings: Settings) -> Path:
    """Put the new key where the server reads it: ``master.key``, or leave it for the operator."""
    _install_kept_keys(settings.data_dir)
    if settings.master_key.get_secret_value():
        return pending
    target = settings.data_dir / MASTER_KEY_FILE
    os.replace(pending, target)
    return target


def rotate_master_key(settings: Settings, new_key: bytes | None = None) -> Rotation:
    """Move every data key and sealed text from the current master key to ``new_key``.

    Refused while another process on this machine holds the master key (``sole_user``): a
    running server would go on wrapping new keys under the old one after the commit.
    """
    old = load_master_key(settings)
    with sole_user(old):
        return _rotate(settings, old, new_key)


def _rotate(settings: Settings, old: MasterKey, new_key: bytes | None) -> Rotation:
    result = Rotation(key_in_environment=bool(settings.master_key.get_secret_value()))
    pending = settings.data_dir / NEXT_KEY_FILE
    database = Database(settings.resolved_database_url)
    try:
        migrate(database.engine)
        with database.session() as db:
            stored = keycheck.stored_digest(db)
        if pending.exists() and stored == keycheck.key_digest(old) == keycheck.key_digest(
            decode_master_key(pending.read_text())
        ):
            # DOORSTEP_MASTER_KEY already holds the new key: only the handover file is left.
            _install_kept_keys(settings.data_dir)
            pending.unlink()
            result.finished_earlier_run = True
            return result
        new = _next_key(settings, new_key)
        if new == bytes(old):
            raise ConfigurationError("the new master key is the one in use")
        with database.session() as db:
            if stored == keycheck.key_digest(new):
                result.finished_earlier_run = True
            elif stored not in (None, keycheck.key_digest(old)):
                raise ConfigurationError(
                    "the master key given is not the one this database uses; nothing was changed"
                )
            else:
                _keep_derived_keys(settings.data_dir, old, new)
                for rewrap in REWRAPS:
                    result.counts.update(rewrap(db, old, new))
                keycheck.record(db, new)
    finally:
        database.dispose()
    result.new_key_at = _install(pending, settings)
    return result
