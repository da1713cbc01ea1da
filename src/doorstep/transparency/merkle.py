"""Append-only audit log as a Merkle tree (RFC 6962/9162 hashing, proofs and signed tree heads).

Every step that touches footage appends an entry; anyone can check that an entry is in the log
(inclusion) and that the log only ever grew (consistency) from the signed tree heads Doorstep
publishes. A verifier pins the signing key and keeps the last head it checked: a later head must be
signed by the same key and come with a consistency proof from it (``checkpoint_problem``), so a
log rewritten, shortened, forked or re-signed with another key fails.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from doorstep.errors import InvalidInput

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

#: Root of the empty log: SHA-256 of no bytes, as RFC 9162 defines it.
EMPTY_ROOT = hashlib.sha256(b"").digest()

LeafHashes = Callable[[int], bytes]


def encode_entry(entry: Mapping[str, Any]) -> bytes:
    """Encode an audit entry as canonical JSON bytes: sorted keys, no whitespace, UTF-8."""
    try:
        text = json.dumps(
            entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as err:
        raise InvalidInput(f"an audit entry must be plain JSON data: {err}", field="entry") from err
    return text.encode("utf-8")


def leaf_hash(entry_bytes: bytes) -> bytes:
    """Return the Merkle leaf hash of one encoded entry."""
    return hashlib.sha256(_LEAF_PREFIX + entry_bytes).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the Merkle hash of an interior node."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the tree root over ``leaf_hashes``, hashing level by level."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    sha256 = hashlib.sha256
    prefix = _NODE_PREFIX
    # Pairing left to right and carrying an odd last node up unchanged gives the RFC's shape.
    while len(level) > 1:
        paired = [
            sha256(prefix + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def _subtree_root(get_leaf_hash: LeafHashes, start: int, end: int) -> bytes:
    return root_from_leaves([get_leaf_hash(i) for i in range(start, end)])


class MerkleLog:
    """A growing log that keeps only the frontier of perfect subtrees: O(log n) memory."""

    __slots__ = ("_frontier", "_size")

    def __init__(self) -> None:
        # (height, hash) of each perfect subtree, left to right, strictly decreasing heights.
        self._frontier: list[tuple[int, bytes]] = []
        self._size = 0

    @classmethod
    def restore(cls, size: int, frontier: Sequence[bytes]) -> MerkleLog:
        """Rebuild a log from its size and the frontier hashes saved by ``frontier``."""
        heights = [h for h in range(size.bit_length() - 1, -1, -1) if size >> h & 1]
        if size < 0 or len(heights) != len(frontier) or any(len(f) != 32 for f in frontier):
            raise InvalidInput(
                f"a log of {size} entries has {len(heights)} frontier hashes", field="frontier"
            )
        log = cls()
        log._frontier = list(zip(heights, frontier, strict=True))
        log._size = size
        return log

    @property
    def frontier(self) -> tuple[bytes, ...]:
        """Return the roots of the perfect subtrees, largest first; enough to resume appending."""
        return tuple(value for _, value in self._frontier)

    @property
    def size(self) -> int:
        """Return the number of entries appended so far."""
        return self._size

    def append_leaf_hash(self, leaf: bytes) -> int:
        """Append one leaf hash and return its index."""
        if len(leaf) != 32:
            raise InvalidInput("a leaf hash is 32 bytes", field="leaf")
        frontier = self._frontier
        height, value = 0, leaf
        while frontier and frontier[-1][0] == height:
            _, left = frontier.pop()
            value = hashlib.sha256(_NODE_PREFIX + left + value).digest()
            height += 1
        frontier.append((height, value))
        index = self._size
        self._size += 1
        return index

    def append_entry(self, entry: Mapping[str, Any]) -> int:
        """Encode and append one entry; return its index."""
        return self.append_leaf_hash(leaf_hash(encode_entry(entry)))

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append many leaf hashes in order."""
        for leaf in leaf_hashes:
            self.append_leaf_hash(leaf)

    def root(self) -> bytes:
        """Return the root of the tree over every entry appended so far."""
        if not self._frontier:
            return EMPTY_ROOT
        value = self._frontier[-1][1]
        for _, left in reversed(self._frontier[:-1]):
            value = node_hash(left, value)
        return value


def inclusion_proof(index: int, size: int, get_leaf_hash: LeafHashes) -> list[bytes]:
    """Return the audit path proving leaf ``index`` is in the tree of ``size`` leaves."""
    if not 0 <= index < size:
        raise InvalidInput(f"leaf {index} is not in a tree of {size}", field="index")
    return _path(index, 0, size, get_leaf_hash)


def _path(m: int, start: int, end: int, get_leaf_hash: LeafHashes) -> list[bytes]:
    n = end - start
    if n == 1:
        return []
    k = _largest_power_of_two_below(n)
    if m < k:
        return [
            *_path(m, start, start + k, get_leaf_hash),
            _subtree_root(get_leaf_hash, start + k, end),
        ]
    return [
        *_path(m - k, start + k, end, get_leaf_hash),
        _subtree_root(get_leaf_hash, start, start + k),
    ]


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """Check an inclusion proof the way RFC 9162 section 2.1.3.2 describes."""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def consistency_proof(old_size: int, new_size: int, get_leaf_hash: LeafHashes) -> list[bytes]:
    """Return the proof that the first ``old_size`` leaves are a prefix of ``new_size`` leaves."""
    if not 0 <= old_size <= new_size:
        raise InvalidInput(
            f"cannot prove {old_size} entries are a prefix of {new_size}", field="old_size"
        )
    if old_size in (0, new_size):
        return []
    return _subproof(old_size, 0, new_size, True, get_leaf_hash)


