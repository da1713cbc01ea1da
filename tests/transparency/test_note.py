"""Signed notes and checkpoints against the C2SP examples, and a byte changed anywhere fails."""

from __future__ import annotations

import base64

import pytest

from doorstep.errors import InvalidInput
from doorstep.transparency import note
from doorstep.transparency.merkle import EMPTY_ROOT

# The example of C2SP signed-note (section "Verifier keys").
VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SIGNED = (
    "This is an example message.\n\n\u2014 example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
LOG_KEY = bytes(range(32))
WITNESS_KEY = bytes(range(1, 33))


def test_the_specs_example_note_verifies() -> None:
    key = note.parse_verifier_key(VKEY)
    parsed = note.parse_note(SIGNED)
    assert parsed.text == "This is an example message.\n"
    assert note.verified_by(parsed, [key]) == [key]
    assert parsed.encode() == SIGNED


@pytest.mark.parametrize("where", range(len("This is an example message.")))
def test_one_byte_changed_in_the_text_fails(where: int) -> None:
    key = note.parse_verifier_key(VKEY)
    changed = SIGNED[:where] + chr(ord(SIGNED[where]) ^ 1) + SIGNED[where + 1 :]
    with pytest.raises(InvalidInput):
        note.verified_by(note.parse_note(changed), [key])


def test_one_byte_changed_in_the_signature_fails() -> None:
    key = note.parse_verifier_key(VKEY)
    parsed = note.parse_note(SIGNED)
    sig = parsed.signatures[0]
    bent = note.Signature(sig.name, sig.key_id, bytes([sig.body[0] ^ 1]) + sig.body[1:])
    with pytest.raises(InvalidInput):
        note.verified_by(note.Note(parsed.text, (bent,)), [key])


def test_unknown_keys_are_ignored_not_trusted() -> None:
    other = note.verifier_for("example.com/foo", LOG_KEY)
    assert note.verified_by(note.parse_note(SIGNED), [other]) == []


def test_a_verifier_key_with_a_wrong_id_is_refused() -> None:
    with pytest.raises(InvalidInput, match="id does not match"):
        note.parse_verifier_key(VKEY.replace("530d903a", "530d903b"))


@pytest.mark.parametrize(
    "bad",
    ["", "a+b", "name+zz+AQ==", "na me+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"],
)
def test_malformed_verifier_keys_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        note.parse_verifier_key(bad)


def test_a_checkpoint_round_trips_and_is_signed_by_the_log() -> None:
    checkpoint = note.Checkpoint("doorstep.example/audit", 20852163, bytes(32))
    signed = note.signed_checkpoint(checkpoint, "doorstep.example/audit", LOG_KEY)
    served = signed.encode()
    assert served.startswith("doorstep.example/audit\n20852163\nAAAA")
    parsed = note.parse_note(served)
    assert note.parse_checkpoint(parsed.text) == checkpoint
    key = note.verifier_for("doorstep.example/audit", LOG_KEY)
    assert note.verified_by(parsed, [note.parse_verifier_key(key.encode())]) == [key]


@pytest.mark.parametrize(
    "text",
    [
        "o\n01\nAAAA\n",
        "o\n1\n" + base64.b64encode(b"short").decode() + "\n",
        "o\n1\n",
        "o\n-1\nx\n",
    ],
)
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        note.parse_checkpoint(text)


def test_a_cosignature_is_timestamped_and_covers_the_text() -> None:
    text = note.Checkpoint("o.example/log", 0, EMPTY_ROOT).text()
    cosig = note.cosign(text, "w.example/w1", WITNESS_KEY, 1679315147)
    assert cosig.body[:8] == (1679315147).to_bytes(8, "big")
    key = note.verifier_for("w.example/w1", WITNESS_KEY, note.COSIGNATURE_V1)
    assert note.cosigned_at(note.Note(text, (cosig,)), key) == 1679315147
    other = note.Checkpoint("o.example/log", 1, EMPTY_ROOT).text()
    assert note.cosigned_at(note.Note(other, (cosig,)), key) is None
    # The same private key as a log key has another id: a cosignature is no note signature.
    assert note.verifier_for("w.example/w1", WITNESS_KEY).key_id != key.key_id


@pytest.mark.parametrize(
    "data",
    ["no blank line\n", "text\n\nnot a signature line\n", "text\n\n\u2014 k !!!\n", "t\x07\n\n"],
)
def test_malformed_notes_are_refused(data: str) -> None:
    with pytest.raises(InvalidInput):
        note.parse_note(data)
