"""`doorstep audit verify`: check the public log against a pinned key and the last checkpoint.

Nothing the server says is taken on trust: the tree head must be signed by the key the verifier
pinned (not the one the response offers), dated no later than now, and provably an extension of the
checkpoint verified last time (a consistency proof); every entry is downloaded and hashed, every
published head must match the log at its size, and the transparency report's counts of legal
demands and emergency requests must equal the log's.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from doorstep.audit_pins import Pin, PinStore, server_origin, state_folder
from doorstep.domain.audit import (
    MAX_CLOCK_SKEW,
    MerkleLog,
    SignedTreeHead,
    checkpoint_problem,
    head_problem,
    key_fingerprint,
    leaf_hash,
    verify_tree_head,
)

PAGE = 1000


@dataclass(frozen=True, slots=True)
class AuditReport:
    """What verifying the log found.

    ``head`` is the checkpoint to remember when ``ok``; on a failure, the offered head if the
    pinned key signed it (evidence), else None.
    """

    ok: bool
    size: int
    root: str
    problem: str = ""
    head: SignedTreeHead | None = None
    public_key: bytes = b""
    first_use: bool = False


class HttpClient(Protocol):
    """What verifying needs of an HTTP client: GET with query parameters."""

    def get(self, url: str, *, params: Any = None) -> Any:
        """Fetch ``url``."""
        ...


class _Failed(Exception):
    """One verification step found the log wrong; carries the one-line reason."""


def _json(client: HttpClient, url: str, params: Any = None) -> Any:
    return client.get(url, params=params).raise_for_status().json()


def _head(client: HttpClient) -> tuple[SignedTreeHead, bytes]:
    data = _json(client, "/api/v1/audit/head")
    head = _parse_head(data)
    if head.timestamp.tzinfo is None:
        raise ValueError("the tree head's timestamp has no time zone")
    return head, base64.b64decode(data["public_key"], validate=True)


def _parse_head(data: Mapping[str, Any]) -> SignedTreeHead:
    return SignedTreeHead(
        size=int(data["size"]),
        root=bytes.fromhex(data["root"]),
        timestamp=datetime.fromisoformat(data["timestamp"]),
        signature=base64.b64decode(data["signature"], validate=True),
    )


def _entries(client: HttpClient, size: int) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """Every entry of the first ``size``, as (leaf hash, decoded body), checked as it comes."""
    seq = 0
    while seq < size:
        params = {"start": seq, "end": min(seq + PAGE, size)}
        page = _json(client, "/api/v1/audit/entries", params)
        if not page:
            raise _Failed(f"entries stop at {seq}, the signed head says {size}")
        for entry in page:
            if entry["seq"] != seq:
                raise _Failed(f"entry {seq} is missing or out of order")
            leaf = leaf_hash(entry["body"].encode())
            if leaf.hex() != entry["leaf_hash"]:
                raise _Failed(f"entry {seq} does not match its leaf hash")
            body = json.loads(entry["body"])
            if not isinstance(body, dict) or body.get("seq") != seq:
                raise _Failed(f"entry {seq} names another place in the log")
            yield leaf, body
            seq += 1
            if seq == size:
                return


class _Times:
    """Entry times may wobble by a clock's drift; they may not run back or pass the signed head.

    An entry dated back far enough would count in an earlier period of the transparency report, or
    hide a disclosure among older ones; one dated after the head was never in it.
    """

    def __init__(self, head: SignedTreeHead, checkpoint: SignedTreeHead | None) -> None:
        self.ceiling = head.timestamp + MAX_CLOCK_SKEW
        self.latest: datetime | None = None
        self.fresh_from = checkpoint.size if checkpoint else head.size
        self.floor = checkpoint.timestamp - MAX_CLOCK_SKEW if checkpoint else self.ceiling

    def add(self, seq: int, body: Mapping[str, Any]) -> None:
        try:
            at = datetime.fromisoformat(body["at"])
        except (KeyError, TypeError, ValueError) as err:
            raise _Failed(f"entry {seq} has no valid time") from err
        if at.tzinfo is None:
            raise _Failed(f"entry {seq} has a time without a time zone")
        if at > self.ceiling:
            raise _Failed(f"entry {seq} is dated {at.isoformat()}, after the signed head")
        if self.latest is not None and at < self.latest - MAX_CLOCK_SKEW:
            raise _Failed(f"entry {seq} is dated {at.isoformat()}, before earlier entries")
        if seq >= self.fresh_from and at < self.floor:
            raise _Failed(
                f"entry {seq} is dated {at.isoformat()}, before the checkpoint verified "
                "earlier, which did not hold it"
            )
        self.latest = at if self.latest is None else max(self.latest, at)


def _roots_at(
    client: HttpClient, size: int, sizes: set[int], tally: Tally, early: int, times: _Times
) -> tuple[dict[int, bytes], dict[str, int]]:
    """The root after each of ``sizes`` entries, hashed once, and the tally after ``early``."""
    log = MerkleLog()
    roots = {0: log.root()} if 0 in sizes else {}
    counted = dict(tally.counts) if early == 0 else {}
    for leaf, body in _entries(client, size):
        times.add(log.size, body)
        log.append_leaf_hash(leaf)
        tally.add(body)
        if log.size in sizes:
            roots[log.size] = log.root()
        if log.size == early:
            counted = dict(tally.counts)
    if log.size != size:
        raise _Failed(f"entries stop at {log.size}, the signed head says {size}")
    return roots, counted


def _published_heads(client: HttpClient, key: bytes) -> list[Mapping[str, Any]]:
    """Every head the server says it published, page by page, each page under the pinned key."""
    heads: list[Mapping[str, Any]] = []
    start: int | None = 0
    while start is not None:
        page = _json(client, "/api/v1/audit/heads", {"start": start})
        offered = base64.b64decode(page["public_key"], validate=True)
        if offered != key:
            raise _Failed(_key_changed(key, offered))
        heads.extend(page["heads"])
        following = page.get("next_start")
        if following is not None and int(following) <= start:
            raise _Failed("the published heads' pages do not move on")
        start = None if following is None else int(following)
    return heads


def _check_published_heads(
    history: list[Mapping[str, Any]], key: bytes, head: SignedTreeHead, roots: Mapping[int, bytes]
) -> None:
    previous: SignedTreeHead | None = None
    for item in history:
        published = _parse_head(item)
        if not verify_tree_head(published, key):
            raise _Failed(f"the published head at {published.size} entries is not signed by it")
        if previous is not None and (
            published.size <= previous.size
            or published.timestamp < previous.timestamp - MAX_CLOCK_SKEW
        ):
            raise _Failed(f"the published heads go back from {previous.size} entries")
        if published.size <= head.size and roots.get(published.size) != published.root:
            raise _Failed(
                f"the log forked: the head published at {published.size} entries does not "
                "match the log"
            )
        previous = published


#: The report's name for each kind of legal demand.
_RECEIVED = {
    "warrant": "warrants",
    "subpoena": "subpoenas",
    "court_order": "court_orders",
}


class Tally:
    """Legal demands and emergency requests as the transparency report counts them, from the log."""

    def __init__(self) -> None:
        """Start from nothing."""
        self.counts: dict[str, int] = {}
        self._kind_of: dict[str, str] = {}

    def _bump(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def add(self, body: Mapping[str, Any]) -> None:
        """Count one entry's body."""
        action, detail = body.get("action"), body.get("detail") or {}
        if action == "legal_demand.record" and detail.get("kind") in _RECEIVED:
            prefix = _RECEIVED[detail["kind"]]
            self._kind_of[str(detail.get("demand"))] = prefix
            self._bump(f"{prefix}_received")
        elif action == "legal_demand.close" and str(detail.get("demand")) in self._kind_of:
            self._bump(f"{self._kind_of[str(detail['demand'])]}_{detail.get('outcome')}")
        elif action == "emergency.file":
            self._bump("emergency_received")
        elif action == "emergency.refuse":
            self._bump("emergency_refused")
        elif action == "emergency.approve" and detail.get("state") == "approved":
            self._bump("emergency_granted")


