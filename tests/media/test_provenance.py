"""Signed provenance: the C2PA manifest on an agency copy, checked by c2pa's own reader."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from pathlib import Path

import c2pa
import pytest
from cryptography import x509

from doorstep.media.copies import Footage, seal_copy
from doorstep.media.provenance import (
    ASSERTION,
    PROVENANCE_FOLDER,
    SIGNING_FILE,
    Provenance,
    ProvenanceError,
    SigningIdentity,
    camera_pseudonym,
    new_signing_file,
    parse_signing_file,
    read_manifest,
    sign_copy,
    signing_identity,
    source_digest,
)
from doorstep.platform.blobs import LocalBlobStore
from doorstep.requests.rules_terms import ONWARD_USE_TERMS, TERMS_VERSION
from tests.samples import tiny_clip

START = dt.datetime(2026, 12, 1, 18, 30, tzinfo=dt.UTC)


def _provenance(**overrides: object) -> Provenance:
    values: dict[str, object] = {
        "camera": camera_pseudonym(b"k" * 32, "request-1", "camera-id-1"),
        "captured_from": START,
        "captured_to": START + dt.timedelta(seconds=2),
        "source_hmac": source_digest(b"k" * 32, "request-1", "ab" * 32),
        "purpose": "share",
        "reference": "share-1",
        "terms": ONWARD_USE_TERMS,
        "terms_version": TERMS_VERSION,
        "faces_found": 2,
        "watermark": ("Police - case 1", "Doorstep share share-1"),
    }
    values.update(overrides)
    return Provenance(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def identity(tmp_path_factory: pytest.TempPathFactory) -> SigningIdentity:
    return signing_identity(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory, identity: SigningIdentity) -> Path:
    folder = tmp_path_factory.mktemp("signed")
    target = folder / "copy.mp4"
    sign_copy(tiny_clip(folder / "clip.mp4"), target, _provenance(), identity)
    return target


def _c2pa_report(path: Path, anchors: str | None = None) -> dict[str, object]:
    settings: dict[str, object] = {"verify": {"verify_trust": anchors is not None}}
    if anchors is not None:
        settings["trust"] = {"trust_anchors": anchors}
    with (
        c2pa.Context.from_dict(settings) as context,
        path.open("rb") as handle,
        c2pa.Reader("video/mp4", handle, None, context) as reader,
    ):
        report: dict[str, object] = json.loads(reader.json())
    return report


def test_c2pas_own_reader_validates_the_manifest_and_trusts_the_operator(
    signed: Path, identity: SigningIdentity
) -> None:
    # c2pa's reader with its defaults: intact, whoever signed it.
    with c2pa.Reader(str(signed)) as reader:
        assert reader.get_validation_state() == "Valid"
    report = _c2pa_report(signed, identity.root_pem)
    assert report["validation_state"] == "Trusted"
    manifests = report["manifests"]
    assert isinstance(manifests, dict)
    active = manifests[report["active_manifest"]]
    assertions = {a["label"]: a["data"] for a in active["assertions"]}
    actions = [a["action"] for a in assertions["c2pa.actions.v2"]["actions"]]
    assert actions == ["c2pa.created", "c2pa.edited", "c2pa.edited"]
    copy = assertions[ASSERTION]
    assert copy["onward_use_terms"] == list(ONWARD_USE_TERMS)
    assert copy["terms_version"] == TERMS_VERSION
    assert copy["source_hmac"] == source_digest(b"k" * 32, "request-1", "ab" * 32)
    assert "ab" * 32 not in json.dumps(copy)
    assert copy["captured_from"] == START.isoformat()
    assert active["signature_info"]["alg"] == "Ed25519"


def test_our_check_reads_what_was_done(signed: Path, identity: SigningIdentity) -> None:
    found = read_manifest(signed, [identity.root_pem])
    assert (found.state, found.intact, found.failures) == ("Trusted", True, ())
    assert found.actions == ("c2pa.created", "faces_redacted", "watermark_added")
    assert found.copy["camera"].startswith("camera-")


def _box(data: bytes, kind: bytes) -> tuple[int, int]:
    """(start, end) of a top-level MP4 box's payload."""
    at = 0
    while at < len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        if data[at + 4 : at + 8] == kind:
            return at + 8, at + size
        at += size
    raise AssertionError(f"no {kind!r} box")


