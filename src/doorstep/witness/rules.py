"""The witness's decision on one ``add-checkpoint`` request (C2SP tlog-witness), with no I/O.

The request is ``old <size>``, the consistency proof lines, a blank line, then the signed
checkpoint. The witness cosigns only if the log's key signed the checkpoint and the checkpoint
extends the one it cosigned last: same size and root, or a consistency proof from the root it
kept (never from one the request supplies). A shorter or forked log is refused even when the
log's own signatures are intact, which is the whole point of asking someone else.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from doorstep.errors import InvalidInput
from doorstep.transparency.merkle import EMPTY_ROOT, verify_consistency
from doorstep.transparency.note import (
    Checkpoint,
    Note,
    VerifierKey,
    parse_checkpoint,
    parse_note,
    verified_by,
)

#: The spec's bound on consistency proof lines.
MAX_PROOF_LINES = 63
#: The content type of a 409's body: the size the witness knows.
SIZE_CONTENT_TYPE = "text/x.tlog.size"


@dataclass(frozen=True, slots=True)
class Submission:
    """A parsed ``add-checkpoint`` body."""

    old_size: int
    proof: tuple[bytes, ...]
    note: Note
    checkpoint: Checkpoint


class Refusal(Exception):
    """Why the witness will not cosign, and the HTTP status the protocol gives it."""

    def __init__(self, status: int, reason: str, known_size: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.known_size = known_size


def parse_submission(body: bytes) -> Submission:
    """Read an ``add-checkpoint`` body; a 400 refusal if it is not one."""
    try:
        text = body.decode("utf-8")
        head, sep, signed = text.partition("\n\n")
        if not sep:
            raise InvalidInput("no blank line after the proof", field="body")
        lines = head.split("\n")
        old_word, _, old_text = lines[0].partition(" ")
        digits = old_text.isascii() and old_text.isdigit()
        if old_word != "old" or not digits or old_text != str(int(old_text)):
            raise InvalidInput("the first line is 'old <size>'", field="body")
        if len(lines) - 1 > MAX_PROOF_LINES:
            raise InvalidInput("more than 63 proof lines", field="body")
        proof = tuple(base64.b64decode(line, validate=True) for line in lines[1:])
        if any(len(node) != 32 for node in proof):
            raise InvalidInput("a proof line is a 32-byte hash", field="body")
        note = parse_note(signed)
        checkpoint = parse_checkpoint(note.text)
    except ValueError as err:  # undecodable bytes, bad base64, a number too long to read
        raise Refusal(400, f"not an add-checkpoint request: {err}") from err
    except InvalidInput as err:
        raise Refusal(400, f"not an add-checkpoint request: {err.detail}") from err
    return Submission(int(old_text), proof, note, checkpoint)


def check(
    submission: Submission, log_keys: list[VerifierKey], latest: Checkpoint | None
) -> Checkpoint:
    """The checkpoint to cosign and keep as the latest, or the ``Refusal`` the spec asks for.

    ``log_keys`` are the keys trusted for this origin (none: the origin is unknown); ``latest``
    is the checkpoint this witness cosigned last for it.
    """
    checkpoint = submission.checkpoint
    if not log_keys:
        raise Refusal(404, f"this witness does not follow the log {checkpoint.origin!r}")
    try:
        signed = verified_by(submission.note, log_keys)
    except InvalidInput as err:
        raise Refusal(403, err.detail) from err
    if not signed:
        raise Refusal(403, "the checkpoint carries no signature of the log's key")
    if submission.old_size > checkpoint.size:
        raise Refusal(400, "the old size is larger than the checkpoint's")
    known = latest.size if latest else 0
    if submission.old_size != known:
        raise Refusal(409, f"this witness last cosigned size {known}", known_size=known)
    if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
        raise Refusal(422, "an empty log has the empty tree's root")
    old_root = latest.root if latest else EMPTY_ROOT
    if submission.old_size == 0 and submission.proof:
        raise Refusal(422, "from size 0 the proof is empty")
    if submission.old_size == checkpoint.size and old_root != checkpoint.root:
        raise Refusal(422, "same size, another root: the log forked")
    if not verify_consistency(
        submission.old_size, checkpoint.size, old_root, checkpoint.root, submission.proof
    ):
        raise Refusal(422, "the checkpoint is not consistent with the one cosigned before")
    return checkpoint
