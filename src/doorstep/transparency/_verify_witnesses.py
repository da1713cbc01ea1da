"""``doorstep audit verify --witness KEY``: the log just verified must be the one witnesses saw.

``/checkpoint`` is read first, before the log: it must carry fresh cosignatures (no older than
``max_age``) of at least ``quorum`` of the given witness keys. The log is then verified in full and
its root at exactly the checkpoint's size, hashed from the entries just downloaded, must be the
checkpoint's root. What the witnesses vouch for is that prefix, and the verifier says so; the pin
keeps the witnessed size, so a later run refuses a server that serves an older one. A log that
shows one history to this verifier and another to the witnesses fails here.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from doorstep.errors import DoorstepError, InvalidInput
from doorstep.transparency._verify_wire import HttpClient, _Failed
from doorstep.transparency.merkle import MAX_CLOCK_SKEW
from doorstep.transparency.note import (
    Checkpoint,
    Note,
    VerifierKey,
    cosigned_at,
    parse_checkpoint,
    parse_note,
    parse_verifier_key,
    verified_by,
)
from doorstep.transparency.rules_witnesses import follow_rotations

#: How old a witness's cosignature may be, by default: one day.
DEFAULT_MAX_AGE = 24 * 60 * 60


@dataclass(frozen=True, slots=True)
class WitnessPolicy:
    """What ``--witness``, ``--quorum``, ``--max-age`` and ``--log-key`` ask of ``/checkpoint``."""

    keys: tuple[VerifierKey, ...] = ()
    quorum: int = 0
    max_age: int = DEFAULT_MAX_AGE
    log_key: VerifierKey | None = None


@dataclass(frozen=True, slots=True)
class Served:
    """The checkpoint the server served, and the witnesses whose fresh cosignature it carries."""

    note: Note
    checkpoint: Checkpoint
    cosigners: tuple[str, ...]


def policy_from(args: argparse.Namespace) -> WitnessPolicy | None:
    """The policy the command line asks for (None: no checkpoint check); DoorstepError if bad."""
    if not args.witness and not args.log_key:
        return None
    keys = tuple(parse_verifier_key(text) for text in args.witness)
    log_key = parse_verifier_key(args.log_key) if args.log_key else None
    quorum = args.quorum if args.quorum is not None else len(keys)
    if not 0 <= quorum <= len(keys) or args.max_age <= 0:
        raise InvalidInput(
            "--quorum is at most the number of --witness keys, --max-age a positive number",
            field="witness",
        )
    return WitnessPolicy(keys, quorum, args.max_age, log_key)


def read_served(client: HttpClient, policy: WitnessPolicy, now: datetime) -> Served:
    """``/checkpoint``, with the quorum of fresh cosignatures asked for; ``_Failed`` if not."""
    answer = client.get("/checkpoint")
    if answer.status_code != 200:
        raise _Failed(
            f"the server serves no checkpoint ({answer.status_code}): {answer.text.strip()}"
        )
    try:
        note = parse_note(answer.text)
        checkpoint = parse_checkpoint(note.text)
    except DoorstepError as err:
        raise _Failed(f"the server's checkpoint is malformed: {err.detail}") from err
    fresh: list[str] = []
    stale = 0
    for key in policy.keys:
        at = cosigned_at(note, key)
        if at is None:
            continue
        age = now.timestamp() - at
        if -MAX_CLOCK_SKEW.total_seconds() <= age <= policy.max_age:
            fresh.append(key.name)
        else:
            stale += 1
    if len(fresh) < policy.quorum:
        late = f" ({stale} more older than {policy.max_age} s or from the future)" if stale else ""
        raise _Failed(
            f"the checkpoint carries {len(fresh)} of the {policy.quorum} witness cosignatures "
            f"asked for{late}"
        )
    return Served(note, checkpoint, tuple(fresh))


def key_problem(
    served: Served, pinned: VerifierKey, rotations: Sequence[tuple[int, Mapping[str, Any]]]
) -> str:
    """Why ``served`` is not signed by the key reached from ``pinned``; empty if it is.

    The key may have rotated since it was pinned, but only through a rotation entry, among the
    entries just verified and before the checkpoint's size, that the key it retired signed.
    """
    details = [detail for seq, detail in rotations if seq < served.checkpoint.size]
    try:
        current = follow_rotations(pinned, details)  # type: ignore[arg-type]
        if not verified_by(served.note, [current]):
            return f"the checkpoint is not signed by the log's key {current.encode()}"
    except DoorstepError as err:
        return f"the checkpoint's key: {err.detail}"
    except (KeyError, TypeError, ValueError, AttributeError):
        return "the checkpoint's key: a key rotation entry is malformed"
    return ""