@pytest.mark.parametrize("box", [b"mdat", b"moov"])
def test_any_edited_byte_of_the_footage_fails(
    signed: Path, identity: SigningIdentity, tmp_path: Path, box: bytes
) -> None:
    data = bytearray(signed.read_bytes())
    start, end = _box(bytes(data), box)
    data[(start + end) // 2] ^= 0x01
    edited = tmp_path / "edited.mp4"
    edited.write_bytes(data)
    found = read_manifest(edited, [identity.root_pem])
    assert not found.intact
    assert _c2pa_report(edited, identity.root_pem)["validation_state"] == "Invalid"


def test_bytes_added_at_the_end_fail(
    signed: Path, identity: SigningIdentity, tmp_path: Path
) -> None:
    edited = tmp_path / "longer.mp4"
    edited.write_bytes(signed.read_bytes() + b"tampered")
    assert not read_manifest(edited, [identity.root_pem]).intact


def test_another_operators_root_does_not_vouch_for_the_copy(signed: Path) -> None:
    other = parse_signing_file(new_signing_file())
    found = read_manifest(signed, [other.root_pem])
    assert not found.intact
    assert any("untrusted" in failure for failure in found.failures)


def test_a_file_with_no_manifest_says_so(tmp_path: Path) -> None:
    assert read_manifest(tiny_clip(tmp_path / "plain.mp4")).state == "none"


def test_the_signing_file_is_made_once_and_private(tmp_path: Path) -> None:
    first = signing_identity(tmp_path)
    again = signing_identity(tmp_path)
    assert first == again
    path = tmp_path / PROVENANCE_FOLDER / SIGNING_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    certificates = x509.load_pem_x509_certificates(path.read_bytes())
    leaf, root = certificates
    assert leaf.issuer == root.subject
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert first.algorithm == "ed25519"


def test_a_broken_signing_file_is_refused_clearly() -> None:
    with pytest.raises(ProvenanceError, match="unusable"):
        parse_signing_file(b"-----BEGIN CERTIFICATE-----\nnot a certificate\n")


def test_the_camera_pseudonym_is_scoped_and_names_no_camera() -> None:
    one = camera_pseudonym(b"k" * 32, "request-1", "camera-id-1")
    assert one == camera_pseudonym(b"k" * 32, "request-1", "camera-id-1")
    assert one != camera_pseudonym(b"k" * 32, "request-2", "camera-id-1")
    assert "camera-id-1" not in one


def test_the_source_digest_is_scoped_and_is_not_the_hash() -> None:
    one = source_digest(b"k" * 32, "request-1", "ab" * 32)
    assert one == source_digest(b"k" * 32, "request-1", "ab" * 32)
    assert one != source_digest(b"k" * 32, "request-2", "ab" * 32)
    assert one != source_digest(b"j" * 32, "request-1", "ab" * 32)
    assert "ab" * 32 not in one


def test_a_sealed_copy_is_signed_and_its_published_hash_is_the_signed_files(
    tmp_path: Path, identity: SigningIdentity
) -> None:
    import hashlib

    from doorstep.platform.crypto import decrypt_stream, unwrap_key

    blobs = LocalBlobStore(tmp_path / "blobs")
    work = tmp_path / "work"
    work.mkdir()
    pieces = [tiny_clip(tmp_path / "clip.mp4").read_bytes()]
    sealed = seal_copy(
        Footage(pieces),
        work,
        lines=["Police - case 1"],
        blobs=blobs,
        target="copies/one",
        master_key=b"m" * 32,
        key_context=b"ctx",
        provenance=_provenance(),
        signing=identity,
    )
    key = unwrap_key(b"m" * 32, sealed.wrapped_key, context=b"ctx")
    delivered = b"".join(decrypt_stream(blobs.open_stream("copies/one"), key))
    assert hashlib.sha256(delivered).hexdigest() == sealed.sha256
    copy = tmp_path / "delivered.mp4"
    copy.write_bytes(delivered)
    assert read_manifest(copy, [identity.root_pem]).state == "Trusted"
