"""``doorstep evidence verify FILE``: check a downloaded copy's signed provenance and public record.

Two checks, both required. The copy's C2PA manifest (``media.provenance``) must be intact, and,
given the operator's root certificate (``--ca``, printed by ``doorstep evidence ca``), signed
under it; it says where the copy came from and what was done to it. The file's SHA-256 must be
one Doorstep published: that covers every byte, including the few boxes a C2PA manifest leaves
out of its own hash.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import httpx

DEFAULT_SERVER = "http://127.0.0.1:8000"


class HttpClient(Protocol):
    """What checking needs of an HTTP client (httpx, or a test client)."""

    def get(self, url: str) -> Any:
        """Fetch ``url``."""
        ...


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in pieces."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while piece := handle.read(1024 * 1024):
            digest.update(piece)
    return digest.hexdigest()


def check_provenance(path: Path, trust_pems: Sequence[str]) -> tuple[int, str]:
    """Check the copy's C2PA manifest; returns an exit status and what to print."""
    # Imported here: only checking a copy loads the C2PA library.
    from doorstep.media.provenance import read_manifest

    found = read_manifest(path, trust_pems)
    if found.state == "none":
        return 0, f"{path.name} carries no signed provenance (copies made before it was added)"
    if not found.intact:
        return 1, f"NOT VERIFIED: {path.name}'s signed provenance fails: " + "; ".join(
            found.failures or (found.state,)
        )
    copy = found.copy
    signer = "the operator's root certificate" if trust_pems else f"{found.signer}, NOT checked"
    return 0, (
        f"provenance intact, signed by {signer}: {copy.get('camera')} recorded "
        f"{copy.get('captured_from')} to {copy.get('captured_to')}; source clip (keyed digest) "
        f"{copy.get('source_hmac')}; done to it: {', '.join(found.actions)}; onward-use terms "
        f"{copy.get('terms_version')}: {' '.join(copy.get('onward_use_terms') or [])}"
    )


def check(path: Path, client: HttpClient) -> tuple[int, str]:
    """Look a file's SHA-256 up; returns an exit status and what to print."""
    sha256 = file_sha256(path)
    response = client.get(f"/api/v1/evidence/hash/{sha256}")
    if response.status_code == 404:
        return _check_disclosure(path, sha256, client)
    if response.status_code != 200:
        return 2, f"the server answered {response.status_code}; try again later"
    record = response.json()
    return 0, (
        f"VERIFIED: {path.name} is Doorstep share {record['share_id']} for "
        f"{record['agency_name']}, case {record['case_number']}, shared {record['shared_at']} "
        f"(SHA-256 {sha256}, {record['size']} bytes)"
    )


def _check_disclosure(path: Path, sha256: str, client: HttpClient) -> tuple[int, str]:
    """Not a share: look the file up among copies disclosed under legal process or emergencies."""
    response = client.get(f"/api/v1/evidence/disclosure-hash/{sha256}")
    if response.status_code == 404:
        return 1, (
            f"NOT VERIFIED: {path.name} (SHA-256 {sha256}) is not a file Doorstep delivered; "
            "it may have been altered"
        )
    if response.status_code != 200:
        return 2, f"the server answered {response.status_code}; try again later"
    record = response.json()
    return 0, (
        f"VERIFIED: {path.name} is a Doorstep disclosure ({record['basis']}) to "
        f"{record['agency_name']}, made {record['disclosed_at']} "
        f"(SHA-256 {sha256}, {record['size']} bytes)"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="doorstep evidence", description="Check footage an agency downloaded from Doorstep."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="check a file's SHA-256 against the record")
    verify.add_argument("file", type=Path, help="the downloaded MP4")
    verify.add_argument("--server", default=DEFAULT_SERVER, help="Doorstep's base URL")
    verify.add_argument(
        "--ca",
        type=Path,
        action="append",
        default=[],
        help="the operator's root certificate (PEM) the signature must chain to",
    )
    commands.add_parser("ca", help="print the operator's root certificate (on the server)")
    return parser


def _print_ca() -> int:
    from doorstep.media.provenance import signing_identity
    from doorstep.settings import Settings

    print(signing_identity(Settings().data_dir).root_pem, end="")
    return 0


def _served_root(client: HttpClient) -> list[str]:
    """The root certificate the server publishes, when it publishes one."""
    response = client.get("/api/v1/evidence/provenance-ca")
    text = str(response.text) if response.status_code == 200 else ""
    return [text] if "BEGIN CERTIFICATE" in text else []


def _check_both(path: Path, client: HttpClient, pinned: list[str]) -> tuple[int, str]:
    """The signed provenance first (under ``pinned``, else the served root), then the record."""
    trust = pinned or _served_root(client)
    signed, said = check_provenance(path, trust)
    if trust and not pinned and signed == 0:
        said += " (the root the server serves; pin it with --ca)"
    if signed != 0:
        return signed, said
    status, message = check(path, client)
    return status, said + "\n" + message


def main_evidence(argv: Sequence[str] | None = None, *, http: HttpClient | None = None) -> int:
    """Run ``doorstep evidence``; 0 when the file is a verified share, 1 when it is not."""
    args = _parser().parse_args(argv)
    if args.command == "ca":
        return _print_ca()
    path: Path = args.file
    if not path.is_file():
        print(f"no such file: {path}", file=sys.stderr)
        return 2
    try:
        pinned = [ca.read_text() for ca in args.ca]
    except (OSError, UnicodeDecodeError) as err:
        print(f"cannot read the certificate: {err}", file=sys.stderr)
        return 2
    if http is not None:
        status, message = _check_both(path, http, pinned)
    else:
        try:
            with httpx.Client(base_url=str(args.server).rstrip("/"), timeout=30) as client:
                status, message = _check_both(path, client, pinned)
        except httpx.HTTPError as err:
            print(f"cannot reach {args.server}: {err}", file=sys.stderr)
            return 2
    print(message, file=sys.stdout if status == 0 else sys.stderr)
    return status
