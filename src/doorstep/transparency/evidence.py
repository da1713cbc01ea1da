"""``doorstep evidence verify FILE``: check a downloaded share against Doorstep's public record."""

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


def check(path: Path, client: HttpClient) -> tuple[int, str]:
    """Look a file's SHA-256 up; returns an exit status and what to print."""
    sha256 = file_sha256(path)
    response = client.get(f"/api/v1/evidence/hash/{sha256}")
    if response.status_code == 404:
        return 1, (
            f"NOT VERIFIED: {path.name} (SHA-256 {sha256}) is not a file Doorstep delivered; "
            "it may have been altered"
        )
    if response.status_code != 200:
        return 2, f"the server answered {response.status_code}; try again later"
    record = response.json()
    return 0, (
        f"VERIFIED: {path.name} is Doorstep share {record['share_id']} for "
        f"{record['agency_name']}, case {record['case_number']}, shared {record['shared_at']} "
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
    return parser


def main_evidence(argv: Sequence[str] | None = None, *, http: HttpClient | None = None) -> int:
    """Run ``doorstep evidence``; 0 when the file is a verified share, 1 when it is not."""
    args = _parser().parse_args(argv)
    path: Path = args.file
    if not path.is_file():
        print(f"no such file: {path}", file=sys.stderr)
        return 2
    if http is not None:
        status, message = check(path, http)
    else:
        try:
            with httpx.Client(base_url=str(args.server).rstrip("/"), timeout=30) as client:
                status, message = check(path, client)
        except httpx.HTTPError as err:
            print(f"cannot reach {args.server}: {err}", file=sys.stderr)
            return 2
    print(message, file=sys.stdout if status == 0 else sys.stderr)
    return status
