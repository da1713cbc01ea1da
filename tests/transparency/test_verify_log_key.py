"""--log-key follows rotations only through the entries just verified, before the checkpoint."""

from __future__ import annotations

from doorstep.transparency._verify_witnesses import Served, key_problem
from doorstep.transparency.note import Checkpoint, parse_checkpoint, signed_checkpoint, verifier_for
from doorstep.transparency.rules_witnesses import rotation_detail

ORIGIN = "doorstep.test/audit"
OLD, NEW = bytes(range(32)), bytes(range(1, 33))


def _served(size: int, private: bytes) -> Served:
    note = signed_checkpoint(Checkpoint(ORIGIN, size, bytes(32)), ORIGIN, private)
    return Served(note, parse_checkpoint(note.text), ())


def test_a_rotation_counts_only_from_the_verified_entries_before_the_checkpoint() -> None:
    pinned = verifier_for(ORIGIN, OLD)
    rotation = rotation_detail(ORIGIN, OLD, NEW)
    served = _served(5, NEW)
    assert key_problem(served, pinned, [(2, rotation)]) == ""
    # No rotation among the verified entries: whatever else the server shows, the old key holds.
    assert "not signed by the log's key" in key_problem(served, pinned, [])
    # A rotation after the checkpoint's size cannot have come before the key signed it.
    assert "not signed by the log's key" in key_problem(served, pinned, [(5, rotation)])
    assert key_problem(_served(5, OLD), pinned, [(7, rotation)]) == ""
    unsigned = {"old_key": pinned.encode()}
    assert "not signed by it" in key_problem(served, pinned, [(1, unsigned)])
    odd = {"old_key": pinned.encode(), "signature": 5}
    assert "malformed" in key_problem(served, pinned, [(1, odd)])
