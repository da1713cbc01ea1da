"""Deletion receipts, checked offline: the entry, its place in the log, and a signed tree head.

A receipt holds the audit log's "keys destroyed" entry exactly as it was hashed, its index, and
(once a tree head covering it was published) an inclusion proof against that signed head. The
entry names no owner: it carries a per-deletion pseudonym, a commitment to what was deleted and
a random nonce that only the receipt holds, so the owner can show which clip, camera or account
went while nobody reading the public log can link the entry to them or to their other deletions.

Pure functions over plain data, with no network: the verifier trusts only the keys it is given.
Checking the head's signature is one function (``head_signed_by``), so that a change of the
log's signing key changes what it accepts here and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from doorstep.transparency.merkle import (
    SignedTreeHead,
    leaf_hash,
    verify_inclusion,
    verify_tree_head,
)

#: The format a receipt names, so an older or newer one is refused rather than misread.
RECEIPT_FORMAT = "doorstep-deletion-receipt/v1"
#: The audit log's action for a deletion whose keys were destroyed.
KEYS_DESTROYED = "keys.destroyed"
#: What a receipt may be for.
DELETED_THINGS = ("clip", "camera", "account")


def deletion_pseudonym(what: str, subject: str, nonce: str) -> str:
    """The entry's pseudonym for one deletion: a commitment to what went, under a secret nonce."""
    message = json.dumps([RECEIPT_FORMAT, what, subject, nonce], separators=(",", ":"))
    return "d-" + hashlib.sha256(message.encode()).hexdigest()[:32]


def keys_destroyed_detail(what: str, subject: str, nonce: str) -> dict[str, str]:
    """The public detail of a "keys destroyed" entry: the kind of thing and the pseudonym."""
    return {"what": what, "deletion": deletion_pseudonym(what, subject, nonce)}


@dataclass(frozen=True, slots=True)
class ReceiptCheck:
    """What checking a receipt found: ``problem`` is None when it holds up."""

    what: str
    subject: str
    index: int
    problem: str | None
    #: The size of the signed head the entry was proven in, or None before one was published.
    proven_in: int | None
    key_used: bytes | None

    @property
    def ok(self) -> bool:
        """Whether the receipt holds up and proves inclusion in a signed head."""
        return self.problem is None and self.proven_in is not None


def head_signed_by(head: SignedTreeHead, trusted_keys: Sequence[bytes]) -> bytes | None:
    """The trusted key that signed ``head``, or None."""
    for key in trusted_keys:
        if verify_tree_head(head, key):
            return key
    return None


def _head(data: Mapping[str, Any]) -> SignedTreeHead:
    timestamp = datetime.fromisoformat(str(data["timestamp"]))
    return SignedTreeHead(
        size=int(data["size"]),
        root=bytes.fromhex(str(data["root"])),
        timestamp=timestamp,
        signature=base64.b64decode(str(data["signature"]), validate=True),
    )


def _entry_problem(receipt: Mapping[str, Any]) -> str | None:
    body = json.loads(str(receipt["entry"]))
    if not isinstance(body, dict):
        return "the entry is not a JSON object"
    if body.get("action") != KEYS_DESTROYED:
        return f"the entry is not a {KEYS_DESTROYED!r} entry"
    if body.get("seq") != receipt["index"]:
        return "the entry's index does not match the receipt's"
    if body.get("owner") is not None:
        return "the entry names an owner"
    expected = keys_destroyed_detail(receipt["what"], receipt["subject"], receipt["nonce"])
    if body.get("detail") != expected:
        return "the entry's pseudonym is not the commitment to this deletion"
    return None


def check_receipt(receipt: Mapping[str, Any], trusted_keys: Sequence[bytes]) -> ReceiptCheck:
    """Check a receipt against the log keys trusted; never touches the network."""
    try:
        what, subject = str(receipt["what"]), str(receipt["subject"])
        index = int(receipt["index"])
        if receipt.get("format") != RECEIPT_FORMAT:
            return ReceiptCheck(what, subject, index, "not a receipt in a known format", None, None)
        problem = _entry_problem(receipt)
        leaf = leaf_hash(str(receipt["entry"]).encode())
        head_data = receipt.get("head")
        if problem is None and head_data is None:
            return ReceiptCheck(what, subject, index, None, None, None)
        if problem is not None:
            return ReceiptCheck(what, subject, index, problem, None, None)
        if not isinstance(head_data, Mapping):
            raise TypeError("the head is not a JSON object")
        head = _head(head_data)
        proof = [bytes.fromhex(str(h)) for h in receipt["proof"]]
    except (KeyError, TypeError, ValueError) as err:
        return ReceiptCheck("?", "?", -1, f"the receipt cannot be read: {err}", None, None)
    key = head_signed_by(head, trusted_keys)
    if key is None:
        return ReceiptCheck(
            what, subject, index, "the tree head is not signed by a trusted key", None, None
        )
    if not verify_inclusion(index, head.size, leaf, proof, head.root):
        return ReceiptCheck(what, subject, index, "the entry is not in the signed tree", None, key)
    return ReceiptCheck(what, subject, index, None, head.size, key)


def explain(text: str, keys: Sequence[bytes]) -> tuple[int, str]:
    """Check a receipt file's text for ``doorstep audit receipt``: an exit status and a line.

    With no key given nothing is checked (exit 2): the key a receipt carries proves only that it
    agrees with itself, and anyone can make a receipt that does. The line names that key and
    where the log's own key is published, to pin with ``--key``.
    """
    named = b""
    try:
        receipt = json.loads(text)
        if not isinstance(receipt, dict):
            raise TypeError("not a JSON object")
        if not keys:
            named = base64.b64decode(str(receipt.get("log_key", "")), validate=True)
    except (TypeError, ValueError) as err:
        return 2, f"receipt FAILED: it cannot be read: {err}"
    if not keys:
        says = f"{base64.b64encode(named).decode()} " if named else "none "
        return 2, (
            "receipt NOT CHECKED: pin the log's public key with --key (the receipt names "
            f"{says}itself, which anyone can make agree); the log's key is on the server's "
            "/audit page, and `doorstep audit verify` prints the key it pinned"
        )
    check = check_receipt(receipt, keys)
    if check.problem is not None:
        return 1, f"receipt FAILED: {check.problem}"
    if check.proven_in is None:
        return 1, "receipt not yet proven: no signed tree head covered the entry when it was made"
    where = f"entry {check.index} of the audit log, in the signed tree of {check.proven_in}"
    return 0, f"receipt OK: the keys of {check.what} {check.subject} were destroyed: {where}"
