"""A deletion receipt checks offline; an edited entry, a wrong key or another proof fail."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from doorstep.transparency.merkle import (
    MerkleLog,
    encode_entry,
    inclusion_proof,
    leaf_hash,
    public_key_for,
    sign_tree_head,
)
from doorstep.transparency.rules_receipts import (
    KEYS_DESTROYED,
    RECEIPT_FORMAT,
    check_receipt,
    explain,
    keys_destroyed_detail,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
PUBLIC = public_key_for(KEY)


def _entries() -> list[bytes]:
    entries = []
    for seq in range(5):
        detail = keys_destroyed_detail("clip", f"clip-{seq}", f"nonce-{seq}")
        body = {"seq": seq, "action": KEYS_DESTROYED, "owner": None, "detail": detail}
        entries.append(encode_entry(body))
    return entries


def _receipt(index: int = 3, proof_of: int | None = None) -> dict[str, Any]:
    entries = _entries()
    log = MerkleLog()
    log.extend(leaf_hash(e) for e in entries)
    head = sign_tree_head(log.size, log.root(), datetime(2026, 12, 6, tzinfo=UTC), KEY)
    leaves = [leaf_hash(e) for e in entries]
    proof = inclusion_proof(index if proof_of is None else proof_of, log.size, leaves.__getitem__)
    return {
        "format": RECEIPT_FORMAT,
        "what": "clip",
        "subject": f"clip-{index}",
        "nonce": f"nonce-{index}",
        "index": index,
        "entry": entries[index].decode(),
        "head": {
            "size": head.size,
            "root": head.root.hex(),
            "timestamp": head.timestamp.isoformat(),
            "signature": base64.b64encode(head.signature).decode(),
        },
        "proof": [h.hex() for h in proof],
        "log_key": base64.b64encode(PUBLIC).decode(),
    }


def test_a_receipt_checks_against_the_log_key() -> None:
    check = check_receipt(_receipt(), [PUBLIC])
    assert check.ok
    assert (check.what, check.subject, check.index, check.proven_in) == ("clip", "clip-3", 3, 5)


def test_a_changed_entry_fails() -> None:
    receipt = _receipt()
    receipt["entry"] = receipt["entry"].replace('"clip"', '"camera"')
    assert check_receipt(receipt, [PUBLIC]).problem == (
        "the entry's pseudonym is not the commitment to this deletion"
    )
    receipt = _receipt()
    receipt["entry"] = receipt["entry"].replace('"owner":null', '"owner":"p-1"')
    assert check_receipt(receipt, [PUBLIC]).problem == "the entry names an owner"


def test_a_claim_about_another_clip_fails() -> None:
    receipt = _receipt()
    receipt["subject"] = "clip-4"
    assert not check_receipt(receipt, [PUBLIC]).ok


def test_a_wrong_key_fails() -> None:
    check = check_receipt(_receipt(), [public_key_for(OTHER_KEY)])
    assert check.problem == "the tree head is not signed by a trusted key"


def test_the_proof_of_another_entry_fails() -> None:
    check = check_receipt(_receipt(index=3, proof_of=2), [PUBLIC])
    assert check.problem == "the entry is not in the signed tree"


def test_a_key_after_a_change_is_accepted_beside_the_old_one() -> None:
    assert check_receipt(_receipt(), [public_key_for(OTHER_KEY), PUBLIC]).key_used == PUBLIC


def test_explain_says_what_was_deleted_and_whether_the_key_was_pinned() -> None:
    text = json.dumps(_receipt())
    code, line = explain(text, [PUBLIC])
    assert code == 0
    assert line.startswith("receipt OK: the keys of clip clip-3 were destroyed")
    assert explain(text, [])[0] == 2
    assert explain(text, [public_key_for(OTHER_KEY)])[0] == 1
    assert explain("{not json", [PUBLIC])[0] == 2
    assert explain(json.dumps({**_receipt(), "head": [1]}), [PUBLIC])[0] == 1
    assert explain(json.dumps({**_receipt(), "proof": ["zz"]}), [PUBLIC])[0] == 1
    assert explain(json.dumps({**_receipt(), "format": "v0"}), [PUBLIC])[0] == 1


def test_without_a_pinned_key_a_self_made_receipt_is_not_accepted() -> None:
    # Anyone can sign a head of their own and put their key in the receipt beside it.
    receipt = _receipt()
    head = receipt["head"]
    resigned = sign_tree_head(
        head["size"], bytes.fromhex(head["root"]), datetime(2026, 12, 6, tzinfo=UTC), OTHER_KEY
    )
    forged = {
        **receipt,
        "head": {**head, "signature": base64.b64encode(resigned.signature).decode()},
        "log_key": base64.b64encode(public_key_for(OTHER_KEY)).decode(),
    }
    assert check_receipt(forged, [public_key_for(OTHER_KEY)]).ok  # it agrees with itself
    code, line = explain(json.dumps(forged), [])
    assert code == 2
    assert line.startswith("receipt NOT CHECKED: pin the log's public key with --key")
    assert forged["log_key"] in line
    assert "/audit page" in line
    assert explain(json.dumps(forged), [PUBLIC])[0] == 1
