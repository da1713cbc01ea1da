"""The checkpoint signing key on disk and the checkpoints kept with their cosignatures.

The key signs checkpoints only and is not derived from the master key: it is made once, at
random, into the data folder beside the other generated keys (``audit-checkpoint.key``, readable
by its owner only). Losing the master key does not give it away, nor the other way round.
"""

from __future__ import annotations

import base64
import contextlib
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
NEXT_FILE = KEY_FILE + ".next"


def _write_once(path: Path, text: str) -> bool:
    """Put ``text`` at ``path`` unless a file is there already; False if one was.

    Written whole and flushed to disk under a temporary name, then linked into place: a reader
    (or a start after a crash) finds the whole key or none, never an empty or half-written file.
    """
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temp, path)
        except FileExistsError:
            return False
        _sync_folder(path.parent)
        return True
    finally:
        temp.unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _new_key_text() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode() + "\n"


def _read_key(path: Path) -> bytes:
    return base64.b64decode(path.read_text().strip())


def signing_key(data_dir: Path) -> bytes:
    """The Ed25519 private key that signs checkpoints, made on first use."""
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        _write_once(path, _new_key_text())  # False: another process made it first; read theirs
    return _read_key(path)


def current_tree(db: Session) -> tuple[int, bytes]:
    """The log's size and root now, held still (``hold_log``) until the transaction ends."""
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
    """The next checkpoint key, kept beside the current one until ``switch_key`` puts it in use.

    Made once: a rotation that stopped half-way (the log may already name this key) is finished
    with the same key, never a new one.
    """
    path = data_dir / NEXT_FILE
    if not path.exists():
        _write_once(path, _new_key_text())
    return _read_key(path)


def pending_key(data_dir: Path) -> bytes | None:
    """The next key, if a rotation made one that is not in use yet."""
    path = data_dir / NEXT_FILE
    return _read_key(path) if path.exists() else None


def switch_key(data_dir: Path, retired_as: str) -> None:
    """Put the next key in use; the old one stays in the folder as ``retired_as``.

    Safe to run again after a crash between its two steps.
    """
    current = data_dir / KEY_FILE
    # Already there when a switch stopped before the next key took its place.
    with contextlib.suppress(FileExistsError):
        os.link(current, data_dir / f"{KEY_FILE}.retired-{retired_as}")
    os.replace(data_dir / NEXT_FILE, current)
    _sync_folder(data_dir)