_REPORTED = [
    *(f"{p}_{s}" for p in _RECEIVED.values() for s in ("received", "complied_full")),
    *(f"{p}_{s}" for p in _RECEIVED.values() for s in ("complied_partial", "rejected")),
    "emergency_received",
    "emergency_granted",
    "emergency_refused",
]


def _reported(report: Mapping[str, Any]) -> dict[str, int]:
    totals = dict.fromkeys(_REPORTED, 0)
    for row in report["periods"]:
        if row["agency_id"] == "*":
            for name in _REPORTED:
                totals[name] += int(row[name])
    return totals


def _check_report(
    reported: Mapping[str, int], before: Mapping[str, int], after: Mapping[str, int]
) -> None:
    """Each count must lie between the log's count before and after the report was read."""
    for name in _REPORTED:
        low, high = before.get(name, 0), after.get(name, 0)
        if not low <= reported[name] <= high:
            logged = str(high) if low == high else f"{low} to {high}"
            raise _Failed(
                f"the transparency report gives {name} = {reported[name]}, the log records {logged}"
            )


def _key_changed(pinned: bytes, offered: bytes) -> str:
    return (
        f"the log's key changed: pinned {key_fingerprint(pinned)}, "
        f"the server now signs with {key_fingerprint(offered)}"
    )


