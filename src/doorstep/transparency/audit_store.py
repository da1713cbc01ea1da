"""The public audit log: every footage access outside its owner, appended to a Merkle tree.

Each entry is stored as the exact canonical JSON that was hashed into the tree, with people
replaced by pseudonyms, so anyone can check the published tree heads against the public entries.
Columns beside the body (owner, actor) let an owner find the entries about them.

Residents never carry a stable pseudonym in the public log: theirs is scoped to one request, clip
or legal basis (the entry's ``scope``), so an anonymous share cannot be linked to the same owner's
named share, nor one owner's actions to each other over time. An entry without a scope names no
resident at all. Agency members and platform staff keep one pseudonym each: their actions are
what the log holds to account.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.accounts.roles import AUDIT_READERS
from doorstep.platform.sealed import derive
from doorstep.platform.types import utcnow
from doorstep.transparency.merkle import (
    MerkleLog,
    SignedTreeHead,
    encode_entry,
    inclusion_proof,
    leaf_hash,
    public_key_for,
    sign_tree_head,
)
from doorstep.transparency.models import AuditEntry, AuditState, PublishedTreeHead

#: Keys derived from the master key that a rotation of it keeps as they were: verifiers pinned
#: the first, and the second names one person alike across the whole log.
SIGNING_INFO = b"doorstep audit tree-head signing"
PSEUDONYM_INFO = b"doorstep audit pseudonyms, scoped"
KEPT_ACROSS_ROTATION = (SIGNING_INFO, PSEUDONYM_INFO)


def _derive(master_key: bytes, purpose: bytes) -> bytes:
    return derive(master_key, purpose)


def signing_key(master_key: bytes) -> bytes:
    """The Ed25519 private key that signs tree heads, derived from the master key."""
    return _derive(master_key, SIGNING_INFO)


def public_key(master_key: bytes) -> bytes:
    """The public key anyone uses to check tree heads."""
    return public_key_for(signing_key(master_key))


#: Roles whose members act for an institution: one pseudonym each, across the whole log.
ACCOUNTABLE_ROLES = frozenset(AUDIT_READERS)
#: The scope of staff pseudonyms; no request, clip or legal basis id can take this value.
_STAFF_SCOPE = "*staff*"


def pseudonym(master_key: bytes, identity: str | None, scope: str | None) -> str | None:
    """A person's pseudonym inside one scope; another scope gives an unrelated one.

    ``None`` without an identity or a scope: a resident is named only inside a scope.
    """
    if identity is None or scope is None:
        return None
    key = _derive(master_key, PSEUDONYM_INFO)
    message = json.dumps([scope, identity], separators=(",", ":")).encode()
    return "p-" + hmac.new(key, message, hashlib.sha256).hexdigest()[:16]


def actor_pseudonym(master_key: bytes, actor: User | None, scope: str | None) -> str | None:
    """Staff and agency members keep one pseudonym; anyone else is scoped like an owner."""
    if actor is None:
        return None
    if actor.role in ACCOUNTABLE_ROLES:
        return pseudonym(master_key, actor.id, _STAFF_SCOPE)
    return pseudonym(master_key, actor.id, scope)


def _state(db: Session) -> AuditState:
    """The log's state row, held (``hold_log``) until this transaction ends.

    Held before it is read: appenders running at once would otherwise all read the same size and
    take the same ``seq``. SQLite begins a transaction only at its first write, so a ``SELECT ...
    FOR UPDATE`` (which it ignores anyway) would read outside any lock there.
    """
    hold_log(db)
    row = db.scalar(select(AuditState).where(AuditState.id == 1).with_for_update())
    if row is None:
        # The very first entry: two appenders may both find no row to hold. One creates it; the
        # other's insert fails on the key, and it holds the row the first one made.
        try:
            with db.begin_nested():
                db.add(AuditState(id=1, size=0, frontier=[]))
        except IntegrityError:
            pass
        hold_log(db)
        row = db.scalar(select(AuditState).where(AuditState.id == 1).with_for_update())
        assert row is not None
    return row


def record(
    db: Session,
    master_key: bytes,
    action: str,
    *,
    actor: User | None,
    owner_id: str | None,
    detail: dict[str, Any] | None = None,
    scope: str | None = None,
) -> AuditEntry:
    """Append an entry about ``owner_id``'s footage or account, done by ``actor``.

    ``detail`` is published as it is: it must carry nothing that identifies a resident or links
    their entries across scopes (no account, camera or share ids). ``scope`` (a request, clip or
    legal basis id) is what resident pseudonyms are scoped to; without one, none is published.
    """
    state = _state(db)
    now = utcnow()
    body = {
        "seq": state.size,
        "at": now.isoformat(),
        "action": action,
        "actor": actor_pseudonym(master_key, actor, scope),
        "actor_role": actor.role if actor else "system",
        "owner": pseudonym(master_key, owner_id, scope),
        "detail": detail or {},
    }
    encoded = encode_entry(body)
    leaf = leaf_hash(encoded)
    log = MerkleLog.restore(state.size, [bytes.fromhex(h) for h in state.frontier])
    log.append_leaf_hash(leaf)
    entry = AuditEntry(
        seq=state.size,
        at=now,
        action=action,
        owner_id=owner_id,
        actor_id=actor.id if actor else None,
        body=encoded.decode(),
        leaf_hash=leaf.hex(),
    )
    db.add(entry)
    state.size = log.size
    state.frontier = [h.hex() for h in log.frontier]
    db.flush()
    return entry


def hold_log(db: Session) -> None:
    """Hold the log still until this transaction ends: no append, and no other publisher, runs.

    A write that changes nothing, rather than ``FOR UPDATE``: SQLite knows no row locks, but a
    write takes its one writer's lock, and PostgreSQL locks the row for both.
    """
    db.execute(update(AuditState).where(AuditState.id == 1).values(size=AuditState.size))


def tree_head(db: Session, master_key: bytes) -> SignedTreeHead:
    """The current signed tree head."""
    row = db.get(AuditState, 1)
    size = row.size if row else 0
    log = MerkleLog.restore(size, [bytes.fromhex(h) for h in row.frontier] if row else [])
    return sign_tree_head(size, log.root(), utcnow(), signing_key(master_key))


def entries(db: Session, start: int, end: int) -> list[AuditEntry]:
    """Entries ``start`` to ``end - 1`` in order."""
    query = select(AuditEntry).where(AuditEntry.seq >= start, AuditEntry.seq < end)
    return list(db.scalars(query.order_by(AuditEntry.seq)))


def tree_head_size(db: Session) -> int:
    """How many entries the log has."""
    row = db.get(AuditState, 1)
    return row.size if row else 0


def leaf_hashes(db: Session, size: int) -> list[bytes]:
    """The first ``size`` leaf hashes, in order."""
    query = select(AuditEntry.leaf_hash).where(AuditEntry.seq < size).order_by(AuditEntry.seq)
    return [bytes.fromhex(h) for h in db.scalars(query)]


def proof_of_inclusion(db: Session, seq: int, size: int) -> list[bytes]:
    """The inclusion proof of entry ``seq`` in the tree of ``size`` entries."""
    return inclusion_proof(seq, size, leaf_hashes(db, size).__getitem__)


def about_owner(db: Session, owner_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """The entries concerning an owner's footage, newest first, as the owner may read them."""
    query = (
        select(AuditEntry)
        .where(AuditEntry.owner_id == owner_id)
        .order_by(AuditEntry.seq.desc())
        .limit(limit)
    )
    result: list[dict[str, Any]] = []
    for entry in db.scalars(query):
        body: dict[str, Any] = json.loads(entry.body)
        result.append(body)
    return result


