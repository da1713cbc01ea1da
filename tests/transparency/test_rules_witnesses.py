"""Only the line that verified is kept as a cosignature: a witness name alone counts for nothing."""

from __future__ import annotations

from doorstep.transparency.note import (
    COSIGNATURE_V1,
    Checkpoint,
    Signature,
    cosign,
    verifier_for,
)
from doorstep.transparency.rules_witnesses import verified_cosignature

WITNESS_KEY = bytes(range(32, 64))
TEXT = Checkpoint("doorstep.test/audit", 3, bytes(32)).text()


def test_the_valid_line_is_kept_not_the_first_with_the_witness_name() -> None:
    witness = verifier_for("w1.test", WITNESS_KEY, COSIGNATURE_V1)
    good = cosign(TEXT, "w1.test", WITNESS_KEY, 1_800_000_000)
    forged = Signature("w1.test", good.key_id, good.body[:8] + bytes(64))
    assert verified_cosignature(TEXT, [forged, good], witness) == good
    assert verified_cosignature(TEXT, [forged], witness) is None
    stranger = verifier_for("w1.test", bytes(32), COSIGNATURE_V1)
    assert verified_cosignature(TEXT, [good], stranger) is None