def verify_server(
    client: HttpClient,
    *,
    key: bytes | None = None,
    checkpoint: SignedTreeHead | None = None,
    now: datetime | None = None,
) -> AuditReport:
    """Check ``client``'s server against the pinned ``key`` and the remembered ``checkpoint``.

    Without a ``key`` the server's own is used and the report says ``first_use``: that proves only
    that the log agrees with itself. Only a pinned key and a remembered checkpoint (as
    ``verify_and_remember`` keeps them) show the operator did not rewrite it.
    """
    moment = now or datetime.now(UTC)
    before, offered_before = _head(client)
    report = _json(client, "/api/v1/transparency")
    head, offered = _head(client)
    pinned = offered if key is None else key

    signed_by_pin = False

    def fail(problem: str) -> AuditReport:
        # A head the pinned key signed, beside the problem, is the operator's own word against it.
        return AuditReport(
            False,
            head.size,
            head.root.hex(),
            problem,
            head=head if signed_by_pin else None,
            public_key=pinned,
        )

    try:
        for key_offered in (offered_before, offered):
            if key_offered != pinned:
                raise _Failed(_key_changed(pinned, key_offered))
        for signed in (before, head):
            problem = head_problem(signed, pinned, moment)
            if problem:
                raise _Failed(problem)
        signed_by_pin = True
        if before.size > head.size:
            raise _Failed(f"the log shrank from {before.size} to {head.size} entries")
        if checkpoint is not None:
            proof: list[bytes] = []
            if 0 < checkpoint.size < head.size:
                params = {"old": checkpoint.size, "new": head.size}
                hexes = _json(client, "/api/v1/audit/proof/consistency", params)["proof"]
                proof = [bytes.fromhex(h) for h in hexes]
            problem = checkpoint_problem(checkpoint, head, proof)
            if problem:
                raise _Failed(problem)
        history = _published_heads(client, pinned)
        sizes = {head.size, before.size, *(int(h["size"]) for h in history)}
        if checkpoint is not None:
            sizes.add(checkpoint.size)
        tally = Tally()
        times = _Times(head, checkpoint)
        roots, early = _roots_at(client, head.size, sizes, tally, before.size, times)
        if roots[head.size] != head.root:
            raise _Failed("the entries do not hash to the signed root")
        if checkpoint is not None and roots.get(checkpoint.size) != checkpoint.root:
            raise _Failed(
                f"the log forked: its first {checkpoint.size} entries changed since verified"
            )
        _check_published_heads(history, pinned, head, roots)
        _check_report(_reported(report), early, tally.counts)
    except _Failed as failed:
        return fail(str(failed))
    return AuditReport(
        True, head.size, head.root.hex(), head=head, public_key=pinned, first_use=key is None
    )


@dataclass(frozen=True, slots=True)
class PinnedReport:
    """A verification against a server's pin, and what it remembered."""

    report: AuditReport
    origin: str
    pinned_now: bool
    saved_to: str = ""
    evidence: str = ""


def verify_and_remember(
    server: str,
    *,
    key: bytes | None = None,
    store: PinStore | None = None,
    client: HttpClient | None = None,
    timeout: float = 30.0,
) -> PinnedReport:
    """Verify ``server`` against its pin (made now on first use) and remember the new checkpoint.

    A ``key`` given here must match the pin already kept; the pin is written only when the whole
    log verified, so a failed run leaves the last good checkpoint in place. A failure against a
    head the pinned key signed keeps both heads beside the pin: together they prove the operator
    signed two histories that cannot both be true.
    """
    origin = server_origin(server)
    pins = store or PinStore(state_folder())
    pin = pins.load(origin)
    if pin is not None and key is not None and key != pin.public_key:
        problem = (
            f"the key given ({key_fingerprint(key)}) is not the key pinned for {origin} "
            f"({key_fingerprint(pin.public_key)}) in {pins.path_for(origin)}; "
            "remove that file to pin again"
        )
        return PinnedReport(AuditReport(False, 0, "", problem), origin, False)
    pinned = pin.public_key if pin else key
    checkpoint = pin.checkpoint if pin else None
    if client is None:
        with httpx.Client(base_url=server.rstrip("/"), timeout=timeout) as http:
            report = verify_server(http, key=pinned, checkpoint=checkpoint)
    else:
        report = verify_server(client, key=pinned, checkpoint=checkpoint)
    if not report.ok:
        evidence = ""
        if checkpoint is not None and report.head is not None:
            kept = pins.keep_evidence(origin, checkpoint, report.head, report.problem)
            evidence = str(kept)
        return PinnedReport(report, origin, False, evidence=evidence)
    if report.head is None:
        return PinnedReport(report, origin, False)
    saved = pins.save(Pin(origin, report.public_key, report.head))
    return PinnedReport(report, origin, pin is None, str(saved))


def verify_url(server: str, *, timeout: float = 30.0) -> AuditReport:
    """Check that the log of the server at ``server`` agrees with itself, remembering nothing.

    This trusts the key the server offers: it is a self-check, not a check against the operator.
    """
    with httpx.Client(base_url=server.rstrip("/"), timeout=timeout) as client:
        return verify_server(client)
