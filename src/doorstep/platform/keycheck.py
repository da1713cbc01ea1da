"""The master key's check: the database remembers which master key its data keys are wrapped by.

Only a digest of a key derived for this one purpose is stored, never the key. A server started
with another master key (the one before a rotation, a typing error) stops at once with one line,
instead of failing later on every clip it cannot open.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy import LargeBinary, String, column, inspect, select, table
from sqlalchemy.orm import Mapped, Session, mapped_column

from doorstep.errors import ConfigurationError
from doorstep.platform.crypto import DecryptionFailed, owner_key_context, unwrap_key
from doorstep.platform.orm import Base
from doorstep.platform.sealed import MasterKey, purpose_key
from doorstep.platform.types import utcnow

_PURPOSE = "master-key-check/v1"
_ROW_ID = 1
#: The owners' wrapped data keys, named here by table: the platform imports no feature's models.
_OWNER_KEYS = table("owner_keys", column("user_id", String), column("wrapped_key", LargeBinary))


class KeyCheck(Base):
    """The one row naming the master key in use, by a digest of a key derived from it."""

    __tablename__ = "key_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


def key_digest(master_key: bytes) -> str:
    """The digest stored for ``master_key`` (from a key derived for this purpose alone)."""
    key = purpose_key(bytes(master_key), _PURPOSE)
    return hmac.new(key, b"doorstep master key check", hashlib.sha256).hexdigest()


def stored_digest(db: Session) -> str | None:
    """The digest of the master key the database uses, ``None`` before the first start."""
    return db.scalar(select(KeyCheck.digest).where(KeyCheck.id == _ROW_ID))


def record(db: Session, master_key: bytes) -> None:
    """Name ``master_key`` as the one the database's data keys are wrapped by."""
    row = db.get(KeyCheck, _ROW_ID)
    if row is None:
        db.add(KeyCheck(id=_ROW_ID, digest=key_digest(master_key)))
    else:
        row.digest, row.recorded_at = key_digest(master_key), utcnow()
    db.flush()


def _opens_existing_data(db: Session, master_key: bytes) -> bool:
    """Whether ``master_key`` opens a wrapped data key already stored (true when there is none)."""
    sample = db.execute(select(_OWNER_KEYS.c.user_id, _OWNER_KEYS.c.wrapped_key).limit(1)).first()
    if sample is None:
        return True
    try:
        unwrap_key(bytes(master_key), sample.wrapped_key, context=owner_key_context(sample.user_id))
    except DecryptionFailed:
        return False
    return True


def check(db: Session, master_key: bytes, *, rotation_pending: bool = False) -> None:
    """Refuse a master key the database does not use; remember the first one seen.

    A database not migrated yet has nothing to compare with, and nothing a key could open. The
    first key seen is recorded only once it opens data already there (a database from before
    the check was kept): a new key given by mistake must not become the one named.
    """
    if not inspect(db.connection()).has_table(KeyCheck.__tablename__):
        return
    problem = master_key.problem if isinstance(master_key, MasterKey) else None
    stored = stored_digest(db)
    if stored is None:
        if problem is not None:
            raise problem
        if not _opens_existing_data(db, master_key):
            raise ConfigurationError(
                "the master key does not open this database's data keys: give the "
                "DOORSTEP_MASTER_KEY or master.key it was made with"
            )
        record(db, master_key)
        return
    if hmac.compare_digest(stored, key_digest(master_key)):
        if problem is not None:
            raise problem
        return
    raise wrong_key(rotation_pending=rotation_pending)


def wrong_key(*, rotation_pending: bool) -> ConfigurationError:
    """The one line for a master key that is not the database's (or a rotation's new one)."""
    if rotation_pending:
        return ConfigurationError(
            "the master key is not the one this database uses: a master key rotation was "
            "interrupted; run `doorstep admin rotate-master-key` again to finish it"
        )
    return ConfigurationError(
        "the master key is not the one this database uses (a key from before a rotation, or "
        "another installation's?): give the current DOORSTEP_MASTER_KEY or master.key"
    )
