"""Deletion receipts for owners: what other rooms call when they destroy keys, and the routes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.transparency import receipts_store


def clip_deleted(db: Session, master_key: bytes, owner_id: str, clip_id: str) -> int:
    """Log that the owner deleted a clip (its keys destroyed); returns the entry's index."""
    return receipts_store.keys_destroyed(db, master_key, owner_id, "clip", clip_id)


def camera_removed(db: Session, master_key: bytes, owner_id: str, camera_id: str) -> int:
    """Log that the owner removed a camera and its clips' keys; returns the entry's index."""
    return receipts_store.keys_destroyed(db, master_key, owner_id, "camera", camera_id)


def account_deleted(db: Session, master_key: bytes, owner_id: str) -> dict[str, Any]:
    """Log an account's deletion and return the receipt, to hand over before the account goes."""
    return receipts_store.account_deleted(db, master_key, owner_id)


def receipt(db: Session, master_key: bytes, owner_id: str, seq: int) -> dict[str, Any]:
    """The receipt of one of the owner's deletions."""
    return receipts_store.receipt(db, master_key, owner_id, seq)


def mine(db: Session, owner_id: str) -> list[dict[str, Any]]:
    """The owner's deletions with a receipt, newest first."""
    return receipts_store.mine(db, owner_id)


def listed_for(user: User) -> list[dict[str, Any]]:
    """The user's deletions with a receipt, read in the session the user was loaded in."""
    db = Session.object_session(user)
    return [] if db is None else receipts_store.mine(db, user.id)
