"""The audit log's and its published heads' answers, as the API gives them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

#: Entries the API gives at most in one answer.
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


class HeadPublic(BaseModel):
    """A tree head the server published; any two can be checked with a consistency proof."""

    size: int
    root: str
    timestamp: datetime
    signature: str
    consistency_url: str | None


class HeadHistory(BaseModel):
    """Published heads, oldest first, and the key that signed them (Ed25519).

    ``next_start`` is where the next page begins (``?start=``), or null on the last page.
    """

    public_key: str
    heads: list[HeadPublic]
    next_start: int | None = None
