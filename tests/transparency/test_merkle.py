import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from doorstep.errors import InvalidInput
from doorstep.transparency.merkle import (
    EMPTY_ROOT,
    MerkleLog,
    SignedTreeHead,
    consistency_proof,
    encode_entry,
    inclusion_proof,
    leaf_hash,
    public_key_for,
    root_from_leaves,
    sign_tree_head,
    verify_consistency,
    verify_inclusion,
    verify_log,
    verify_tree_head,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
WHEN = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaves(n: int) -> list[bytes]:
    return [leaf_hash(encode_entry({"seq": i, "kind": "clip_shared"})) for i in range(n)]


def reference_root(hashes: list[bytes]) -> bytes:
    """Follow the RFC's recursive definition, split at the largest power of two below n."""
    n = len(hashes)
    if n == 0:
        return h(b"")
    if n == 1:
        return hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return h(b"\x01" + reference_root(hashes[:k]) + reference_root(hashes[k:]))


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    expected = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert expected == EMPTY_ROOT
    assert root_from_leaves([]) == expected
    assert MerkleLog().root() == expected


def test_leaf_hash_has_the_leaf_prefix() -> None:
    assert leaf_hash(b"") == h(b"\x00")
    assert leaf_hash(b"abc") == h(b"\x00abc")


def test_three_leaf_tree_by_hand() -> None:
    a, b, c = h(b"\x00a"), h(b"\x00b"), h(b"\x00c")
    expected = h(b"\x01" + h(b"\x01" + a + b) + c)
    assert root_from_leaves([a, b, c]) == expected


def test_five_leaf_tree_by_hand() -> None:
    a, b, c, d, e = (h(b"\x00" + bytes([x])) for x in b"abcde")
    left = h(b"\x01" + h(b"\x01" + a + b) + h(b"\x01" + c + d))
    assert root_from_leaves([a, b, c, d, e]) == h(b"\x01" + left + e)


@pytest.mark.parametrize("size", range(0, 70))
def test_incremental_root_matches_the_definition_at_every_size(size: int) -> None:
    hashes = leaves(size)
    log = MerkleLog()
    log.extend(hashes)
    assert log.size == size
    assert log.root() == reference_root(hashes)
    assert root_from_leaves(hashes) == reference_root(hashes)


def test_log_keeps_logarithmic_state() -> None:
    log = MerkleLog()
    log.extend(leaves(1023))
    assert len(log.frontier) == 10


@pytest.mark.parametrize("split", [0, 1, 5, 16, 37])
def test_a_restored_log_carries_on_where_it_stopped(split: int) -> None:
    hashes = leaves(40)
    before = MerkleLog()
    before.extend(hashes[:split])
    after = MerkleLog.restore(before.size, before.frontier)
    after.extend(hashes[split:])
    assert after.size == 40
    assert after.root() == reference_root(hashes)


@pytest.mark.parametrize(("size", "count"), [(5, 1), (5, 3), (4, 0), (-1, 0)])
def test_restore_refuses_a_frontier_that_does_not_fit_the_size(size: int, count: int) -> None:
    with pytest.raises(InvalidInput):
        MerkleLog.restore(size, leaves(count))


@pytest.mark.parametrize("size", range(1, 41))
def test_inclusion_proofs_verify_for_every_index(size: int) -> None:
    hashes = leaves(size)
    root = root_from_leaves(hashes)
    results = [
        verify_inclusion(i, size, hashes[i], inclusion_proof(i, size, hashes.__getitem__), root)
        for i in range(size)
    ]
    assert all(results)


@pytest.mark.parametrize("size", range(2, 41))
def test_inclusion_proofs_fail_for_the_wrong_leaf_or_index(size: int) -> None:
    hashes = leaves(size)
    root = root_from_leaves(hashes)
    proofs = [inclusion_proof(i, size, hashes.__getitem__) for i in range(size)]
    wrong_leaf = [verify_inclusion(i, size, hashes[i - 1], proofs[i], root) for i in range(size)]
    wrong_index = [
        verify_inclusion((i + 1) % size, size, hashes[i], proofs[i], root) for i in range(size)
    ]
    assert not any(wrong_leaf)
    assert not any(wrong_index)


def test_inclusion_proof_fails_with_extra_or_missing_nodes() -> None:
    hashes = leaves(13)
    root = root_from_leaves(hashes)
    proof = inclusion_proof(6, 13, hashes.__getitem__)
    assert verify_inclusion(6, 13, hashes[6], proof, root)
    assert not verify_inclusion(6, 13, hashes[6], proof[:-1], root)
    assert not verify_inclusion(6, 13, hashes[6], [*proof, hashes[0]], root)
    assert not verify_inclusion(13, 13, hashes[6], proof, root)


def test_inclusion_proof_refuses_an_index_outside_the_tree() -> None:
    with pytest.raises(InvalidInput):
        inclusion_proof(5, 5, leaves(5).__getitem__)


PAIRS = [(m, n) for n in range(1, 34) for m in range(0, n + 1)]


@pytest.mark.parametrize(("old", "new"), PAIRS)
def test_consistency_proofs_verify_for_all_pairs(old: int, new: int) -> None:
    hashes = leaves(new)
    proof = consistency_proof(old, new, hashes.__getitem__)
    old_root, new_root = root_from_leaves(hashes[:old]), root_from_leaves(hashes)
    assert verify_consistency(old, new, old_root, new_root, proof)


@pytest.mark.parametrize(("old", "new"), [(m, n) for (m, n) in PAIRS if 0 < m < n])
def test_consistency_fails_when_history_was_rewritten(old: int, new: int) -> None:
    hashes = leaves(new)
    forged = [*hashes[: old - 1], leaf_hash(b"forged"), *hashes[old:]]
    proof = consistency_proof(old, new, forged.__getitem__)
    honest_old_root = root_from_leaves(hashes[:old])
    assert not verify_consistency(old, new, honest_old_root, root_from_leaves(forged), proof)


def test_consistency_fails_with_an_empty_proof_between_different_sizes() -> None:
    hashes = leaves(8)
    assert not verify_consistency(4, 8, root_from_leaves(hashes[:4]), root_from_leaves(hashes), [])


def test_consistency_refuses_a_shrinking_log() -> None:
    with pytest.raises(InvalidInput):
        consistency_proof(5, 4, leaves(5).__getitem__)
    assert not verify_consistency(5, 4, EMPTY_ROOT, EMPTY_ROOT, [])


ENTRIES = [{"seq": i, "kind": "disclosure", "device": f"d{i}"} for i in range(9)]


def root_of(entries: list[dict[str, object]]) -> bytes:
    return root_from_leaves([leaf_hash(encode_entry(e)) for e in entries])


@pytest.mark.parametrize(
    "tampered",
    [
        [*ENTRIES[:4], {**ENTRIES[4], "device": "d99"}, *ENTRIES[5:]],
        [*ENTRIES[:4], *ENTRIES[5:]],
        [*ENTRIES[:3], ENTRIES[4], ENTRIES[3], *ENTRIES[5:]],
        ENTRIES[:-1],
    ],
    ids=["edit", "drop", "reorder", "truncate"],
)
def test_tampering_changes_the_root(tampered: list[dict[str, object]]) -> None:
    assert root_of(tampered) != root_of(list(ENTRIES))


def test_canonical_encoding_is_stable_and_compact() -> None:
    assert encode_entry({"b": 1, "a": [1, "é"]}) == '{"a":[1,"é"],"b":1}'.encode()
    assert encode_entry({"a": 1, "b": 2}) == encode_entry({"b": 2, "a": 1})


@pytest.mark.parametrize("entry", [{"x": float("nan")}, {"x": object()}])
def test_canonical_encoding_refuses_non_json(entry: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        encode_entry(entry)


def test_append_entry_returns_indexes_and_matches_leaf_hashing() -> None:
    log = MerkleLog()
    indexes = [log.append_entry(e) for e in ENTRIES]
    assert indexes == list(range(len(ENTRIES)))
    assert log.root() == root_of(list(ENTRIES))


def test_append_refuses_a_wrong_length_hash() -> None:
    with pytest.raises(InvalidInput):
        MerkleLog().append_leaf_hash(b"short")


def test_signed_tree_head_round_trip() -> None:
    root = root_of(list(ENTRIES))
    head = sign_tree_head(len(ENTRIES), root, WHEN, KEY)
    assert verify_tree_head(head, public_key_for(KEY))
    assert not verify_tree_head(head, public_key_for(OTHER_KEY))


def test_same_instant_in_another_zone_signs_the_same_bytes() -> None:
    root = root_of(list(ENTRIES))
    other = WHEN.astimezone(timezone(timedelta(hours=2)))
    head = sign_tree_head(9, root, other, KEY)
    assert head.signed_bytes() == sign_tree_head(9, root, WHEN, KEY).signed_bytes()


@pytest.mark.parametrize(
    "change",
    [
        {"size": 8},
        {"root": bytes(32)},
        {"timestamp": WHEN + timedelta(seconds=1)},
        {"signature": bytes(64)},
    ],
)
def test_any_change_to_a_tree_head_breaks_its_signature(change: dict[str, object]) -> None:
    head = sign_tree_head(9, root_of(list(ENTRIES)), WHEN, KEY)
    fields: dict[str, object] = {
        "size": head.size,
        "root": head.root,
        "timestamp": head.timestamp,
        "signature": head.signature,
        **change,
    }
    altered = SignedTreeHead(**fields)  # type: ignore[arg-type]
    assert not verify_tree_head(altered, public_key_for(KEY))


def test_tree_head_needs_an_aware_timestamp() -> None:
    with pytest.raises(InvalidInput):
        sign_tree_head(0, EMPTY_ROOT, datetime(2026, 1, 1), KEY)


def test_verify_log_recomputes_the_root() -> None:
    encoded = [encode_entry(e) for e in ENTRIES]
    head = sign_tree_head(len(encoded), root_of(list(ENTRIES)), WHEN, KEY)
    assert verify_log(encoded, head, public_key_for(KEY))
    assert not verify_log(encoded[:-1], head, public_key_for(KEY))
    assert not verify_log([encoded[1], encoded[0], *encoded[2:]], head, public_key_for(KEY))
