"""The public audit log: signed tree heads, entries with pseudonyms, and inclusion proofs."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from doorstep.errors import InvalidInput
from doorstep.platform.http.deps import CurrentUser, DbDep, StateDep
from doorstep.transparency import audit_store as audit
from doorstep.transparency.merkle import consistency_proof

router = APIRouter(prefix="/api/v1", tags=["audit"])

MAX_ENTRIES = 1000
#: Sequence numbers are 32-bit in the database; a larger bound could never match and would fail.
MAX_SEQ = 2**31 - 1


class TreeHeadPublic(BaseModel):
    """A signed tree head: the log's size and root, signed with the key below (Ed25519)."""

    size: int
    root: str
    timestamp: datetime
    signature: str
    public_key: str


class EntryPublic(BaseModel):
    """One entry exactly as hashed into the tree; identities are pseudonyms."""

    seq: int
    body: str
    leaf_hash: str


class Proof(BaseModel):
    """A Merkle proof as hex hashes."""

    proof: list[str]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@router.get("/audit/head")
def head(db: DbDep, state: StateDep) -> TreeHeadPublic:
    """The current signed tree head, kept so later heads can be proven consistent with it."""
    published = audit.publish_head(db, state.master_key)
    return TreeHeadPublic(
        size=published.size,
        root=published.root,
        timestamp=published.timestamp,
        signature=published.signature,
        public_key=_b64(audit.public_key(state.master_key)),
    )


@router.get("/audit/entries")
def entries(
    db: DbDep,
    start: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
    end: Annotated[int | None, Query(ge=0, le=MAX_SEQ)] = None,
) -> list[EntryPublic]:
    """Entries ``start`` up to (not including) ``end``, at most 1,000 at a time."""
    stop = min(start + MAX_ENTRIES, MAX_SEQ) if end is None else min(end, start + MAX_ENTRIES)
    if stop < start:
        raise InvalidInput("end must not be before start", field="end")
    return [
        EntryPublic(seq=e.seq, body=e.body, leaf_hash=e.leaf_hash)
        for e in audit.entries(db, start, stop)
    ]


@router.get("/audit/proof/inclusion")
def inclusion(
    db: DbDep, seq: Annotated[int, Query(ge=0)], size: Annotated[int, Query(ge=1)]
) -> Proof:
    """Proof that entry ``seq`` is in the tree of ``size`` entries."""
    current = audit.tree_head_size(db)
    if seq >= size or size > current:
        raise InvalidInput(f"need seq < size <= {current}", field="size")
    return Proof(proof=[h.hex() for h in audit.proof_of_inclusion(db, seq, size)])


@router.get("/audit/proof/consistency")
def consistency(
    db: DbDep, old: Annotated[int, Query(ge=1)], new: Annotated[int, Query(ge=1)]
) -> Proof:
    """Proof that the tree of ``old`` entries is a prefix of the tree of ``new`` entries."""
    current = audit.tree_head_size(db)
    if old > new or new > current:
        raise InvalidInput(f"need old <= new <= {current}", field="new")
    leaves = audit.leaf_hashes(db, new)
    return Proof(proof=[h.hex() for h in consistency_proof(old, new, leaves.__getitem__)])


@router.get("/me/audit")
def my_audit(user: CurrentUser, db: DbDep) -> list[dict[str, Any]]:
    """Every entry about the caller's footage: who (by role) did what, and when."""
    return audit.about_owner(db, user.id)
