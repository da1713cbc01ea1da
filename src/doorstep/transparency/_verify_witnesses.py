"""``doorstep audit verify --witness KEY``: the log just verified must be the one witnesses saw.

The server's ``/checkpoint`` must carry cosignatures of at least ``quorum`` of the given witness
keys, and its tree must be a prefix of the log the verifier just checked against its pinned key
(same root at the same size, or a consistency proof up to it). A log that shows one history to
this verifier and another to the witnesses fails here.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys

import httpx

from doorstep.errors import DoorstepError
from doorstep.transparency.merkle import verify_consistency
from doorstep.transparency.note import (
    VerifierKey,
    parse_checkpoint,
    parse_note,
    parse_verifier_key,
    verified_by,
)
from doorstep.transparency.rules_witnesses import KEY_ROTATION, cosigned_by, follow_rotations


def witnessed_problem(
    client: httpx.Client, keys: list[VerifierKey], quorum: int, size: int, root: bytes
) -> str:
    """Why the verified log (``size``, ``root``) is not witnessed as asked; empty if it is."""
    answer = client.get("/checkpoint")
    if answer.status_code != 200:
        return f"the server serves no checkpoint ({answer.status_code}): {answer.text.strip()}"
    try:
        note = parse_note(answer.text)
        checkpoint = parse_checkpoint(note.text)
        names = cosigned_by(note, keys)
    except DoorstepError as err:
        return f"the server's checkpoint is malformed: {err.detail}"
    if len(names) < quorum:
        return f"the checkpoint carries {len(names)} of the {quorum} witness cosignatures asked for"
    if checkpoint.size > size:
        return f"the witnessed checkpoint ({checkpoint.size}) is ahead of the log served ({size})"
    proof: list[bytes] = []
    if 0 < checkpoint.size < size:
        params = {"old": checkpoint.size, "new": size}
        hexes = client.get("/api/v1/audit/proof/consistency", params=params).json()["proof"]
        proof = [bytes.fromhex(h) for h in hexes]
    if not verify_consistency(checkpoint.size, size, checkpoint.root, root, proof):
        seen = base64.b64encode(checkpoint.root).decode()
        return f"the witnesses saw another log: root {seen} at size {checkpoint.size}"
    return ""


def log_key_problem(client: httpx.Client, pinned: VerifierKey) -> str:
    """Why ``/checkpoint`` is not signed by the key reached from ``pinned``; empty if it is.

    The key may have rotated since it was pinned, but only through a rotation entry in the log
    that the key it retired signed (``follow_rotations``).
    """
    details: list[dict[str, str]] = []
    start = 0
    while True:
        page = client.get("/api/v1/audit/entries", params={"start": start}).json()
        if not page:
            break
        for entry in page:
            body = json.loads(entry["body"])
            if body.get("action") == KEY_ROTATION:
                details.append(body.get("detail") or {})
        start = page[-1]["seq"] + 1
    try:
        current = follow_rotations(pinned, details)
        note = parse_note(client.get("/checkpoint").text)
        if not verified_by(note, [current]):
            return f"the checkpoint is not signed by the log's key {current.encode()}"
    except DoorstepError as err:
        return f"the checkpoint's key: {err.detail}"
    return ""


def check_from_cli(args: argparse.Namespace, size: int, root: str) -> int:
    """The witness and key checks of ``doorstep audit verify``: 0 on success, else its exit code."""
    try:
        keys = [parse_verifier_key(text) for text in args.witness]
        pinned = parse_verifier_key(args.log_key) if args.log_key else None
    except DoorstepError as err:
        print(f"doorstep audit verify: {err.detail}", file=sys.stderr)
        return 2
    quorum = args.quorum if args.quorum is not None else len(keys)
    with httpx.Client(base_url=args.server.rstrip("/"), timeout=30) as client:
        problem = log_key_problem(client, pinned) if pinned else ""
        if keys and not problem:
            problem = witnessed_problem(client, keys, quorum, size, bytes.fromhex(root))
    if problem:
        print(f"audit log FAILED its checkpoint at size {size}: {problem}")
        return 1
    return 0
