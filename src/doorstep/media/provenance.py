"""Signed provenance: a C2PA manifest on every copy of footage that leaves for an agency.

The manifest says where the copy came from and what was done to it, in a form any C2PA reader
checks: a pseudonymous camera, the capture window, a scoped keyed digest of the clip the copy
was made from, the actions (faces blurred, watermark burned in), and the onward-use terms the copy
carries. It is signed by the operator's signing certificate; the MP4's boxes are bound into the
signature, so an edit to the footage breaks it.

C2PA signs with an X.509 chain. Doorstep makes its own, once: an operator CA and a signing
certificate it issues, both Ed25519, kept in one private file in the data folder
(``provenance/signing.pem``: the signing certificate, its chain up to the root, and the signing
key). An operator with a certificate from a C2PA-trusted issuer writes theirs in its place, in the
same layout. A verifier trusts the root, the last certificate in that file
(``doorstep evidence ca`` prints it).

End-to-end encrypted clips are never signed: the server never holds their footage, and nothing
here is called for them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from doorstep.platform.folders import secret_file

#: The data folder's folder for the signing file.
PROVENANCE_FOLDER = "provenance"
SIGNING_FILE = "signing.pem"
#: The label of Doorstep's own assertion: the copy's origin and its onward-use terms.
ASSERTION = "org.doorstep.copy"
GENERATOR = "Doorstep"
CAPTURE = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"
#: How long the certificates Doorstep makes for itself are valid.
VALIDITY = dt.timedelta(days=3650)


class ProvenanceError(Exception):
    """The signing file is unusable, or a copy could not be signed."""


@dataclass(frozen=True, slots=True)
class Provenance:
    """What one copy's manifest says; nothing in it names a resident or their home."""

    #: A pseudonym of the camera, scoped to the request or demand (``camera_pseudonym``).
    camera: str
    captured_from: dt.datetime
    captured_to: dt.datetime
    #: The source clip's SHA-256 under an HMAC scoped like the camera (``source_digest``).
    source_hmac: str
    #: "share" or "disclosure".
    purpose: str
    reference: str
    terms: tuple[str, ...]
    terms_version: str
    faces_redacted: bool = True
    faces_found: int = 0
    watermark: tuple[str, ...] = ()
    #: (start, end) seconds into the clip, when the copy is a part of it.
    trimmed: tuple[float, float] | None = None


def camera_pseudonym(secret: bytes, scope: str, camera_id: str) -> str:
    """The same camera reads alike within one request or demand, and unlinkably across them."""
    message = f"doorstep provenance camera\x00{scope}\x00{camera_id}".encode()
    return "camera-" + hmac.new(secret, message, hashlib.sha256).hexdigest()[:16]


def source_digest(secret: bytes, scope: str, sha256: str) -> str:
    """The source clip's SHA-256, keyed and scoped like the camera's pseudonym.

    The raw hash would link one clip's copies across cases, and with them the camera's
    per-case pseudonyms; the operator, holding the key, can still match a copy to its clip.
    """
    message = f"doorstep provenance source\x00{scope}\x00{sha256}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _actions(provenance: Provenance) -> list[dict[str, Any]]:
    actions: list[dict[str, Any]] = [{"action": "c2pa.created", "digitalSourceType": CAPTURE}]
    if provenance.trimmed is not None:
        start, end = provenance.trimmed
        actions.append(
            {
                "action": "c2pa.edited",
                "description": f"trimmed to {start:.1f}-{end:.1f} s of the clip",
                "parameters": {"org.doorstep.edit": "trimmed"},
            }
        )
    if provenance.faces_redacted:
        actions.append(
            {
                "action": "c2pa.edited",
                "description": f"faces blurred ({provenance.faces_found} found)",
                "parameters": {"org.doorstep.edit": "faces_redacted"},
            }
        )
    if provenance.watermark:
        actions.append(
            {
                "action": "c2pa.edited",
                "description": "visible watermark added: " + " / ".join(provenance.watermark),
                "parameters": {"org.doorstep.edit": "watermark_added"},
            }
        )
    return actions


def manifest_definition(provenance: Provenance, title: str) -> dict[str, Any]:
    """The manifest's definition as c2pa's Builder takes it."""
    copy = {
        "camera": provenance.camera,
        "captured_from": provenance.captured_from.isoformat(),
        "captured_to": provenance.captured_to.isoformat(),
        "source_hmac": provenance.source_hmac,
        "purpose": provenance.purpose,
        "reference": provenance.reference,
        "faces_redacted": provenance.faces_redacted,
        "terms_version": provenance.terms_version,
        "onward_use_terms": list(provenance.terms),
    }
    return {
        "claim_generator_info": [{"name": GENERATOR}],
        "title": title,
        "format": "video/mp4",
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": _actions(provenance)}},
            {"label": ASSERTION, "data": copy},
        ],
    }


