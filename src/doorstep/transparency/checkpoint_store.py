"""The checkpoint signing key on disk and the checkpoints kept with their cosignatures.

The key signs checkpoints only and is not derived from the master key: it is made once, at
random, into the data folder beside the other generated keys (``audit-checkpoint.key``, readable
by its owner only). Losing the master key does not give it away, nor the other way round.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.platform.types import utcnow
from doorstep.transparency.audit_store import hold_log, tree_head_size
from doorstep.transparency.merkle import MerkleLog
from doorstep.transparency.models import AuditCheckpoint, AuditState

KEY_FILE = "audit-checkpoint.key"


def signing_key(data_dir: Path) -> bytes:
    """The Ed25519 private key that signs checkpoints, made on first use."""
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it a moment ago: read theirs
        else:
            with os.fdopen(fd, "w") as out:
                out.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    return base64.b64decode(path.read_text().strip())


def current_tree(db: Session) -> tuple[int, bytes]:
    """The log's size and root now."""
    hold_log(db)
    row = db.get(AuditState, 1)
    size = tree_head_size(db)
    frontier = [bytes.fromhex(h) for h in row.frontier] if row else []
    return size, MerkleLog.restore(size, frontier).root()


def latest_tree(db: Session) -> tuple[int, bytes]:
    """The log's size and root as last committed, read without holding the log (for readers)."""
    row = db.get(AuditState, 1)
    size = row.size if row else 0
    frontier = [bytes.fromhex(h) for h in row.frontier] if row else []
    return size, MerkleLog.restore(size, frontier).root()


def served(db: Session, quorum: int, size: int) -> str | None:
    """The newest kept note with ``quorum`` cosignatures or more (of ``size`` when ``quorum`` is 0).

    A plain read: only sizes and cosigner names are scanned, and one note is loaded.
    """
    query = (
        select(AuditCheckpoint.id, AuditCheckpoint.size, AuditCheckpoint.cosigners)
        .order_by(AuditCheckpoint.id.desc())
        .limit(200)
    )
    for row_id, row_size, cosigners in db.execute(query):
        if len(cosigners) >= quorum and (quorum or row_size == size):
            return db.scalar(select(AuditCheckpoint.note).where(AuditCheckpoint.id == row_id))
    return None


def keep(db: Session, size: int, root: bytes, note: str, cosigners: list[str]) -> AuditCheckpoint:
    """Keep a published checkpoint with the names of the witnesses that cosigned it."""
    row = AuditCheckpoint(size=size, root=root.hex(), at=utcnow(), note=note, cosigners=cosigners)
    db.add(row)
    db.flush()
    return row


def checkpoints(db: Session, limit: int = 200) -> list[AuditCheckpoint]:
    """The checkpoints kept, newest first."""
    query = select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(limit)
    return list(db.scalars(query))


def last_cosigned_size(db: Session, witness: str) -> int:
    """The size of the newest checkpoint ``witness`` cosigned, 0 if none."""
    for row in checkpoints(db):
        if witness in row.cosigners:
            return row.size
    return 0


def next_key(data_dir: Path) -> bytes:
    """A new checkpoint key, written beside the current one until ``switch_key`` puts it in use."""
    path = data_dir / (KEY_FILE + ".next")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "w") as out:
        out.write(base64.b64encode(key).decode() + "\n")
    return key


def switch_key(data_dir: Path, retired_as: str) -> None:
    """Put the next key in use; the old one stays in the folder as ``retired_as``."""
    current = data_dir / KEY_FILE
    os.link(current, data_dir / f"{KEY_FILE}.retired-{retired_as}")
    os.replace(data_dir / (KEY_FILE + ".next"), current)
