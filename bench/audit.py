"""Audit log throughput against Doorstep's targets: append rate and full verification time."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from doorstep.transparency.merkle import (
    MerkleLog,
    encode_entry,
    leaf_hash,
    public_key_for,
    root_from_leaves,
    sign_tree_head,
    verify_log,
)

APPEND_TARGET_PER_S = 5_000.0
VERIFY_TARGET_S = 5.0
SIGNING_KEY = bytes(range(32))


def entry(seq: int) -> dict[str, object]:
    return {
        "seq": seq,
        "kind": "clip_shared",
        "actor": f"owner-{seq % 977}",
        "request": f"rfa-{seq % 131}",
        "clip": f"clip-{seq:08d}",
        "at": "2026-11-23T04:00:00.000000+00:00",
    }


def measure_append(count: int) -> float:
    entries = [entry(i) for i in range(count)]
    log = MerkleLog()
    started = time.perf_counter()
    for item in entries:
        log.append_leaf_hash(leaf_hash(encode_entry(item)))
    log.root()
    return count / (time.perf_counter() - started)


def measure_verify(count: int) -> tuple[float, bool]:
    encoded = [encode_entry(entry(i)) for i in range(count)]
    root = root_from_leaves([leaf_hash(e) for e in encoded])
    head = sign_tree_head(count, root, datetime.now(UTC), SIGNING_KEY)
    public = public_key_for(SIGNING_KEY)
    started = time.perf_counter()
    ok = verify_log(encoded, head, public)
    return time.perf_counter() - started, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--append", type=int, default=200_000, help="entries to append")
    parser.add_argument("--verify", type=int, default=1_000_000, help="entries to verify")
    args = parser.parse_args()
    rate = measure_append(args.append)
    seconds, ok = measure_verify(args.verify)
    rows = [
        (
            "append (encode + hash + tree)",
            f"{rate:,.0f} entries/s",
            f">= {APPEND_TARGET_PER_S:,.0f}",
        ),
        (
            f"verify {args.verify:,} entries vs STH",
            f"{seconds:.2f} s",
            f"<= {VERIFY_TARGET_S:.1f} s",
        ),
    ]
    verdicts = [rate >= APPEND_TARGET_PER_S, ok and seconds <= VERIFY_TARGET_S]
    print(f"{'measure':<36} {'figure':>22} {'target':>14}  result")
    for (name, figure, target), good in zip(rows, verdicts, strict=True):
        print(f"{name:<36} {figure:>22} {target:>14}  {'ok' if good else 'MISSED'}")
    if not ok:
        print("verification FAILED: the recomputed root does not match the signed tree head")


if __name__ == "__main__":
    main()