# --- the operator's signing certificate ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SigningIdentity:
    """A signing key, its certificate chain (signing certificate first) and the root."""

    chain_pem: str
    key_pem: str
    root_pem: str
    algorithm: str


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Doorstep operator"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def new_signing_file(now: dt.datetime | None = None) -> bytes:
    """A fresh operator CA and a signing certificate it issued, with the signing key, as PEM."""
    start = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=1)
    ca_key, key = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()

    def builder(subject: x509.Name, public: ed25519.Ed25519PublicKey) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(_name("Doorstep operator CA"))
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + VALIDITY)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        )

    ca = (
        builder(_name("Doorstep operator CA"), ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, None)
    )
    leaf = (
        builder(_name("Doorstep evidence signing"), key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, None)
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return _pem(leaf) + _pem(ca) + private


def _algorithm(key: object) -> str:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        curves = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name in curves:
            return curves[key.curve.name]
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    raise ProvenanceError("the signing key must be Ed25519, ECDSA P-256/384/521 or RSA")


def parse_signing_file(data: bytes) -> SigningIdentity:
    """Read a signing file: certificates (signing certificate first, root last) and the key."""
    try:
        certificates = x509.load_pem_x509_certificates(data)
        start = data.index(b"-----BEGIN PRIVATE KEY-----")
        key_pem = data[start:]
        key = serialization.load_pem_private_key(key_pem, password=None)
    except ValueError as err:
        raise ProvenanceError(f"the signing file is unusable: {err}") from err
    return SigningIdentity(
        chain_pem=b"".join(_pem(c) for c in certificates).decode(),
        key_pem=key_pem.decode(),
        root_pem=_pem(certificates[-1]).decode(),
        algorithm=_algorithm(key),
    )


def signing_identity(data_dir: Path) -> SigningIdentity:
    """The operator's signing identity, made once into ``data_dir/provenance/signing.pem``."""
    return parse_signing_file(
        secret_file(data_dir / PROVENANCE_FOLDER / SIGNING_FILE, new_signing_file)
    )


# --- signing and checking ------------------------------------------------------------------------


def sign_copy(
    source: Path, target: Path, provenance: Provenance, identity: SigningIdentity
) -> None:
    """Write ``source`` to ``target`` with the manifest embedded and signed."""
    # Imported here: the C2PA library loads only in the process that signs or checks a copy.
    import c2pa

    info = c2pa.C2paSignerInfo(
        identity.algorithm, identity.chain_pem.encode(), identity.key_pem.encode(), None
    )
    definition = manifest_definition(provenance, target.name)
    try:
        with (
            c2pa.Signer.from_info(info) as signer,
            c2pa.Builder(definition) as builder,
            source.open("rb") as src,
            target.open("w+b") as dst,
        ):
            builder.sign(signer, "video/mp4", src, dst)
    except c2pa.C2paError as err:
        raise ProvenanceError(f"the copy could not be signed: {err}") from err


@dataclass(frozen=True, slots=True)
class ManifestCheck:
    """What a C2PA reader found in a file."""

    #: "none" (no manifest), "Invalid", "Valid" (intact, signer not checked) or "Trusted".
    state: str
    failures: tuple[str, ...] = ()
    signer: str = ""
    copy: dict[str, Any] = field(default_factory=dict)
    actions: tuple[str, ...] = ()

    @property
    def intact(self) -> bool:
        """The manifest is there and every hash and signature in it checks."""
        return self.state in ("Valid", "Trusted") and not self.failures


def _failures(results: dict[str, Any] | None) -> tuple[str, ...]:
    manifest = (results or {}).get("activeManifest") or {}
    return tuple(
        f"{item.get('code')}: {item.get('explanation', '')}" for item in manifest.get("failure", [])
    )


def read_manifest(path: Path, trust_pems: Sequence[str] = ()) -> ManifestCheck:
    """Check a file's C2PA manifest; with ``trust_pems`` its signer must chain to one of them."""
    import c2pa

    settings: dict[str, Any] = {"verify": {"verify_trust": bool(trust_pems)}}
    if trust_pems:
        settings["trust"] = {"trust_anchors": "".join(trust_pems)}
    try:
        with (
            c2pa.Context.from_dict(settings) as context,
            path.open("rb") as handle,
            c2pa.Reader("video/mp4", handle, None, context) as reader,
        ):
            report = json.loads(reader.json())
    except c2pa.C2paError as err:
        if "ManifestNotFound" in type(err).__name__ or "no JUMBF" in str(err):
            return ManifestCheck(state="none")
        return ManifestCheck(state="Invalid", failures=(str(err),))
    active = report.get("manifests", {}).get(report.get("active_manifest", ""), {})
    assertions = {a.get("label"): a.get("data", {}) for a in active.get("assertions", [])}
    actions = assertions.get("c2pa.actions.v2", {}).get("actions", [])
    signature = active.get("signature_info", {})
    return ManifestCheck(
        state=str(report.get("validation_state", "Invalid")),
        failures=_failures(report.get("validation_results")),
        signer=f"{signature.get('common_name', '?')} ({signature.get('issuer', '?')})",
        copy=dict(assertions.get(ASSERTION, {})),
        actions=tuple(
            str((a.get("parameters") or {}).get("org.doorstep.edit") or a.get("action"))
            for a in actions
        ),
    )
