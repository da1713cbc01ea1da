"""Checkpoints as signed notes (C2SP signed-note, tlog-checkpoint and tlog-cosignature/v1).

A checkpoint is three lines, origin, tree size and base64 root hash, signed by the log as a note:
a blank line, then one line per signature, ``— <key name> base64(key id || signature)``. Anyone
holding the log's verifier key (``name+hex(key id)+base64(0x01 || public key)``) can check it with
any C2SP tool, not only ours. Witnesses add cosignature lines over the same text: a timestamped
Ed25519 signature (type 0x04) saying "as of this time, this is the largest tree I saw, and it only
grew". Pure: bytes in, bytes out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from doorstep.errors import InvalidInput

#: Signature type of a note signed with Ed25519 (signed-note).
ED25519 = 0x01
#: Signature type of a timestamped Ed25519 witness cosignature (tlog-cosignature, v1).
COSIGNATURE_V1 = 0x04
#: What starts every signature line: an em dash and a space.
SIGNATURE_PREFIX = "\u2014 "
#: More signature lines than this and the note is refused (the spec asks to accept 16 at least).
MAX_SIGNATURES = 64
#: A note longer than this is not a checkpoint.
MAX_NOTE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A key that checks note signatures: its name, type, 4-byte id and raw public key."""

    name: str
    kind: int
    key_id: bytes
    public_key: bytes

    def encode(self) -> str:
        """The ``name+hex(id)+base64(type || key)`` string people copy and pin."""
        material = base64.b64encode(bytes([self.kind]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"


@dataclass(frozen=True, slots=True)
class Signature:
    """One signature line: the key name, the key id and what follows it."""

    name: str
    key_id: bytes
    body: bytes

    def line(self) -> str:
        """The line as it appears under the note text, newline included."""
        encoded = base64.b64encode(self.key_id + self.body).decode()
        return f"{SIGNATURE_PREFIX}{self.name} {encoded}\n"


@dataclass(frozen=True, slots=True)
class Note:
    """A note's text (final newline included) and its signature lines, in order."""

    text: str
    signatures: tuple[Signature, ...]

    def encode(self) -> str:
        """The whole note as served: text, blank line, signature lines."""
        return self.text + "\n" + "".join(sig.line() for sig in self.signatures)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What a checkpoint states: the log's origin, its size and its root hash."""

    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        """The checkpoint's note text."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def _check_name(name: str) -> None:
    if not name or any(ch.isspace() or ch == "+" for ch in name):
        raise InvalidInput("a key name is non-empty, with no spaces and no '+'", field="key")


def key_id(name: str, kind: int, public_key: bytes) -> bytes:
    """The 4-byte key id: SHA-256(name || newline || type || public key), first four bytes."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public_key).digest()[:4]


def _raw_public(private_key: bytes) -> bytes:
    public = Ed25519PrivateKey.from_private_bytes(private_key).public_key()
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def verifier_for(name: str, private_key: bytes, kind: int = ED25519) -> VerifierKey:
    """The verifier key of ``private_key`` under ``name``."""
    _check_name(name)
    public = _raw_public(private_key)
    return VerifierKey(name, kind, key_id(name, kind, public), public)


def parse_verifier_key(text: str) -> VerifierKey:
    """Read a ``name+hex(id)+base64(type || key)`` string; a clear error if it is not one."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise InvalidInput("a verifier key reads name+keyid+base64key", field="key")
    name, hex_id, material = parts
    _check_name(name)
    try:
        kid = bytes.fromhex(hex_id)
        raw = base64.b64decode(material, validate=True)
    except (ValueError, binascii.Error) as err:
        raise InvalidInput("a verifier key's id is hex and its key base64", field="key") from err
    if len(kid) != 4 or len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
        raise InvalidInput("only Ed25519 verifier keys (type 1 or 4) are known", field="key")
    key = VerifierKey(name, raw[0], kid, raw[1:])
    if key_id(name, key.kind, key.public_key) != kid:
        raise InvalidInput("the verifier key's id does not match its name and key", field="key")
    return key


def parse_note(data: str) -> Note:
    """Split a signed note into its text and signature lines; refuse anything malformed."""
    if len(data.encode()) > MAX_NOTE_BYTES:
        raise InvalidInput("the note is too long", field="note")
    if any(ch < " " and ch != "\n" for ch in data):
        raise InvalidInput("a note holds no control characters but newlines", field="note")
    split = data.rfind("\n\n")
    if split < 0 or not data.endswith("\n"):
        raise InvalidInput("a note is text, a blank line, then signature lines", field="note")
    text, lines = data[: split + 1], data[split + 2 :].splitlines()
    if not lines or len(lines) > MAX_SIGNATURES:
        raise InvalidInput("a note carries between 1 and 64 signatures", field="note")
    signatures = []
    for line in lines:
        name, _, encoded = line.removeprefix(SIGNATURE_PREFIX).partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error as err:
            raise InvalidInput("a signature line's signature is base64", field="note") from err
        if not line.startswith(SIGNATURE_PREFIX) or not name or " " in encoded or len(raw) < 5:
            raise InvalidInput("a signature line reads '\u2014 name base64'", field="note")
        signatures.append(Signature(name, raw[:4], raw[4:]))
    return Note(text, tuple(signatures))


def sign_note(text: str, name: str, private_key: bytes) -> Signature:
    """The log's Ed25519 signature on ``text`` (which ends with a newline)."""
    key = verifier_for(name, private_key)
    signature = Ed25519PrivateKey.from_private_bytes(private_key).sign(text.encode())
    return Signature(name, key.key_id, signature)


def _cosigned_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def cosign(text: str, name: str, private_key: bytes, timestamp: int) -> Signature:
    """A witness's cosignature/v1 on checkpoint ``text`` at POSIX ``timestamp`` seconds."""
    if not 0 < timestamp < 2**63:
        raise InvalidInput("a cosignature's time is after 1970", field="timestamp")
    key = verifier_for(name, private_key, COSIGNATURE_V1)
    signed = Ed25519PrivateKey.from_private_bytes(private_key).sign(
        _cosigned_message(text, timestamp)
    )
    return Signature(name, key.key_id, struct.pack(">Q", timestamp) + signed)


def _matches(signature: Signature, key: VerifierKey) -> bool:
    return signature.name == key.name and signature.key_id == key.key_id


def signature_valid(text: str, signature: Signature, key: VerifierKey) -> bool:
    """Whether ``signature`` is ``key``'s on ``text`` (a note signature or a cosignature)."""
    if not _matches(signature, key):
        return False
    public = Ed25519PublicKey.from_public_bytes(key.public_key)
    if key.kind == COSIGNATURE_V1:
        if len(signature.body) != 8 + 64:
            return False
        (timestamp,) = struct.unpack(">Q", signature.body[:8])
        message, sig = _cosigned_message(text, timestamp), signature.body[8:]
    else:
        message, sig = text.encode(), signature.body
    try:
        public.verify(sig, message)
    except InvalidSignature:
        return False
    return True


def verified_by(note: Note, keys: list[VerifierKey]) -> list[VerifierKey]:
    """The keys among ``keys`` whose signature the note carries, each checked.

    Lines from unknown keys are ignored, as the spec says; a line naming a known key whose
    signature fails makes the whole note malformed.
    """
    good: list[VerifierKey] = []
    for key in keys:
        lines = [sig for sig in note.signatures if _matches(sig, key)]
        if any(not signature_valid(note.text, sig, key) for sig in lines):
            raise InvalidInput(f"the signature of {key.name} does not verify", field="note")
        if lines:
            good.append(key)
    return good


def cosigned_at(note: Note, key: VerifierKey) -> int | None:
    """The time ``key`` cosigned the note, or ``None`` without a valid cosignature of it."""
    for sig in note.signatures:
        if key.kind == COSIGNATURE_V1 and signature_valid(note.text, sig, key):
            (timestamp,) = struct.unpack(">Q", sig.body[:8])
            return int(timestamp)
    return None


def parse_checkpoint(text: str) -> Checkpoint:
    """Read a checkpoint's note text: origin, size without leading zeroes, a 32-byte root."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise InvalidInput("a checkpoint is origin, size and root hash lines", field="checkpoint")
    origin, size_line, root_line = lines[0], lines[1], lines[2]
    if not size_line.isascii() or not size_line.isdigit() or size_line != str(int(size_line)):
        raise InvalidInput("a checkpoint's size is a decimal number", field="checkpoint")
    try:
        root = base64.b64decode(root_line, validate=True)
    except binascii.Error as err:
        raise InvalidInput("a checkpoint's root hash is base64", field="checkpoint") from err
    if len(root) != 32:
        raise InvalidInput("a checkpoint's root hash is 32 bytes", field="checkpoint")
    return Checkpoint(origin, int(size_line), root)


def signed_checkpoint(checkpoint: Checkpoint, name: str, private_key: bytes) -> Note:
    """The checkpoint signed by the log's key ``name``."""
    text = checkpoint.text()
    return Note(text, (sign_note(text, name, private_key),))


def add_checkpoint_request(old_size: int, proof: list[bytes], signed_note: str) -> bytes:
    """The body of a tlog-witness ``POST /add-checkpoint``: old size, proof, blank, checkpoint."""
    lines = [f"old {old_size}"] + [base64.b64encode(node).decode() for node in proof]
    return ("\n".join(lines) + "\n\n" + signed_note).encode()


def parse_signature_lines(text: str) -> list[Signature]:
    """The signature lines a witness answers with (a note of no text, so to speak)."""
    return list(parse_note("x\n\n" + text).signatures)
