"""Deletion receipts: a "keys destroyed" entry in the audit log, and the owner's proof of it.

Deleting a clip, a camera or an account appends one entry with no content and no owner: only
what kind of thing went and a per-deletion pseudonym (``rules_receipts``). The owner gets a
receipt they can check offline with ``doorstep audit receipt``: the entry, its index, a signed
tree head covering it and the inclusion proof. A clip's or camera's receipt can be fetched again
later; an account's is handed over in the response that deletes it, since nothing of the
account remains to fetch it with.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.errors import Conflict, NotFound
from doorstep.transparency import audit_store as audit
from doorstep.transparency.merkle import key_fingerprint
from doorstep.transparency.models import AuditEntry, DeletionReceipt, PublishedTreeHead
from doorstep.transparency.rules_receipts import (
    KEYS_DESTROYED,
    RECEIPT_FORMAT,
    keys_destroyed_detail,
)


def _append(db: Session, master_key: bytes, what: str, subject: str) -> tuple[AuditEntry, str]:
    nonce = secrets.token_hex(16)
    # No owner and no actor: the entry must not link the owner to anything, not even by role.
    entry = audit.record(
        db,
        master_key,
        KEYS_DESTROYED,
        actor=None,
        owner_id=None,
        detail=keys_destroyed_detail(what, subject, nonce),
    )
    return entry, nonce


def keys_destroyed(db: Session, master_key: bytes, owner_id: str, what: str, subject: str) -> int:
    """Log that a clip's or camera's keys were destroyed; the owner may fetch its receipt later.

    Returns the entry's index.
    """
    entry, nonce = _append(db, master_key, what, subject)
    db.add(
        DeletionReceipt(seq=entry.seq, owner_id=owner_id, what=what, subject=subject, nonce=nonce)
    )
    db.flush()
    return entry.seq


def account_deleted(db: Session, master_key: bytes, owner_id: str) -> dict[str, Any]:
    """Log an account's deletion and return its receipt at once: it cannot be fetched later."""
    entry, nonce = _append(db, master_key, "account", owner_id)
    return _receipt(db, master_key, entry, "account", owner_id, nonce, publish=True)


def _receipt(
    db: Session,
    master_key: bytes,
    entry: AuditEntry,
    what: str,
    subject: str,
    nonce: str,
    *,
    publish: bool = False,
) -> dict[str, Any]:
    # An account's deletion already holds the log to append its entry, and its receipt can never
    # be fetched later: a head covering the entry is kept now. A download is a read: it is proven
    # in the newest head already published (the periodic job publishes them), never by signing
    # one under the log's lock.
    head = audit.publish_head(db, master_key) if publish else _covering_head(db, entry.seq)
    proof = audit.proof_of_inclusion(db, entry.seq, head.size)
    public_key = audit.public_key(master_key)
    return {
        "format": RECEIPT_FORMAT,
        "what": what,
        "subject": subject,
        "nonce": nonce,
        "index": entry.seq,
        "entry": entry.body,
        "head": {
            "size": head.size,
            "root": head.root,
            "timestamp": head.timestamp.isoformat(),
            "signature": head.signature,
        },
        "proof": [h.hex() for h in proof],
        # For the reader's information only: the verifier trusts the key it is given, not this.
        "log_key": base64.b64encode(public_key).decode(),
        "log_key_fingerprint": key_fingerprint(public_key),
    }


def _covering_head(db: Session, seq: int) -> PublishedTreeHead:
    query = select(PublishedTreeHead).order_by(PublishedTreeHead.id.desc()).limit(1)
    head = db.scalar(query)
    if head is None or head.size <= seq:
        raise Conflict(
            "no published tree head covers this deletion yet: try again after the next head"
        )
    return head


def receipt(db: Session, master_key: bytes, owner_id: str, seq: int) -> dict[str, Any]:
    """The receipt of one of the owner's deletions, proven in the newest published head."""
    row = db.get(DeletionReceipt, seq)
    entry = db.get(AuditEntry, seq)
    if row is None or entry is None or row.owner_id != owner_id:
        raise NotFound("no such deletion receipt")
    return _receipt(db, master_key, entry, row.what, row.subject, row.nonce)


def mine(db: Session, owner_id: str) -> list[dict[str, Any]]:
    """The owner's deletions that have a receipt, newest first."""
    query = (
        select(DeletionReceipt, AuditEntry.at)
        .join(AuditEntry, AuditEntry.seq == DeletionReceipt.seq)
        .where(DeletionReceipt.owner_id == owner_id)
        .order_by(DeletionReceipt.seq.desc())
    )
    return [
        {
            "index": row.seq,
            "what": row.what,
            "subject": row.subject,
            "at": at.isoformat(),
            "receipt_url": f"/api/v1/me/receipts/{row.seq}",
        }
        for row, at in db.execute(query)
    ]