def _subproof(m: int, start: int, end: int, whole: bool, get_leaf_hash: LeafHashes) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if whole else [_subtree_root(get_leaf_hash, start, end)]
    k = _largest_power_of_two_below(n)
    if m <= k:
        right = _subtree_root(get_leaf_hash, start + k, end)
        return [*_subproof(m, start, start + k, whole, get_leaf_hash), right]
    left = _subtree_root(get_leaf_hash, start, start + k)
    return [*_subproof(m - k, start + k, end, False, get_leaf_hash), left]


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Check a consistency proof the way RFC 9162 section 2.1.4.2 describes."""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        # Every log extends the empty one; the empty root is fixed.
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    """The log's size and root at a moment, signed by Doorstep's audit key."""

    size: int
    root: bytes
    timestamp: datetime
    signature: bytes

    def signed_bytes(self) -> bytes:
        """Return the canonical bytes the signature covers."""
        return tree_head_bytes(self.size, self.root, self.timestamp)


def tree_head_bytes(size: int, root: bytes, timestamp: datetime) -> bytes:
    """Encode a tree head canonically for signing."""
    if timestamp.tzinfo is None:
        raise InvalidInput("a tree head timestamp must carry a time zone", field="timestamp")
    if size < 0 or len(root) != 32:
        raise InvalidInput("a tree head needs a non-negative size and a 32-byte root", field="root")
    utc = timestamp.astimezone(UTC).isoformat(timespec="microseconds")
    return encode_entry(
        {"kind": "doorstep-tree-head-v1", "root": root.hex(), "size": size, "timestamp": utc}
    )


def sign_tree_head(
    size: int, root: bytes, timestamp: datetime, private_key: bytes
) -> SignedTreeHead:
    """Sign a tree head with a raw 32-byte Ed25519 private key."""
    try:
        key = Ed25519PrivateKey.from_private_bytes(private_key)
    except ValueError as err:
        raise InvalidInput("the audit signing key must be 32 raw bytes", field="key") from err
    signature = key.sign(tree_head_bytes(size, root, timestamp))
    return SignedTreeHead(size=size, root=root, timestamp=timestamp, signature=signature)


def verify_tree_head(head: SignedTreeHead, public_key: bytes) -> bool:
    """Return whether ``head`` carries a valid signature by the raw 32-byte Ed25519 public key."""
    try:
        key = Ed25519PublicKey.from_public_bytes(public_key)
        key.verify(head.signature, head.signed_bytes())
    except (InvalidSignature, ValueError, InvalidInput):
        return False
    return True


def public_key_for(private_key: bytes) -> bytes:
    """Return the raw public key that goes with a raw Ed25519 private key."""
    key = Ed25519PrivateKey.from_private_bytes(private_key)
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def verify_log(entries: Iterable[bytes], head: SignedTreeHead, public_key: bytes) -> bool:
    """Recompute the root over every encoded entry and check it against a signed tree head."""
    if not verify_tree_head(head, public_key):
        return False
    sha256 = hashlib.sha256
    prefix = _LEAF_PREFIX
    leaves = [sha256(prefix + entry).digest() for entry in entries]
    return len(leaves) == head.size and root_from_leaves(leaves) == head.root


#: How far ahead of the verifier's clock a tree head may be dated: clocks drift, but a head from
#: the future could never be followed by a later one without the log's time running backwards.
MAX_CLOCK_SKEW = timedelta(minutes=5)


def key_fingerprint(public_key: bytes) -> str:
    """A short, stable name for a public key that people can compare by eye."""
    digest = hashlib.sha256(public_key).hexdigest()
    return ":".join(digest[i : i + 4] for i in range(0, 16, 4))


def head_problem(
    head: SignedTreeHead, public_key: bytes, now: datetime, skew: timedelta = MAX_CLOCK_SKEW
) -> str | None:
    """Why ``head`` is unacceptable under the pinned ``public_key`` at ``now``; None if fine."""
    if not verify_tree_head(head, public_key):
        return f"the tree head is not signed by the pinned key {key_fingerprint(public_key)}"
    if head.timestamp > now + skew:
        return f"the tree head is dated {head.timestamp.isoformat()}, in the future"
    return None


def checkpoint_problem(
    remembered: SignedTreeHead, offered: SignedTreeHead, proof: Sequence[bytes]
) -> str | None:
    """Why ``offered`` does not extend the ``remembered`` checkpoint; None when it does.

    Both heads must already carry valid signatures by the pinned key. ``proof`` is the consistency
    proof from ``remembered.size`` to ``offered.size`` (RFC 9162 section 2.1.4); a log that only
    ever grew by appending can always produce one, a log rewritten, forked or shortened cannot.
    """
    if offered.size < remembered.size:
        return f"the log shrank from {remembered.size} to {offered.size} entries"
    # Heads signed by several server processes may disagree by a clock's drift, no more.
    if offered.timestamp < remembered.timestamp - MAX_CLOCK_SKEW:
        return (
            f"the tree head is dated {offered.timestamp.isoformat()}, before the checkpoint "
            f"verified earlier ({remembered.timestamp.isoformat()})"
        )
    if offered.size == remembered.size and offered.root != remembered.root:
        return (
            f"the log forked: at {offered.size} entries its root was {remembered.root.hex()}, "
            f"now {offered.root.hex()}"
        )
    if not verify_consistency(remembered.size, offered.size, remembered.root, offered.root, proof):
        return (
            f"the log forked: no valid consistency proof from the {remembered.size} entries "
            f"verified earlier to the {offered.size} offered now"
        )
    return None
