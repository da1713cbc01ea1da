"""``doorstep audit verify --witness KEY``: the log just verified must be the one witnesses saw.

The server's ``/checkpoint`` must carry cosignatures of at least ``quorum`` of the given witness
keys, and its tree must be a prefix of the log the verifier just checked against its pinned key
(same root at the same size, or a consistency proof up to it). A log that shows one history to
this verifier and another to the witnesses fails here.
"""

from __future__ import annotations

import base64

import httpx

from doorstep.errors import DoorstepError
from doorstep.transparency.merkle import verify_consistency
from doorstep.transparency.note import VerifierKey, parse_checkpoint, parse_note
from doorstep.transparency.rules_witnesses import cosigned_by


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
