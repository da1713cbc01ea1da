"""The audit tree against RFC 6962's reference vectors, and the checks a verifier makes in time."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorstep.transparency.merkle import (
    EMPTY_ROOT,
    MerkleLog,
    checkpoint_problem,
    consistency_proof,
    head_problem,
    inclusion_proof,
    key_fingerprint,
    leaf_hash,
    node_hash,
    public_key_for,
    root_from_leaves,
    sign_tree_head,
    verify_consistency,
    verify_inclusion,
)

# The Certificate Transparency reference data (RFC 6962): eight leaves and the tree head after
# each, with inclusion and consistency proofs, as every interoperable implementation computes them.
LEAVES = [
    bytes.fromhex(x)
    for x in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
HASHES = [leaf_hash(leaf) for leaf in LEAVES]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


def test_the_prefixes_are_rfc_6962s() -> None:
    assert leaf_hash(b"") == bytes.fromhex(ROOTS[0])
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(HASHES[0], HASHES[1]) == bytes.fromhex(ROOTS[1])
    assert (
        node_hash(HASHES[0], HASHES[1]) == hashlib.sha256(b"\x01" + HASHES[0] + HASHES[1]).digest()
    )
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_reference_at_every_size(size: int) -> None:
    log = MerkleLog()
    log.extend(HASHES[:size])
    assert log.root().hex() == ROOTS[size - 1]
    assert root_from_leaves(HASHES[:size]).hex() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION)
def test_inclusion_proofs_match_the_reference(index: int, size: int, expected: list[str]) -> None:
    proof = inclusion_proof(index, size, HASHES.__getitem__)
    assert [p.hex() for p in proof] == expected
    root = bytes.fromhex(ROOTS[size - 1])
    assert verify_inclusion(index, size, HASHES[index], [bytes.fromhex(p) for p in expected], root)


@pytest.mark.parametrize(("old", "new", "expected"), CONSISTENCY)
def test_consistency_proofs_match_the_reference(old: int, new: int, expected: list[str]) -> None:
    proof = consistency_proof(old, new, HASHES.__getitem__)
    assert [p.hex() for p in proof] == expected
    old_root, new_root = bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1])
    assert verify_consistency(old, new, old_root, new_root, [bytes.fromhex(p) for p in expected])


@pytest.mark.parametrize(("old", "new", "expected"), [c for c in CONSISTENCY if c[0] < c[1]])
def test_reference_consistency_proofs_fail_when_anything_is_off(
    old: int, new: int, expected: list[str]
) -> None:
    proof = [bytes.fromhex(p) for p in expected]
    old_root, new_root = bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1])
    other = bytes.fromhex(ROOTS[old])
    flipped = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
    assert not verify_consistency(old, new, other, new_root, proof)
    assert not verify_consistency(old, new, old_root, other, proof)
    assert not verify_consistency(old, new, old_root, new_root, flipped)
    assert not verify_consistency(old, new, old_root, new_root, proof[:-1])
    assert not verify_consistency(old, new, old_root, new_root, [*proof, proof[0]])
    assert not verify_consistency(old + 1, new, old_root, new_root, proof)


KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
WHEN = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
MANY = [leaf_hash(bytes([i])) for i in range(20)]


def test_a_head_signed_by_another_key_is_refused() -> None:
    head = sign_tree_head(5, root_from_leaves(MANY[:5]), WHEN, OTHER_KEY)
    problem = head_problem(head, public_key_for(KEY), WHEN)
    assert (
        problem
        == f"the tree head is not signed by the pinned key {key_fingerprint(public_key_for(KEY))}"
    )
    assert head_problem(head, public_key_for(OTHER_KEY), WHEN) is None


def test_a_head_from_the_future_is_refused() -> None:
    head = sign_tree_head(5, root_from_leaves(MANY[:5]), WHEN + timedelta(hours=1), KEY)
    problem = head_problem(head, public_key_for(KEY), WHEN)
    assert problem is not None
    assert "in the future" in problem
    assert head_problem(head, public_key_for(KEY), WHEN + timedelta(minutes=56)) is None


@pytest.mark.parametrize(("old", "new"), [(0, 0), (0, 7), (3, 3), (3, 4), (4, 13), (13, 20)])
def test_a_grown_log_extends_its_checkpoint(old: int, new: int) -> None:
    remembered = sign_tree_head(old, root_from_leaves(MANY[:old]), WHEN, KEY)
    offered = sign_tree_head(new, root_from_leaves(MANY[:new]), WHEN + timedelta(1), KEY)
    proof = consistency_proof(old, new, MANY.__getitem__) if old > 0 else []
    assert checkpoint_problem(remembered, offered, proof) is None


def test_a_shrunk_log_fails_its_checkpoint() -> None:
    remembered = sign_tree_head(9, root_from_leaves(MANY[:9]), WHEN, KEY)
    offered = sign_tree_head(7, root_from_leaves(MANY[:7]), WHEN, KEY)
    assert checkpoint_problem(remembered, offered, []) == "the log shrank from 9 to 7 entries"


def test_a_forked_log_fails_its_checkpoint() -> None:
    forked = [*MANY[:5], leaf_hash(b"rewritten"), *MANY[6:]]
    remembered = sign_tree_head(8, root_from_leaves(MANY[:8]), WHEN, KEY)
    offered = sign_tree_head(12, root_from_leaves(forked[:12]), WHEN, KEY)
    problem = checkpoint_problem(remembered, offered, consistency_proof(8, 12, forked.__getitem__))
    assert problem is not None
    assert problem.startswith("the log forked: no valid consistency proof from the 8 entries")
    same_size = sign_tree_head(8, root_from_leaves(forked[:8]), WHEN, KEY)
    problem = checkpoint_problem(remembered, same_size, [])
    assert problem is not None
    assert problem.startswith("the log forked: at 8 entries its root was")


def test_a_checkpoint_cannot_go_back_in_time() -> None:
    remembered = sign_tree_head(4, root_from_leaves(MANY[:4]), WHEN, KEY)
    offered = sign_tree_head(4, root_from_leaves(MANY[:4]), WHEN - timedelta(days=1), KEY)
    problem = checkpoint_problem(remembered, offered, [])
    assert problem is not None
    assert "before the checkpoint verified earlier" in problem


def test_key_fingerprints_are_short_and_tell_keys_apart() -> None:
    one, two = key_fingerprint(public_key_for(KEY)), key_fingerprint(public_key_for(OTHER_KEY))
    assert len(one) == 19
    assert one != two


@st.composite
def rewrites(draw: st.DrawFn) -> tuple[int, int, int]:
    """A checkpoint size, a later size, and an entry before the checkpoint to rewrite."""
    old = draw(st.integers(1, 300))
    return old, draw(st.integers(old, 300)), draw(st.integers(0, old - 1))


@given(rewrites())
def test_any_rewritten_entry_before_the_checkpoint_breaks_consistency(
    case: tuple[int, int, int],
) -> None:
    old, new, forged = case
    hashes = [leaf_hash(i.to_bytes(2, "big")) for i in range(new)]
    old_root = root_from_leaves(hashes[:old])
    proof = consistency_proof(old, new, hashes.__getitem__)
    assert verify_consistency(old, new, old_root, root_from_leaves(hashes), proof)
    rewritten = [*hashes[:forged], leaf_hash(b"rewritten"), *hashes[forged + 1 :]]
    proof = consistency_proof(old, new, rewritten.__getitem__)
    assert not verify_consistency(old, new, old_root, root_from_leaves(rewritten), proof)


def test_heads_from_processes_whose_clocks_drift_a_little_still_follow() -> None:
    remembered = sign_tree_head(4, root_from_leaves(MANY[:4]), WHEN, KEY)
    offered = sign_tree_head(5, root_from_leaves(MANY[:5]), WHEN - timedelta(seconds=2), KEY)
    proof = consistency_proof(4, 5, MANY.__getitem__)
    assert checkpoint_problem(remembered, offered, proof) is None
