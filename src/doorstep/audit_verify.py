"""`doorstep audit verify`: download the public log and check it against its signed tree head."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx

from doorstep.domain.audit import SignedTreeHead, leaf_hash, root_from_leaves, verify_tree_head

PAGE = 1000


@dataclass(frozen=True, slots=True)
class AuditReport:
    """What verifying the log found."""

    ok: bool
    size: int
    root: str
    problem: str = ""


class HttpClient(Protocol):
    """What verifying needs of an HTTP client: GET with query parameters."""

    def get(self, url: str, *, params: Any = None) -> Any:
        """Fetch ``url``."""
        ...


def verify_server(client: HttpClient) -> AuditReport:
    """Fetch the head and every entry from ``client``'s server and check them all."""
    head_json = client.get("/api/v1/audit/head").raise_for_status().json()
    head = SignedTreeHead(
        size=int(head_json["size"]),
        root=bytes.fromhex(head_json["root"]),
        timestamp=datetime.fromisoformat(head_json["timestamp"]),
        signature=base64.b64decode(head_json["signature"]),
    )
    public_key = base64.b64decode(head_json["public_key"])

    def fail(problem: str) -> AuditReport:
        return AuditReport(False, head.size, head.root.hex(), problem)

    if not verify_tree_head(head, public_key):
        return fail("the tree head's signature does not verify")
    leaves: list[bytes] = []
    while len(leaves) < head.size:
        start = len(leaves)
        params = {"start": start, "end": min(start + PAGE, head.size)}
        page = client.get("/api/v1/audit/entries", params=params).raise_for_status().json()
        if not page:
            return fail(f"entries stop at {start}, the head says {head.size}")
        for offset, entry in enumerate(page):
            if entry["seq"] != start + offset:
                return fail(f"entry {start + offset} is missing or out of order")
            leaf = leaf_hash(entry["body"].encode())
            if leaf.hex() != entry["leaf_hash"]:
                return fail(f"entry {entry['seq']} does not match its leaf hash")
            leaves.append(leaf)
    if root_from_leaves(leaves[: head.size]) != head.root:
        return fail("the entries do not hash to the signed root")
    return AuditReport(True, head.size, head.root.hex())


def verify_url(server: str, *, timeout: float = 30.0) -> AuditReport:
    """Verify the log of the Doorstep server at ``server``."""
    with httpx.Client(base_url=server.rstrip("/"), timeout=timeout) as client:
        return verify_server(client)