# --- published tree heads ------------------------------------------------------------------------


def publish_head(db: Session, master_key: bytes) -> PublishedTreeHead:
    """Sign the current tree head and keep it, unless the log has not grown since the last one."""
    # Without the hold, the periodic job and a reader publishing at once both keep a head of
    # the same size, and the history shows it twice.
    hold_log(db)
    last = db.scalar(select(PublishedTreeHead).order_by(PublishedTreeHead.id.desc()).limit(1))
    size = tree_head_size(db)
    if last is not None and last.size == size:
        return last
    signed = tree_head(db, master_key)
    row = PublishedTreeHead(
        size=signed.size,
        root=signed.root.hex(),
        timestamp=signed.timestamp,
        signature=base64.b64encode(signed.signature).decode(),
    )
    db.add(row)
    db.flush()
    return row


def published_heads(db: Session, limit: int = 1000, from_size: int = 0) -> list[PublishedTreeHead]:
    """Published heads of ``from_size`` entries or more, oldest first, at most ``limit``."""
    query = (
        select(PublishedTreeHead)
        .where(PublishedTreeHead.size >= from_size)
        .order_by(PublishedTreeHead.id)
        .limit(limit)
    )
    return list(db.scalars(query))


def signed(row: PublishedTreeHead) -> SignedTreeHead:
    """A stored head as the domain's signed tree head."""
    return SignedTreeHead(
        size=row.size,
        root=bytes.fromhex(row.root),
        timestamp=row.timestamp,
        signature=base64.b64decode(row.signature),
    )
